-- grain: one row per brand × shipping region: which location serves it (fulfilment routing)
CREATE TABLE IF NOT EXISTS location_regions (
  brand_id STRING NOT NULL,
  country_code STRING NOT NULL,
  region_code STRING NOT NULL,       -- ISO 3166-2, e.g. US-TX
  location_id STRING NOT NULL,
  fulfillment_cost_amount NUMERIC,   -- per-order fulfilment cost to this region, store currency
  updated_at TIMESTAMP
)
CLUSTER BY brand_id;
