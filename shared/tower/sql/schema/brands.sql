-- grain: one row per brand (a Shopify store)
CREATE TABLE IF NOT EXISTS brands (
  brand_id STRING NOT NULL,
  brand_name STRING NOT NULL,
  timezone STRING NOT NULL,          -- IANA, e.g. America/Chicago
  currency STRING NOT NULL,          -- store currency, ISO 4217
  agency_id STRING,
  shop_domain STRING,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
)
CLUSTER BY brand_id;
