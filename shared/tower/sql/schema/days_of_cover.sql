-- grain: one row per store-local snapshot_date × variant × location: stock, sales velocity and days of cover
CREATE TABLE IF NOT EXISTS days_of_cover (
  brand_id STRING NOT NULL,
  snapshot_date DATE NOT NULL,
  variant_id STRING NOT NULL,
  product_id STRING,
  sku STRING,
  location_id STRING NOT NULL,
  available INT64,                   -- snapshot (last one carried forward), floored at 0
  on_hand INT64,
  incoming INT64,
  units_sold INT64,                  -- over the velocity window, every day
  in_stock_units_sold INT64,         -- over the velocity window, in-stock days only
  in_stock_days INT64,               -- days of the velocity window with available > 0
  velocity_window_days INT64,
  velocity_per_day FLOAT64,          -- in_stock_units_sold / in_stock_days
  days_of_cover FLOAT64,             -- available / velocity_per_day; NULL when it does not sell
  projected_stockout_date DATE,
  cover_status STRING NOT NULL       -- stockout | low | healthy | overstock
)
PARTITION BY snapshot_date
CLUSTER BY brand_id, location_id;
