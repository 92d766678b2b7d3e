-- grain: one row per channel over [@start_date, @end_date) (channel NULL = revenue no campaign earned):
-- spend, attributed revenue, orders, profit
-- The dashboard's performance and tiles for a chosen range (tower.api.ranges).
-- Sums are NUMERIC, cast to FLOAT64 after: a FLOAT64 sum's last bits depend on the order rows arrive in,
-- and a redelivered, reordered load must give the same figures (the dashboard cache, R2).
SELECT
  channel,
  CAST(SUM(spend_amount) AS FLOAT64) AS spend,
  CAST(SUM(attributed_revenue_amount) AS FLOAT64) AS revenue,
  CAST(SUM(CAST(attributed_orders AS NUMERIC)) AS FLOAT64) AS orders,
  CAST(SUM(profit_amount) AS FLOAT64) AS profit
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date >= @start_date
  AND performance_date < @end_date
  AND attribution_model = @attribution_model
GROUP BY channel
ORDER BY channel ASC
