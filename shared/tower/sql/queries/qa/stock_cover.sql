-- grain: one row per product on its latest snapshot before @end_date: units, velocity, days of cover, status
-- Named Q&A query "stock_cover"; @product filters on the title ('' = all), lowest cover first.
WITH stock AS (
  SELECT
    d.product_id,
    SUM(d.available) AS available_units,
    SUM(d.velocity_per_day) AS velocity_per_day,
    COUNTIF(d.available = 0) AS locations_out_of_stock
  FROM days_of_cover AS d
  WHERE d.brand_id = @brand_id
    AND d.snapshot_date = CAST(DATE_SUB(@end_date, INTERVAL 1 DAY) AS DATE)
    AND d.product_id IS NOT NULL
  GROUP BY d.product_id
)

SELECT
  s.product_id,
  p.title AS product_title,
  s.available_units,
  ROUND(s.velocity_per_day, 2) AS velocity_per_day,
  ROUND(SAFE_DIVIDE(s.available_units, s.velocity_per_day), 1) AS days_of_cover,
  s.locations_out_of_stock,
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
ORDER BY SAFE_DIVIDE(s.available_units, s.velocity_per_day) ASC NULLS LAST, s.product_id
LIMIT @row_limit
