-- grain: one row for the brand: name, currency, timezone
SELECT brand_id, brand_name, currency, timezone
FROM brands
WHERE brand_id = @brand_id
