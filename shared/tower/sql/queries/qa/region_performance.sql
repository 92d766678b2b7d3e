-- grain: one row per country × region over [@start_date, @end_date): spend, revenue, ad revenue, profit, ROAS
-- Named Q&A query "region_performance". With @channel = '' revenue is all store revenue of the region
-- (attributed or not, like the snapshot's region scope); ad_revenue what ad campaigns (of @channel, when
-- given) were credited with; ROAS = ad_revenue ÷ spend.
SELECT
  country_code,
  region_code,
  ROUND(SUM(CAST(spend_amount AS FLOAT64)), 2) AS spend,
  ROUND(SUM(CAST(attributed_revenue_amount AS FLOAT64)), 2) AS revenue,
  ROUND(SUM(IF(channel IS NOT NULL, CAST(attributed_revenue_amount AS FLOAT64), 0)), 2) AS ad_revenue,
  ROUND(SUM(CAST(profit_amount AS FLOAT64)), 2) AS profit,
  ROUND(SAFE_DIVIDE(
    SUM(IF(channel IS NOT NULL, CAST(attributed_revenue_amount AS FLOAT64), 0)),
    SUM(CAST(spend_amount AS FLOAT64))
  ), 2) AS roas
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date >= @start_date
  AND performance_date < @end_date
  AND attribution_model = @attribution_model
  AND region_code IS NOT NULL
  AND region_code != ''
  AND (@channel = '' OR channel = @channel)
GROUP BY country_code, region_code
ORDER BY revenue DESC, region_code ASC
LIMIT @row_limit
