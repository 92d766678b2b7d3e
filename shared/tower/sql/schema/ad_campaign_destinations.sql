-- grain: one row per campaign × Shopify product handle its ads link to (a destination URL
-- .../products/<handle>). Kept unmatched: stg_ads__campaign_products matches handles to products when
-- the models are built, so the mapping does not depend on whether the ad or the store sync ran first.
CREATE TABLE IF NOT EXISTS ad_campaign_destinations (
  brand_id STRING NOT NULL,
  platform STRING NOT NULL,
  campaign_id STRING NOT NULL,
  product_handle STRING NOT NULL
)
CLUSTER BY brand_id, platform;
