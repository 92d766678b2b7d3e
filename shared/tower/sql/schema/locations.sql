-- grain: one row per stock location (warehouse / store)
CREATE TABLE IF NOT EXISTS locations (
  brand_id STRING NOT NULL,
  location_id STRING NOT NULL,       -- gid://shopify/Location/N
  location_name STRING,
  country_code STRING,
  province_code STRING,
  is_active BOOL NOT NULL,
  updated_at TIMESTAMP
)
CLUSTER BY brand_id;
