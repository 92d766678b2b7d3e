-- grain: one row per budget change attempted on an ad platform (the audit trail)
CREATE TABLE IF NOT EXISTS budget_changes (
  brand_id STRING NOT NULL,
  change_id STRING NOT NULL,         -- idempotency key
  platform STRING NOT NULL,
  account_id STRING NOT NULL,
  campaign_id STRING NOT NULL,
  before_amount NUMERIC,
  after_amount NUMERIC,
  currency STRING,
  recommendation_id STRING,
  requested_by STRING,
  status STRING NOT NULL,            -- applied | refused | failed | dry_run | undone
  detail STRING,
  created_at TIMESTAMP NOT NULL
)
CLUSTER BY brand_id;
