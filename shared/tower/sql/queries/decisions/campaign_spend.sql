-- grain: one row per product × channel × country × region × location × campaign over (@start_date, @as_of_date]
-- Which campaigns spent on what, with each campaign's current daily budget (account currency) and status. Spend per
-- product is the shared rule's over this window (rules/window_spend.sql; product NULL: a campaign that names no
-- products and earned nothing, its spend unallocated).
WITH window_rows AS (
  SELECT
    0 AS window_key, channel, account_id, campaign_id, campaign_name, country_code, region_code, location_id,
    product_id, CAST(spend_amount AS FLOAT64) AS spend,
    CAST(attributed_revenue_amount AS FLOAT64) AS revenue
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date > @start_date
    AND performance_date <= @as_of_date
    AND attribution_model = @attribution_model
    AND channel IS NOT NULL
    AND campaign_id IS NOT NULL
),

names AS (
  SELECT channel, campaign_id, MAX(campaign_name) AS campaign_name
  FROM window_rows
  GROUP BY channel, campaign_id
),

spend AS (
  SELECT
    w.product_id, w.channel, w.country_code,
    COALESCE(w.region_code, '') AS region_code,
    COALESCE(w.location_id, '') AS location_id,
    w.account_id, w.campaign_id,
    MAX(n.campaign_name) AS campaign_name,
    SUM(w.spend) AS spend
  FROM window_spend AS w
  LEFT JOIN names AS n ON n.channel = w.channel AND n.campaign_id = w.campaign_id
  GROUP BY w.product_id, w.channel, w.country_code, region_code, location_id, w.account_id, w.campaign_id
  HAVING SUM(w.spend) > 0
)

SELECT
  s.product_id, s.channel, s.country_code, s.region_code, s.location_id, s.account_id, s.campaign_id,
  COALESCE(c.campaign_name, s.campaign_name) AS campaign_name,
  s.spend,
  CAST(c.daily_budget_amount AS FLOAT64) AS daily_budget,
  c.currency AS account_currency,
  c.status
FROM spend AS s
LEFT JOIN ad_campaigns AS c
  ON c.brand_id = @brand_id AND c.platform = s.channel AND c.campaign_id = s.campaign_id
ORDER BY s.product_id ASC, s.channel ASC, s.region_code ASC, s.spend DESC, s.campaign_id ASC
