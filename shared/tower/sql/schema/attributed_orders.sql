-- grain: one row per order × attribution model × credited campaign (an order no campaign touched, or one a
-- deterministic rule (UTM, click id) placed: one row, model 'all', as its credit is the same in every model)
-- Order facts (geography...) stay in orders, campaign facts (account, name) in ad_campaigns: this is the link.
CREATE TABLE IF NOT EXISTS attributed_orders (
  brand_id STRING NOT NULL,
  order_id STRING NOT NULL,
  order_date DATE NOT NULL,          -- store-local
  order_at TIMESTAMP NOT NULL,       -- UTC (orders.created_at)
  attribution_model STRING NOT NULL, -- last_touch | first_touch | linear | time_decay | position_based | all
  platform STRING,                   -- NULL when unattributed
  campaign_id STRING,                -- names: ad_campaigns
  -- match_type: click_id | utm_campaign | geo_region | geo_country | email | organic | unattributed
  match_type STRING NOT NULL,
  touch_date DATE,                   -- account-local stat_date of the campaign's latest touch (geo matches)
  touches INT64,                     -- the campaign's touches in the lookback (0 for deterministic matches)
  credit FLOAT64 NOT NULL,           -- credits of one order sum to 1 within a model
  attributed_revenue_amount NUMERIC, -- order net revenue × credit, store currency
  currency STRING NOT NULL
)
PARTITION BY order_date
CLUSTER BY brand_id, attribution_model, platform;
