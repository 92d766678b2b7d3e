-- grain: one row per as_of_date × product at level 'product', and per as_of_date × product × channel × country × region at level 'product_channel_region'; as_of_date = @as_of_date
-- Mart: is ad money going where the stock is? Over the @alignment_days days ending on @as_of_date:
--   spend_share   level 'product': the product's spend ÷ all the brand's spend (spend tied to no product
--                 included, it is still spend); level 'product_channel_region': the product's spend ÷ all spend
--                 of that channel in that region ("of what TikTok spends in Texas, 35% pushes SKU-A")
--   spend         a campaign's spend in a geography over the window, split over products by the campaign's product
--                 mix (their shares of all it earned, see campaign_geo); a campaign that reports a country's spend
--                 only at country level has its orders' regional revenue on that country row (see country_reported)
--   inventory     units available on @as_of_date: across all locations (product level), at the location serving
--                 the region (region level; a country-only region uses the product's total)
--   days_of_cover Σ available ÷ Σ velocity over the product's variants (NULL: it does not sell)
--   mismatch_type exactly the product plan's rules, first match wins:
--     spending_on_stockout     no stock and spend > 0
--     overspending_low_stock   cover < @cover_low_days and spend share > @high_share
--     underspending_overstock  cover > @cover_overstock_days (or stock that does not sell) and share < @low_share
--     aligned                  otherwise
-- Level 'product' lists every active product with stock or spend; the region level lists spending combinations.
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

period AS (
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
),

stock AS (
  SELECT product_id, location_id, SUM(available) AS units, SUM(velocity_per_day) AS velocity
  FROM days_of_cover
  WHERE brand_id = @brand_id AND snapshot_date = @as_of_date AND product_id IS NOT NULL
  GROUP BY product_id, location_id
),

product_stock AS (
  SELECT product_id, SUM(units) AS units, SUM(velocity) AS velocity
  FROM stock
  GROUP BY product_id
),

product_perf AS (
  SELECT
    product_id,
    SUM(CAST(spend_amount AS FLOAT64)) AS spend,
    SUM(CAST(attributed_revenue_amount AS FLOAT64)) AS revenue
  FROM period
  WHERE product_id IS NOT NULL
  GROUP BY product_id
),

brand_spend AS (
  SELECT SUM(CAST(spend_amount AS FLOAT64)) AS spend
  FROM period
),

active_products AS (
  SELECT product_id, is_active
  FROM stg_shopify__products
),

product_level AS (
  SELECT
    'product' AS level,
    COALESCE(pp.product_id, ps.product_id) AS product_id,
    CAST(NULL AS STRING) AS channel,
    CAST(NULL AS STRING) AS country_code,
    CAST(NULL AS STRING) AS region_code,
    CAST(NULL AS STRING) AS location_id,
    COALESCE(pp.spend, 0) AS spend,
    bs.spend AS scope_spend,
    COALESCE(pp.revenue, 0) AS revenue,
    ps.units AS inventory_units,
    ps.velocity AS velocity
  FROM product_perf AS pp
  FULL OUTER JOIN product_stock AS ps ON ps.product_id = pp.product_id
  CROSS JOIN brand_spend AS bs
  LEFT JOIN active_products AS ap ON ap.product_id = COALESCE(pp.product_id, ps.product_id)
  WHERE COALESCE(ap.is_active, TRUE) OR COALESCE(pp.spend, 0) > 0
),

region_perf AS (
  SELECT
    product_id, channel, country_code, region_code,
    SUM(CAST(spend_amount AS FLOAT64)) AS spend,
    SUM(CAST(attributed_revenue_amount AS FLOAT64)) AS revenue
  FROM period
  WHERE product_id IS NOT NULL AND channel IS NOT NULL
  GROUP BY product_id, channel, country_code, region_code
  HAVING SUM(CAST(spend_amount AS FLOAT64)) > 0
),

region_spend AS (
  SELECT channel, country_code, region_code, SUM(CAST(spend_amount AS FLOAT64)) AS spend
  FROM period
  WHERE channel IS NOT NULL
  GROUP BY channel, country_code, region_code
),

region_level AS (
  SELECT
    'product_channel_region' AS level,
    rp.product_id,
    rp.channel,
    rp.country_code,
    rp.region_code,
    lr.location_id,
    rp.spend,
    rs.spend AS scope_spend,
    rp.revenue,
    -- a product with no stock records anywhere is untracked (unknown), not out of stock
    CASE
      WHEN ps.product_id IS NULL THEN NULL
      WHEN lr.location_id IS NULL THEN ps.units
      ELSE COALESCE(s.units, 0)
    END AS inventory_units,
    CASE WHEN lr.location_id IS NULL THEN ps.velocity ELSE s.velocity END AS velocity
  FROM region_perf AS rp
  INNER JOIN region_spend AS rs
    ON rs.channel = rp.channel AND rs.country_code = rp.country_code AND rs.region_code = rp.region_code
  LEFT JOIN stg_tower__location_regions AS lr
    ON lr.country_code = rp.country_code AND lr.region_code = rp.region_code
  LEFT JOIN stock AS s ON s.product_id = rp.product_id AND s.location_id = lr.location_id
  LEFT JOIN product_stock AS ps ON ps.product_id = rp.product_id
),

measured AS (
  SELECT
    l.*,
    SAFE_DIVIDE(l.spend, l.scope_spend) AS spend_share,
    CASE WHEN l.inventory_units = 0 THEN 0.0 ELSE SAFE_DIVIDE(l.inventory_units, l.velocity) END AS days_of_cover
  FROM (
    SELECT * FROM product_level
    UNION ALL
    SELECT * FROM region_level
  ) AS l
)

SELECT
  @brand_id AS brand_id,
  @as_of_date AS as_of_date,
  m.level,
  m.product_id,
  m.channel,
  m.country_code,
  m.region_code,
  m.location_id,
  @alignment_days AS window_days,
  b.currency,
  CAST(m.spend AS NUMERIC) AS spend_amount,
  CAST(m.scope_spend AS NUMERIC) AS scope_spend_amount,
  m.spend_share,
  CAST(m.revenue AS NUMERIC) AS attributed_revenue_amount,
  SAFE_DIVIDE(m.revenue, m.spend) AS roas,
  m.inventory_units,
  m.velocity AS velocity_per_day,
  m.days_of_cover,
  CASE
    WHEN m.inventory_units <= 0 AND m.spend > 0 THEN 'spending_on_stockout'
    WHEN m.days_of_cover < @cover_low_days AND m.spend_share > @high_share THEN 'overspending_low_stock'
    WHEN m.inventory_units > 0
      AND (m.days_of_cover IS NULL OR m.days_of_cover > @cover_overstock_days)
      AND COALESCE(m.spend_share, 0) < @low_share
      THEN 'underspending_overstock'
    ELSE 'aligned'
  END AS mismatch_type
FROM measured AS m
CROSS JOIN stg_tower__brands AS b
