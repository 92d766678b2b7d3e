-- grain: one row per product of the brand: its title and picture (the page names and shows
-- products, never their gids). The products list of GET /api/brands/{brand_id}/products and every
-- other product a response names (tower.analytics.products.catalogue).
SELECT
  product_id,
  title,
  image_url,
  image_alt
FROM products
WHERE brand_id = @brand_id
