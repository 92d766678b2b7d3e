-- grain: one row per channel over [@start_date, @end_date) (channel NULL = revenue no campaign earned):
-- spend, attributed revenue, orders, profit
-- The dashboard's performance and tiles for a chosen range (tower.api.ranges).
SELECT
  channel,
  SUM(CAST(spend_amount AS FLOAT64)) AS spend,
  SUM(CAST(attributed_revenue_amount AS FLOAT64)) AS revenue,
  SUM(attributed_orders) AS orders,
  SUM(CAST(profit_amount AS FLOAT64)) AS profit
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date >= @start_date
  AND performance_date < @end_date
  AND attribution_model = @attribution_model
GROUP BY channel
