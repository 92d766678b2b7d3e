-- Staging: the brand's own row, read for the build's brand. currency is the store currency every amount is
-- converted into; timezone the store's, which ad accounts without a timezone of their own fall back to.
SELECT
  brand_id,
  brand_name,
  timezone,
  currency
FROM brands
WHERE brand_id = @brand_id
