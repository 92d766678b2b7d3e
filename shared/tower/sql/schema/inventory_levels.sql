-- grain: one row per inventory item × location × store-local day (a daily snapshot)
CREATE TABLE IF NOT EXISTS inventory_levels (
  brand_id STRING NOT NULL,
  snapshot_date DATE NOT NULL,
  inventory_item_id STRING NOT NULL,
  variant_id STRING,
  location_id STRING NOT NULL,
  available INT64,
  committed INT64,
  on_hand INT64,
  incoming INT64,
  updated_at TIMESTAMP
)
PARTITION BY snapshot_date
CLUSTER BY brand_id, location_id;
