-- grain: one row per campaign × day over (@start_date, @as_of_date]: spend in the store currency
SELECT
  channel, account_id, campaign_id,
  MAX(campaign_name) AS campaign_name,
  performance_date,
  SUM(CAST(spend_amount AS FLOAT64)) AS spend
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date > @start_date
  AND performance_date <= @as_of_date
  AND attribution_model = @attribution_model
  AND channel IS NOT NULL
  AND campaign_id IS NOT NULL
GROUP BY channel, account_id, campaign_id, performance_date
ORDER BY channel, account_id, campaign_id, performance_date
