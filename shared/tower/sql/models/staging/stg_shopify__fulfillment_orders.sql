-- Staging: the brand's Shopify fulfillment orders: which location each group of an order's units is assigned
-- to. Once fulfilled (CLOSED) that is the location the units shipped from: Shopify fulfils a fulfillment order
-- only at its assigned location (shipping from elsewhere moves it first, which reassigns it).
SELECT
  brand_id,
  fulfillment_order_id,
  order_id,
  location_id,
  status
FROM fulfillment_orders
WHERE brand_id = @brand_id
