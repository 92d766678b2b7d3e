-- grain: one row per day and channel over [@start_date, @end_date): spend, attributed revenue, attributed orders
-- The page's day-by-day chart (GET /api/brands/{id}/series); @channel '' = every channel.
-- Days without rows are zero-filled in Python.
-- Sums are NUMERIC, cast to FLOAT64 after: a FLOAT64 sum's last bits depend on the order rows arrive in,
-- and a redelivered, reordered load must give the same figures (the dashboard cache, R2).
SELECT
  performance_date AS day,
  channel,
  CAST(SUM(spend_amount) AS FLOAT64) AS spend,
  CAST(SUM(attributed_revenue_amount) AS FLOAT64) AS revenue,
  CAST(SUM(CAST(attributed_orders AS NUMERIC)) AS FLOAT64) AS orders
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date >= @start_date
  AND performance_date < @end_date
  AND attribution_model = @attribution_model
  AND channel IS NOT NULL
  AND (@channel = '' OR channel = @channel)
GROUP BY performance_date, channel
ORDER BY day, channel
