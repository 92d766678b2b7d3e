-- grain: one row per ad channel over [@start_date, @end_date) (spend, attributed revenue, orders, profit, ROAS),
-- then one row with channel 'total': all ad spend against ALL store revenue (attributed or not), its ROAS the
-- blended ROAS of the dashboard's summary (performance_snapshots' blended scope); ad_revenue is what the
-- channels were credited with. Named Q&A query "channel_performance".
WITH by_channel AS (
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
),

rows_out AS (
  SELECT
    0 AS is_total,
    channel,
    spend,
    revenue,
    CAST(NULL AS FLOAT64) AS ad_revenue,
    orders,
    profit
  FROM by_channel
  WHERE channel IS NOT NULL
  UNION ALL
  SELECT
    1 AS is_total,
    'total' AS channel,
    SUM(spend) AS spend,
    SUM(revenue) AS revenue,
    SUM(IF(channel IS NOT NULL, revenue, 0)) AS ad_revenue,
    SUM(orders) AS orders,
    SUM(profit) AS profit
  FROM by_channel
  HAVING COUNT(*) > 0
)

SELECT
  channel,
  ROUND(spend, 2) AS spend,
  ROUND(revenue, 2) AS revenue,
  ROUND(ad_revenue, 2) AS ad_revenue,
  ROUND(orders, 1) AS orders,
  ROUND(profit, 2) AS profit,
  ROUND(SAFE_DIVIDE(revenue, spend), 2) AS roas
FROM rows_out
ORDER BY is_total ASC, revenue DESC, channel ASC
LIMIT @row_limit
