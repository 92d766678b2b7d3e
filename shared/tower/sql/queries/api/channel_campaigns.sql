-- grain: one row per campaign of one channel over [@start_date, @end_date): spend, attributed revenue;
-- biggest spenders first
-- A channel drilldown for a chosen range (tower.api.ranges).
-- Sums are NUMERIC, cast to FLOAT64 after: a FLOAT64 sum's last bits depend on the order rows arrive in,
-- and a redelivered, reordered load must give the same figures (the dashboard cache, R2).
SELECT
  campaign_id,
  MAX(campaign_name) AS campaign_name,
  CAST(SUM(spend_amount) AS FLOAT64) AS spend,
  CAST(SUM(attributed_revenue_amount) AS FLOAT64) AS revenue
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date >= @start_date
  AND performance_date < @end_date
  AND attribution_model = @attribution_model
  AND channel = @channel
  AND campaign_id IS NOT NULL
GROUP BY campaign_id
ORDER BY spend DESC, campaign_id ASC
LIMIT @row_limit
