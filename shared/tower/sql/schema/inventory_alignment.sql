-- grain: one row per as_of_date × product (level 'product') or × product × channel × country × region
-- (level 'product_channel_region')
CREATE TABLE IF NOT EXISTS inventory_alignment (
  brand_id STRING NOT NULL,
  as_of_date DATE NOT NULL,
  level STRING NOT NULL,            -- product | product_channel_region
  product_id STRING NOT NULL,
  channel STRING,
  country_code STRING,
  region_code STRING,
  location_id STRING,               -- the location serving the region (region level)
  window_days INT64,                -- days of spend weighed, ending on as_of_date
  currency STRING NOT NULL,
  spend_amount NUMERIC,
  scope_spend_amount NUMERIC,       -- the denominator of spend_share
  spend_share FLOAT64,
  attributed_revenue_amount NUMERIC,
  roas FLOAT64,
  inventory_units INT64,
  velocity_per_day FLOAT64,
  days_of_cover FLOAT64,
  mismatch_type STRING NOT NULL     -- spending_on_stockout | overspending_low_stock | underspending_overstock | aligned
)
PARTITION BY as_of_date
CLUSTER BY brand_id, mismatch_type;
