-- grain: one row per region (or country, when the platform reported no region) of one channel
-- over [@start_date, @end_date): spend, attributed revenue
-- A channel drilldown for a chosen range (tower.api.ranges).
SELECT
  COALESCE(NULLIF(region_code, ''), country_code) AS geo,
  SUM(CAST(spend_amount AS FLOAT64)) AS spend,
  SUM(CAST(attributed_revenue_amount AS FLOAT64)) AS revenue
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date >= @start_date
  AND performance_date < @end_date
  AND attribution_model = @attribution_model
  AND channel = @channel
GROUP BY geo
ORDER BY spend DESC, geo ASC
