-- Intermediate: inventory_alignment's spend and attributed revenue over the @alignment_days days ending on
-- @as_of_date, per channel × country × region × product (channel NULL: revenue no campaign earned). A
-- campaign's spend is split over products by its product mix: their shares of all the revenue the campaign
-- earned over the window, and each geography's spend by that same mix. A campaign that reports a country's spend
-- only at country level has its orders' regional revenue on that country row (region_code '').
WITH period_rows AS (
  SELECT channel, campaign_id, country_code, region_code, product_id, spend_amount, attributed_revenue_amount
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date > CAST(DATE_SUB(@as_of_date, INTERVAL @alignment_days DAY) AS DATE)
    AND performance_date <= @as_of_date
    AND attribution_model = @attribution_model
),

-- A campaign that reports a country's spend only at country level (region_code '': Google Ads' geographic
-- view of a country target, a platform without the region breakdown) still earns orders that carry their
-- region. Unless that revenue joins the spend, the country row shows spend without revenue and the region
-- rows revenue without spend (and are dropped below): its regional revenue is rolled onto its country row.
country_reported AS (
  SELECT channel, campaign_id, country_code
  FROM period_rows
  WHERE channel IS NOT NULL
  GROUP BY channel, campaign_id, country_code
  HAVING SUM(CASE WHEN region_code = '' THEN CAST(spend_amount AS FLOAT64) ELSE 0 END) > 0
    AND SUM(CASE WHEN region_code <> '' THEN COALESCE(CAST(spend_amount AS FLOAT64), 0) ELSE 0 END) = 0
),

geo_rows AS (
  SELECT
    p.channel,
    p.campaign_id,
    p.country_code,
    CASE WHEN c.campaign_id IS NULL THEN p.region_code ELSE '' END AS region_code,
    p.product_id,
    CAST(p.spend_amount AS FLOAT64) AS spend,
    CAST(p.attributed_revenue_amount AS FLOAT64) AS revenue
  FROM period_rows AS p
  LEFT JOIN country_reported AS c
    ON c.channel = p.channel AND c.campaign_id = p.campaign_id AND c.country_code = p.country_code
),

-- Over the window, a campaign's spend is split over products by their shares of all the revenue the campaign
-- earned (its product mix), and each geography's spend by that same mix. unified_performance splits each day's
-- spend by what that day earned and, on the days a thin campaign earns nothing (most days, for a campaign with a
-- few orders a week), equally over the products it promotes; summed over a month that equal part drowns what
-- the campaign actually sold. The mix is the campaign's (its ads and catalogue), not a state's: a month of one
-- state's orders is too few to measure it. Where a campaign earned nothing all window, the daily split stands.
campaign_geo AS (
  SELECT channel, campaign_id, country_code, region_code, product_id, SUM(spend) AS spend, SUM(revenue) AS revenue
  FROM geo_rows
  WHERE channel IS NOT NULL
  GROUP BY channel, campaign_id, country_code, region_code, product_id
),

geo_spend AS (
  SELECT channel, campaign_id, country_code, region_code, SUM(spend) AS spend
  FROM campaign_geo
  GROUP BY channel, campaign_id, country_code, region_code
),

product_mix AS (
  SELECT
    channel, campaign_id, product_id,
    GREATEST(COALESCE(SUM(revenue), 0), 0) AS earned,
    SUM(GREATEST(COALESCE(SUM(revenue), 0), 0)) OVER (PARTITION BY channel, campaign_id) AS campaign_earned
  FROM campaign_geo
  WHERE product_id IS NOT NULL
  GROUP BY channel, campaign_id, product_id
),

earning_campaigns AS (
  SELECT DISTINCT channel, campaign_id
  FROM product_mix
  WHERE campaign_earned > 0
),

contributions AS (
  -- spend of campaigns that earned: each geography's spend by the campaign's product mix
  SELECT
    g.channel, g.country_code, g.region_code, m.product_id,
    g.spend * m.earned / m.campaign_earned AS spend_amount,
    CAST(NULL AS FLOAT64) AS attributed_revenue_amount
  FROM geo_spend AS g
  INNER JOIN product_mix AS m ON m.channel = g.channel AND m.campaign_id = g.campaign_id
  WHERE m.campaign_earned > 0 AND m.earned > 0
  UNION ALL
  -- revenue where it was earned; spend of campaigns that earned nothing as the day-level mart split it
  SELECT
    c.channel, c.country_code, c.region_code, c.product_id,
    CASE WHEN e.campaign_id IS NULL THEN c.spend END AS spend_amount,
    c.revenue AS attributed_revenue_amount
  FROM campaign_geo AS c
  LEFT JOIN earning_campaigns AS e ON e.channel = c.channel AND e.campaign_id = c.campaign_id
  UNION ALL
  SELECT channel, country_code, region_code, product_id, spend, revenue
  FROM geo_rows
  WHERE channel IS NULL
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
