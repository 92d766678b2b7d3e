-- grain: one row per scope (blended | channel | channel_region) × channel × region on @as_of_date: this and the
-- previous period
SELECT
  scope,
  COALESCE(channel, '') AS channel,
  COALESCE(region_code, '') AS region_code,
  period_days,
  CAST(spend_amount AS FLOAT64) AS spend,
  CAST(revenue_amount AS FLOAT64) AS revenue,
  CAST(prev_spend_amount AS FLOAT64) AS prev_spend,
  CAST(prev_revenue_amount AS FLOAT64) AS prev_revenue,
  CAST(profit_amount AS FLOAT64) AS profit,
  CAST(prev_profit_amount AS FLOAT64) AS prev_profit
FROM performance_snapshots
WHERE brand_id = @brand_id
  AND as_of_date = @as_of_date
  AND scope IN ('blended', 'channel', 'channel_region')
ORDER BY scope, channel, region_code
