-- grain: one row per campaign over [@start_date, @end_date): spend, attributed revenue, ROAS, profit, budget, status
-- Named Q&A query "campaign_detail"; @channel and @campaign_id filter ('' = all), biggest spenders first.
WITH perf AS (
  SELECT
    channel AS platform,
    account_id,
    campaign_id,
    MAX(campaign_name) AS campaign_name,
    SUM(CAST(spend_amount AS FLOAT64)) AS spend,
    SUM(CAST(attributed_revenue_amount AS FLOAT64)) AS revenue,
    SUM(CAST(profit_amount AS FLOAT64)) AS profit,
    SUM(attributed_orders) AS orders
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date >= @start_date
    AND performance_date < @end_date
    AND attribution_model = @attribution_model
    AND campaign_id IS NOT NULL
    AND (@channel = '' OR channel = @channel)
    AND (@campaign_id = '' OR campaign_id = @campaign_id)
  GROUP BY channel, account_id, campaign_id
)

SELECT
  p.platform,
  p.account_id,
  p.campaign_id,
  COALESCE(c.campaign_name, p.campaign_name) AS campaign_name,
  c.status,
  c.daily_budget_amount AS daily_budget,
  c.currency AS budget_currency,
  ROUND(p.spend, 2) AS spend,
  ROUND(p.revenue, 2) AS revenue,
  ROUND(SAFE_DIVIDE(p.revenue, p.spend), 2) AS roas,
  ROUND(p.profit, 2) AS profit,
  ROUND(p.orders, 1) AS orders
FROM perf AS p
LEFT JOIN ad_campaigns AS c
  ON c.brand_id = @brand_id AND c.platform = p.platform AND c.campaign_id = p.campaign_id
ORDER BY p.spend DESC, p.campaign_id ASC
LIMIT @row_limit
