-- Staging: the brand's stock locations and whether each is active (an inactive one holds no sellable stock).
SELECT
  brand_id,
  location_id,
  is_active
FROM locations
WHERE brand_id = @brand_id
