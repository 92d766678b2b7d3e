-- Staging: which Shopify products the brand's campaigns promote, where the platform says (one row per source
-- that says so: a product set, a shopping item, a destination URL). Destination URLs name a product handle:
-- they are matched to the brand's products here, at build time, so an ad sync that ran before the store's
-- first sync maps its campaigns as well as one that ran after.
SELECT
  brand_id,
  platform,
  campaign_id,
  product_id,
  source
FROM ad_campaign_products
WHERE brand_id = @brand_id
UNION ALL
SELECT DISTINCT
  d.brand_id,
  d.platform,
  d.campaign_id,
  p.product_id,
  'destination_url' AS source
FROM ad_campaign_destinations AS d
INNER JOIN products AS p
  ON p.brand_id = d.brand_id AND p.handle = d.product_handle
WHERE d.brand_id = @brand_id AND p.brand_id = @brand_id
