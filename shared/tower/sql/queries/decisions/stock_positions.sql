-- grain: one row per product × location on @as_of_date: units, velocity and cover (Σ over its variants)
SELECT
  d.product_id,
  COALESCE(p.title, d.product_id) AS product_title,
  d.location_id,
  SUM(d.available) AS available_units,
  SUM(d.velocity_per_day) AS velocity,
  SAFE_DIVIDE(SUM(d.available), SUM(d.velocity_per_day)) AS days_of_cover
FROM days_of_cover AS d
LEFT JOIN products AS p ON p.brand_id = @brand_id AND p.product_id = d.product_id
WHERE d.brand_id = @brand_id
  AND d.snapshot_date = @as_of_date
  AND d.product_id IS NOT NULL
  AND COALESCE(p.is_active, TRUE)
GROUP BY d.product_id, product_title, d.location_id
ORDER BY d.product_id, d.location_id
