-- Intermediate: the location serving each shipping region, for the readers that join stock to a region
-- (inventory_alignment, unified_performance). The merchant's region rule where one is set (location_regions);
-- else the location Shopify's fulfillment orders shipped most of the region's units from over the velocity span
-- (ties: the smallest location id). A region neither names (and a country-only region '') has no row: its readers
-- use the product's stock across all locations.
WITH shipped AS (
  SELECT country_code, region_code, location_id, SUM(units) AS units
  FROM int_shopify__line_locations
  WHERE placed_by = 'fulfillment_order' AND country_code IS NOT NULL AND COALESCE(region_code, '') != ''
  GROUP BY country_code, region_code, location_id
),

derived AS (
  SELECT country_code, region_code, location_id
  FROM shipped
  WHERE units > 0
  QUALIFY ROW_NUMBER() OVER (PARTITION BY country_code, region_code ORDER BY units DESC, location_id ASC) = 1
)

SELECT country_code, region_code, location_id, 'rule' AS source
FROM stg_tower__location_regions

UNION ALL

SELECT d.country_code, d.region_code, d.location_id, 'fulfillment_orders' AS source
FROM derived AS d
LEFT JOIN stg_tower__location_regions AS r ON r.country_code = d.country_code AND r.region_code = d.region_code
WHERE r.location_id IS NULL
