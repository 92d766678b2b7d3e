-- Intermediate: the products each campaign promotes, once per campaign and product whichever sources say so.
-- A campaign with no row here does not say what it promotes.
SELECT DISTINCT
  platform,
  campaign_id,
  product_id
FROM stg_ads__campaign_products
