-- grain: one row per platform × campaign × account-local day × country × region
CREATE TABLE IF NOT EXISTS ad_performance (
  brand_id STRING NOT NULL,
  platform STRING NOT NULL,
  account_id STRING NOT NULL,
  campaign_id STRING NOT NULL,
  campaign_name STRING,
  stat_date DATE NOT NULL,           -- in the ad account's timezone
  country_code STRING NOT NULL,      -- ISO 3166-1 alpha-2
  region_code STRING NOT NULL,       -- ISO 3166-2 or '' when the platform gives only the country
  region_name STRING,                -- the platform's own name / id for the region
  spend_amount NUMERIC,
  impressions INT64,
  clicks INT64,
  purchases FLOAT64,                 -- platform-reported (over-reports Shopify truth)
  purchase_value_amount NUMERIC,
  currency STRING NOT NULL,
  synced_at TIMESTAMP
)
PARTITION BY stat_date
CLUSTER BY brand_id, platform;
