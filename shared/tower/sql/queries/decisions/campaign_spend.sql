-- grain: one row per product × channel × country × region × location × campaign over (@start_date, @as_of_date]
-- Which campaigns spent on what, with each campaign's current daily budget (account currency) and status.
WITH spend AS (
  SELECT
    product_id, channel, country_code,
    COALESCE(region_code, '') AS region_code,
    COALESCE(location_id, '') AS location_id,
    account_id, campaign_id,
    MAX(campaign_name) AS campaign_name,
    SUM(CAST(spend_amount AS FLOAT64)) AS spend
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date > @start_date
    AND performance_date <= @as_of_date
    AND attribution_model = @attribution_model
    AND channel IS NOT NULL
    AND campaign_id IS NOT NULL
  GROUP BY product_id, channel, country_code, region_code, location_id, account_id, campaign_id
  HAVING SUM(CAST(spend_amount AS FLOAT64)) > 0
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
