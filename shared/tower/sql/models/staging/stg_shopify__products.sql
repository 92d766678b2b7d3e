-- Staging: the brand's products; deleted ones stay, with is_active false.
SELECT
  brand_id,
  product_id,
  handle,
  title,
  status,
  is_active
FROM products
WHERE brand_id = @brand_id
