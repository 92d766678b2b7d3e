-- grain: one row per campaign × promoted Shopify product, where the platform says which
CREATE TABLE IF NOT EXISTS ad_campaign_products (
  brand_id STRING NOT NULL,
  platform STRING NOT NULL,
  campaign_id STRING NOT NULL,
  product_id STRING NOT NULL,
  source STRING                      -- product_set | shopping_item | destination_url
)
CLUSTER BY brand_id, platform;
