-- grain: one row per product of the brand: its title (the page names products, never their gids)
-- The products list of GET /api/brands/{brand_id}/products (tower.analytics.products).
SELECT
  product_id,
  title
FROM products
WHERE brand_id = @brand_id
