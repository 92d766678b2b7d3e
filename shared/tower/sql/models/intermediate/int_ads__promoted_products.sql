-- Intermediate: the products each campaign promotes, once per campaign and product whichever sources say so.
-- A campaign with no row here does not say what it promotes. Destination URLs name a product handle, matched
-- to the brand's products here, at build time: an ad sync that ran before the store's first sync maps its
-- campaigns as well as one that ran after.
SELECT DISTINCT
  platform,
  campaign_id,
  product_id
FROM (
  SELECT
    platform,
    campaign_id,
    product_id
  FROM stg_ads__campaign_products
  UNION ALL
  SELECT
    d.platform,
    d.campaign_id,
    p.product_id
  FROM stg_ads__campaign_destinations AS d
  INNER JOIN stg_shopify__products AS p ON p.handle = d.product_handle
) AS promoted
