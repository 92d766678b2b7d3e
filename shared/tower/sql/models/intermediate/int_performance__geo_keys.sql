-- Intermediate: a small integer per geography (country × region) that spent or sold in the window, with the key
-- of its country's country-only row (region ''), where spend was reported that way, and the location serving it
-- (int_shopify__region_locations: the merchant's rule, else where Shopify ships its orders from) with a small
-- integer of its own, so unified_performance's stock join runs on integers.
WITH geo_values AS (
  SELECT DISTINCT country_code, region_code
  FROM (
    SELECT country_code, region_code
    FROM int_ads__performance
    WHERE stat_date >= @window_start AND spend_amount IS NOT NULL
    UNION ALL
    SELECT country_code, region_code FROM int_performance__credits
  ) AS spent_or_sold
),

geo_numbers AS (
  SELECT country_code, region_code, ROW_NUMBER() OVER (ORDER BY country_code, region_code) AS geo_key
  FROM geo_values
),

location_keys AS (
  SELECT location_id, ROW_NUMBER() OVER (ORDER BY location_id) AS location_key
  FROM (SELECT DISTINCT location_id FROM int_shopify__region_locations) AS serving
)

SELECT g.country_code, g.region_code, g.geo_key, c.geo_key AS country_geo_key, r.location_id, l.location_key
FROM geo_numbers AS g
LEFT JOIN geo_numbers AS c ON c.country_code = g.country_code AND c.region_code = ''
LEFT JOIN int_shopify__region_locations AS r ON r.country_code = g.country_code AND r.region_code = g.region_code
LEFT JOIN location_keys AS l ON l.location_id = r.location_id
