-- grain: one row per brand × platform × account; the token lives in the secret store (secret_ref)
CREATE TABLE IF NOT EXISTS integrations (
  brand_id STRING NOT NULL,
  platform STRING NOT NULL,          -- shopify | meta | tiktok | google_ads
  account_id STRING NOT NULL,        -- shop domain, act_ id, advertiser id, customer id
  secret_ref STRING NOT NULL,        -- secret id in the secret store, never the token
  status STRING NOT NULL,            -- active | needs_reauth | uninstalled | disconnected (shop/redact)
  scopes STRING,
  account_timezone STRING,
  account_currency STRING,
  login_customer_id STRING,
  connected_at TIMESTAMP NOT NULL,
  last_synced_at TIMESTAMP,
  updated_at TIMESTAMP NOT NULL
)
CLUSTER BY brand_id, platform;
