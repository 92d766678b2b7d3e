-- grain: one row per Shopify fulfillment order: the units of an order routed to one location
CREATE TABLE IF NOT EXISTS fulfillment_orders (
  brand_id STRING NOT NULL,
  fulfillment_order_id STRING NOT NULL,  -- gid://shopify/FulfillmentOrder/N
  order_id STRING NOT NULL,
  location_id STRING,                    -- assigned location: where its units ship (CLOSED: shipped) from
  status STRING,                         -- OPEN | IN_PROGRESS | CLOSED (fulfilled) | CANCELLED | ...
  updated_at TIMESTAMP
)
CLUSTER BY brand_id, order_id;
