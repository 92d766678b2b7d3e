-- grain: one row per fulfillment order line item: how many units of an order line a fulfillment order holds
CREATE TABLE IF NOT EXISTS fulfillment_order_line_items (
  brand_id STRING NOT NULL,
  fulfillment_order_line_item_id STRING NOT NULL,  -- gid://shopify/FulfillmentOrderLineItem/N
  fulfillment_order_id STRING NOT NULL,
  line_item_id STRING NOT NULL,
  quantity INT64 NOT NULL                          -- totalQuantity: units to fulfil (or fulfilled) here
)
CLUSTER BY brand_id, fulfillment_order_id;
