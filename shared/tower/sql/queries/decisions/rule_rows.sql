-- grain: one row per product × channel × country × region on @as_of_date: the recommendation rules' input
-- From the alignment model's region level (spend, stock and cover at the serving location, its mismatch, over
-- its own window), with the product's title, unit cost and realised unit price. region_spend_share is the
-- model's own: the row's spend ÷ the channel's spend in the region. brand_spend is the brand's whole ad spend over
-- the window (the alignment model's product-level scope), the denominator of rule 2's share.
WITH align AS (
  SELECT
    product_id, channel, country_code, region_code, location_id, window_days,
    CAST(spend_amount AS FLOAT64) AS spend,
    CAST(attributed_revenue_amount AS FLOAT64) AS revenue,
    spend_share, inventory_units, velocity_per_day, days_of_cover, mismatch_type
  FROM inventory_alignment
  WHERE brand_id = @brand_id
    AND as_of_date = @as_of_date
    AND level = 'product_channel_region'
),

brand_total AS (
  SELECT MAX(CAST(scope_spend_amount AS FLOAT64)) AS brand_spend
  FROM inventory_alignment
  WHERE brand_id = @brand_id
    AND as_of_date = @as_of_date
    AND level = 'product'
),

unit_econ AS (
  SELECT
    product_id,
    AVG(CAST(unit_cost_amount AS FLOAT64)) AS unit_cost,
    AVG(CAST(price_amount AS FLOAT64)) AS list_price
  FROM variants
  WHERE brand_id = @brand_id AND is_active
  GROUP BY product_id
),

realised AS (
  SELECT
    product_id,
    -- summed as NUMERIC (exact, whatever order the rows are added in), then cast
    SAFE_DIVIDE(CAST(SUM(attributed_revenue_amount) AS FLOAT64), SUM(attributed_units)) AS unit_price
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date > CAST(DATE_SUB(@as_of_date, INTERVAL @window_days DAY) AS DATE)
    AND performance_date <= @as_of_date
    AND attribution_model = @attribution_model
    AND product_id IS NOT NULL
  GROUP BY product_id
)

SELECT
  a.product_id,
  COALESCE(p.title, a.product_id) AS product_title,
  a.channel,
  a.country_code,
  COALESCE(a.region_code, '') AS region_code,
  COALESCE(a.location_id, '') AS location_id,
  a.window_days,
  a.spend,
  COALESCE(a.revenue, 0) AS revenue,
  COALESCE(a.spend_share, 0) AS region_spend_share,
  COALESCE(a.inventory_units, 0) AS available_units,
  COALESCE(a.velocity_per_day, 0) AS velocity,
  a.days_of_cover,
  COALESCE(u.unit_cost, 0) AS unit_cost,
  COALESCE(r.unit_price, u.list_price, 0) AS unit_price,
  a.mismatch_type,
  COALESCE(bt.brand_spend, 0) AS brand_spend
FROM align AS a
CROSS JOIN brand_total AS bt
LEFT JOIN products AS p ON p.brand_id = @brand_id AND p.product_id = a.product_id
LEFT JOIN unit_econ AS u ON u.product_id = a.product_id
LEFT JOIN realised AS r ON r.product_id = a.product_id
ORDER BY a.product_id, a.channel, a.country_code, region_code
