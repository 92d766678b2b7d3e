-- grain: one row per brand × model setting: what only the merchant knows (tower brands set), over the defaults
CREATE TABLE IF NOT EXISTS brand_settings (
  brand_id STRING NOT NULL,
  setting STRING NOT NULL,           -- a model setting's name, e.g. fulfillment_cost_per_order
  value STRING NOT NULL,             -- the value as JSON
  updated_at TIMESTAMP NOT NULL
)
CLUSTER BY brand_id;
