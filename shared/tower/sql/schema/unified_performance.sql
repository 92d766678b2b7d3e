-- grain: one row per performance_date × channel × campaign × country × region × product (see the model for dates)
CREATE TABLE IF NOT EXISTS unified_performance (
  brand_id STRING NOT NULL,
  performance_date DATE NOT NULL,    -- spend: account-local stat_date; revenue: store-local order_date
  attribution_model STRING NOT NULL,
  channel STRING,                    -- meta | tiktok | google_ads; NULL = revenue no campaign earned
  account_id STRING,
  campaign_id STRING,
  campaign_name STRING,
  country_code STRING,
  region_code STRING,                -- ISO 3166-2; '' = the platform reported the country only
  product_id STRING,                 -- NULL = revenue without lines, or spend that earned nothing that day
  spend_allocation STRING,           -- revenue_share | unsplit (rows with spend; per product: rules/window_spend.sql)
  currency STRING NOT NULL,          -- store currency (ad spend converted at the day's rate)
  spend_amount NUMERIC,
  attributed_orders FLOAT64,         -- credited orders (fractional under multi-touch models)
  attributed_units FLOAT64,
  attributed_revenue_amount NUMERIC,
  cogs_amount NUMERIC,
  fulfillment_cost_amount NUMERIC,
  profit_amount NUMERIC,             -- revenue - spend - COGS - fulfilment
  roas FLOAT64,                      -- revenue / spend
  roi FLOAT64,                       -- profit / spend
  location_id STRING,                -- the location serving the region
  stock_level INT64,                 -- the product's available units there that day
  days_of_cover FLOAT64
)
PARTITION BY performance_date
CLUSTER BY brand_id, channel, product_id;
