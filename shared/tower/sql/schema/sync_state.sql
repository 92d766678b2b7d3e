-- grain: one row per brand × platform × resource (× account): cursors and resumable checkpoints
CREATE TABLE IF NOT EXISTS sync_state (
  brand_id STRING NOT NULL,
  platform STRING NOT NULL,
  resource STRING NOT NULL,
  account_id STRING NOT NULL,
  cursor_value STRING,               -- e.g. last updated_at fully stored
  checkpoint STRING,                 -- JSON: page cursor, bulk operation id, report run id...
  status STRING,                     -- idle | running | polling | failed | needs_reauth
  error STRING,
  updated_at TIMESTAMP NOT NULL
)
CLUSTER BY brand_id, platform;
