-- grain: one row: the store's net revenue and orders over [@start_date, @end_date), and the part of the
-- revenue from new customers. A new customer's order is the first order of its hashed customer (no earlier
-- order of the brand); orders without a customer count as repeat.
-- Sums are NUMERIC, cast to FLOAT64 after: a FLOAT64 sum's last bits depend on the order rows arrive in,
-- and a redelivered, reordered load must give the same figures (the dashboard cache, R2).
WITH firsts AS (
  SELECT customer_hash, MIN(created_at) AS first_at
  FROM orders
  WHERE brand_id = @brand_id
    AND order_date < @end_date
    AND customer_hash IS NOT NULL
  GROUP BY customer_hash
)

SELECT
  CAST(COALESCE(SUM(o.net_revenue_amount), 0) AS FLOAT64) AS revenue,
  COUNTIF(o.cancelled_at IS NULL) AS orders,
  CAST(COALESCE(SUM(IF(o.created_at = f.first_at, o.net_revenue_amount, 0)), 0) AS FLOAT64) AS new_customer_revenue
FROM orders AS o
LEFT JOIN firsts AS f ON f.customer_hash = o.customer_hash
WHERE o.brand_id = @brand_id
  AND o.order_date >= @start_date
  AND o.order_date < @end_date
