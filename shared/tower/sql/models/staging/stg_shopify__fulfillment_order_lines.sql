-- Staging: the brand's fulfillment order line items: how many units of an order line a fulfillment order holds.
SELECT
  brand_id,
  fulfillment_order_line_item_id,
  fulfillment_order_id,
  line_item_id,
  quantity
FROM fulfillment_order_line_items
WHERE brand_id = @brand_id
