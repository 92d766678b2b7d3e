-- Mart: is ad money going where the stock is? On @as_of_date, per product (level 'product') and per product ×
-- channel × country × region (level 'product_channel_region'), over the @alignment_days days ending on it:
--   spend_share   level 'product': the product's spend ÷ all the brand's spend (spend tied to no product
--                 included, it is still spend); level 'product_channel_region': the product's spend ÷ all spend
--                 of that channel in that region ("of what TikTok spends in Texas, 35% pushes SKU-A")
--   spend         a campaign's spend in a geography over the window, split over products by the campaign's product
--                 mix (their shares of all it earned); a campaign that reports a country's spend only at country
--                 level has its orders' regional revenue on that country row (int_alignment__period_performance)
--   inventory     units available on @as_of_date: across all locations (product level), at the location serving
--                 the region (region level: int_shopify__region_locations, the merchant's rule or where Shopify ships
--                 the region's orders from; a region neither names uses the product's total)
--   days_of_cover Σ available ÷ Σ velocity over the product's variants (NULL: it does not sell)
--   mismatch_type exactly the product plan's rules, first match wins:
--     spending_on_stockout     no stock and spend > 0
--     overspending_low_stock   cover < @cover_low_days and spend share > @high_share
--     underspending_overstock  cover > @cover_overstock_days (or stock that does not sell) and share < @low_share
--     aligned                  otherwise
-- Level 'product' lists every active product with stock or spend; the region level lists spending combinations.
WITH stock AS (
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
    SUM(spend_amount) AS spend,
    SUM(attributed_revenue_amount) AS revenue
  FROM int_alignment__period_performance
  WHERE product_id IS NOT NULL
  GROUP BY product_id
),

brand_spend AS (
  SELECT SUM(spend_amount) AS spend
  FROM int_alignment__period_performance
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
    ps.velocity
  FROM product_perf AS pp
  FULL OUTER JOIN product_stock AS ps ON ps.product_id = pp.product_id
  CROSS JOIN brand_spend AS bs
  LEFT JOIN active_products AS ap ON ap.product_id = COALESCE(pp.product_id, ps.product_id)
  WHERE COALESCE(ap.is_active, TRUE) OR COALESCE(pp.spend, 0) > 0
),

region_perf AS (
  SELECT
    product_id, channel, country_code, region_code,
    SUM(spend_amount) AS spend,
    SUM(attributed_revenue_amount) AS revenue
  FROM int_alignment__period_performance
  WHERE product_id IS NOT NULL AND channel IS NOT NULL
  GROUP BY product_id, channel, country_code, region_code
  HAVING SUM(spend_amount) > 0
),

region_spend AS (
  SELECT channel, country_code, region_code, SUM(spend_amount) AS spend
  FROM int_alignment__period_performance
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
  LEFT JOIN int_shopify__region_locations AS lr
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
