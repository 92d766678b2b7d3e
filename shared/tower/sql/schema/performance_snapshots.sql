-- grain: one row per as_of_date × scope × channel × country × region: this period vs the one before
CREATE TABLE IF NOT EXISTS performance_snapshots (
  brand_id STRING NOT NULL,
  as_of_date DATE NOT NULL,          -- last day of the current period
  scope STRING NOT NULL,             -- blended | channel | region | channel_region
  channel STRING,
  country_code STRING,
  region_code STRING,
  period_days INT64 NOT NULL,
  currency STRING NOT NULL,
  spend_amount NUMERIC,
  revenue_amount NUMERIC,            -- blended / region: all store revenue; channel: attributed revenue
  orders FLOAT64,
  profit_amount NUMERIC,
  roas FLOAT64,
  prev_spend_amount NUMERIC,
  prev_revenue_amount NUMERIC,
  prev_orders FLOAT64,
  prev_profit_amount NUMERIC,
  prev_roas FLOAT64,
  spend_change_pct FLOAT64,          -- (current - previous) / previous, as a fraction
  revenue_change_pct FLOAT64,
  roas_change_pct FLOAT64,
  profit_change_amount NUMERIC
)
PARTITION BY as_of_date
CLUSTER BY brand_id, scope;
