-- Intermediate: each line's part of its order's net revenue. revenue_share is the line's value
-- after its discount and refunds over the order's total of the same (by quantity when every line nets to zero),
-- so an order's revenue, orders and fulfilment cost split over its products add back up to the order's.
WITH order_totals AS (
  SELECT order_key, SUM(line_value) AS order_value, SUM(quantity) AS order_quantity
  FROM int_shopify__order_lines
  GROUP BY order_key
)

SELECT
  l.brand_id,
  l.order_id,
  l.order_key,
  l.line_item_id,
  l.order_date,
  l.order_at,
  l.country_code,
  l.region_code,
  l.product_id,
  l.variant_id,
  l.quantity,
  l.refunded_quantity,
  l.net_quantity,
  l.line_value,
  l.unit_cost_amount,
  l.currency,
  COALESCE(SAFE_DIVIDE(l.line_value, t.order_value), SAFE_DIVIDE(l.quantity, t.order_quantity)) AS revenue_share
FROM int_shopify__order_lines AS l
INNER JOIN order_totals AS t ON t.order_key = l.order_key
