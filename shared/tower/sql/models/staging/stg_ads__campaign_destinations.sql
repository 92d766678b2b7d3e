-- Staging: the Shopify product handles the brand's campaigns' ads link to (destination URLs), as the ad syncs
-- stored them; int_ads__promoted_products matches them to products when the models are built.
SELECT
  brand_id,
  platform,
  campaign_id,
  product_handle
FROM ad_campaign_destinations
WHERE brand_id = @brand_id
