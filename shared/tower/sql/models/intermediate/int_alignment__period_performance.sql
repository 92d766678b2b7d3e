-- Intermediate: inventory_alignment's spend and attributed revenue over the @alignment_days days ending on
-- @as_of_date, per channel × country × region × product (channel NULL: revenue no campaign earned). Spend per
-- product is the shared rule's (rules/window_spend.sql: each campaign's spend in a geography by its product mix
-- over the window, equally over its promoted products when it earned nothing, product NULL when it names none).
-- A campaign that reports a country's spend only at country level has its orders' regional revenue on that
-- country row (region_code '').
WITH window_rows AS (
  SELECT
    0 AS window_key, channel, account_id, campaign_id, country_code, region_code, location_id, product_id,
    CAST(spend_amount AS FLOAT64) AS spend,
    CAST(attributed_revenue_amount AS FLOAT64) AS revenue
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date > CAST(DATE_SUB(@as_of_date, INTERVAL @alignment_days DAY) AS DATE)
    AND performance_date <= @as_of_date
    AND attribution_model = @attribution_model
),

-- A campaign that reports a country's spend only at country level (region_code '': Google Ads' geographic
-- view of a country target, a platform without the region breakdown) still earns orders that carry their
-- region. Unless that revenue joins the spend, the country row shows spend without revenue and the region
-- rows revenue without spend (and are dropped by the mart): its regional revenue is rolled onto its country row.
country_reported AS (
  SELECT channel, campaign_id, country_code
  FROM window_rows
  WHERE channel IS NOT NULL
  GROUP BY channel, campaign_id, country_code
  HAVING SUM(CASE WHEN region_code = '' THEN spend ELSE 0 END) > 0
    AND SUM(CASE WHEN region_code <> '' THEN COALESCE(spend, 0) ELSE 0 END) = 0
),

contributions AS (
  SELECT
    channel, country_code, region_code, product_id,
    spend AS spend_amount, 0.0 AS attributed_revenue_amount
  FROM window_spend
  UNION ALL
  SELECT
    w.channel,
    w.country_code,
    CASE WHEN c.campaign_id IS NULL THEN w.region_code ELSE '' END AS region_code,
    w.product_id,
    CAST(NULL AS FLOAT64) AS spend_amount,
    w.revenue AS attributed_revenue_amount
  FROM window_rows AS w
  LEFT JOIN country_reported AS c
    ON c.channel = w.channel AND c.campaign_id = w.campaign_id AND c.country_code = w.country_code
)

SELECT
  channel,
  country_code,
  region_code,
  product_id,
  SUM(spend_amount) AS spend_amount,
  SUM(attributed_revenue_amount) AS attributed_revenue_amount
FROM contributions
GROUP BY channel, country_code, region_code, product_id
