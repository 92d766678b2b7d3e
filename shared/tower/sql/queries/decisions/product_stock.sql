-- grain: one row per product on @as_of_date: stock across all locations, velocity, cover, spend over the window
-- From the alignment model's product level; regions = where the product was advertised in the window.
WITH regions AS (
  SELECT product_id, ARRAY_AGG(DISTINCT region_code IGNORE NULLS ORDER BY region_code) AS region_codes
  FROM inventory_alignment
  WHERE brand_id = @brand_id AND as_of_date = @as_of_date AND level = 'product_channel_region'
    AND region_code != ''
  GROUP BY product_id
),

unit_econ AS (
  SELECT product_id, AVG(CAST(unit_cost_amount AS FLOAT64)) AS unit_cost
  FROM variants
  WHERE brand_id = @brand_id AND is_active
  GROUP BY product_id
)

SELECT
  a.product_id,
  COALESCE(p.title, a.product_id) AS product_title,
  COALESCE(a.inventory_units, 0) AS available_units,
  COALESCE(a.velocity_per_day, 0) AS velocity,
  a.days_of_cover,
  COALESCE(CAST(a.spend_amount AS FLOAT64), 0) AS ad_spend,
  COALESCE(u.unit_cost, 0) AS unit_cost,
  r.region_codes
FROM inventory_alignment AS a
LEFT JOIN products AS p ON p.brand_id = @brand_id AND p.product_id = a.product_id
LEFT JOIN unit_econ AS u ON u.product_id = a.product_id
LEFT JOIN regions AS r ON r.product_id = a.product_id
WHERE a.brand_id = @brand_id
  AND a.as_of_date = @as_of_date
  AND a.level = 'product'
  AND COALESCE(p.is_active, TRUE)
ORDER BY a.product_id
