-- grain: one row per model built for a brand and a window
CREATE TABLE IF NOT EXISTS model_runs (
  brand_id STRING NOT NULL,
  model STRING NOT NULL,
  window_start DATE NOT NULL,
  window_end DATE NOT NULL,
  row_count INT64,
  seconds FLOAT64,
  data_version STRING,
  built_at TIMESTAMP NOT NULL
)
CLUSTER BY brand_id;
