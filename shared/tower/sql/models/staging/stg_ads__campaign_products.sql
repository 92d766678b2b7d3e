-- Staging: which Shopify products the brand's campaigns promote, where the platform says (one row per source
-- that says so: a product set, a shopping item, a destination URL).
SELECT
  brand_id,
  platform,
  campaign_id,
  product_id,
  source
FROM ad_campaign_products
WHERE brand_id = @brand_id
