-- grain: one row per ad channel over [@start_date, @end_date): spend, attributed revenue, orders, profit, ROAS
-- Named Q&A query "channel_performance".
SELECT
  channel,
  ROUND(SUM(CAST(spend_amount AS FLOAT64)), 2) AS spend,
  ROUND(SUM(CAST(attributed_revenue_amount AS FLOAT64)), 2) AS revenue,
  ROUND(SUM(attributed_orders), 1) AS orders,
  ROUND(SUM(CAST(profit_amount AS FLOAT64)), 2) AS profit,
  ROUND(SAFE_DIVIDE(SUM(CAST(attributed_revenue_amount AS FLOAT64)), SUM(CAST(spend_amount AS FLOAT64))), 2) AS roas
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date >= @start_date
  AND performance_date < @end_date
  AND attribution_model = @attribution_model
  AND channel IS NOT NULL
GROUP BY channel
ORDER BY revenue DESC, channel ASC
LIMIT @row_limit
