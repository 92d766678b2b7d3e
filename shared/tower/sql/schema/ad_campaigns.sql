-- grain: one row per ad platform campaign
CREATE TABLE IF NOT EXISTS ad_campaigns (
  brand_id STRING NOT NULL,
  platform STRING NOT NULL,          -- meta | tiktok | google_ads
  account_id STRING NOT NULL,
  campaign_id STRING NOT NULL,
  campaign_name STRING,
  status STRING,
  objective STRING,
  daily_budget_amount NUMERIC,       -- major units of the account currency
  budget_id STRING,                  -- Google: campaign budget resource; Meta/TikTok: campaign id
  currency STRING,
  account_timezone STRING,
  updated_at TIMESTAMP
)
CLUSTER BY brand_id, platform;
