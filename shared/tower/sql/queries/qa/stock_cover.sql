-- grain: one row per product on its latest snapshot before @end_date: units, velocity, days of cover, status
-- Named Q&A query "stock_cover"; @product filters on the title ('' = all). Stock-out risk first: products
-- already out, then those out at any location (a sum over locations would hide a location at zero), then
-- the lowest cover at any one location; products that do not sell last.
WITH by_location AS (
  SELECT
    d.product_id,
    d.location_id,
    SUM(d.available) AS available,
    SUM(d.velocity_per_day) AS velocity
  FROM days_of_cover AS d
  WHERE d.brand_id = @brand_id
    AND d.snapshot_date = CAST(DATE_SUB(@end_date, INTERVAL 1 DAY) AS DATE)
    AND d.product_id IS NOT NULL
  GROUP BY d.product_id, d.location_id
),

stock AS (
  SELECT
    product_id,
    SUM(available) AS available_units,
    SUM(velocity) AS velocity_per_day,
    COUNT(*) AS locations,
    COUNTIF(available <= 0) AS locations_out_of_stock,
    -- a location at zero has no cover left, whatever it sold
    MIN(IF(available <= 0, 0, SAFE_DIVIDE(available, velocity))) AS lowest_location_cover
  FROM by_location
  GROUP BY product_id
)

SELECT
  s.product_id,
  p.title AS product_title,
  s.available_units,
  ROUND(s.velocity_per_day, 2) AS velocity_per_day,
  ROUND(SAFE_DIVIDE(s.available_units, s.velocity_per_day), 1) AS days_of_cover,
  s.locations,
  s.locations_out_of_stock,
  ROUND(s.lowest_location_cover, 1) AS lowest_location_cover,
  CASE
    WHEN s.available_units <= 0 THEN 'stockout'
    WHEN SAFE_DIVIDE(s.available_units, s.velocity_per_day) IS NULL THEN 'overstock'
    WHEN SAFE_DIVIDE(s.available_units, s.velocity_per_day) < @cover_low_days THEN 'low'
    WHEN SAFE_DIVIDE(s.available_units, s.velocity_per_day) > @cover_overstock_days THEN 'overstock'
    ELSE 'healthy'
  END AS stock_status
FROM stock AS s
LEFT JOIN products AS p ON p.brand_id = @brand_id AND p.product_id = s.product_id
WHERE COALESCE(p.is_active, TRUE)
  AND (@product = '' OR STRPOS(LOWER(p.title), LOWER(@product)) > 0)
ORDER BY
  IF(s.available_units <= 0, 0, 1) ASC,
  IF(s.locations_out_of_stock > 0, 0, 1) ASC,
  s.lowest_location_cover ASC NULLS LAST,
  s.product_id ASC
LIMIT @row_limit
