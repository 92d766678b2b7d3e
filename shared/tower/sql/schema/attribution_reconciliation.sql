-- grain: one row per week (Monday start) × platform × attribution model: Shopify truth vs platform claims;
-- platform is an ad platform, or 'email' / 'organic' / 'unattributed' for the orders no ad earned
CREATE TABLE IF NOT EXISTS attribution_reconciliation (
  brand_id STRING NOT NULL,
  week_start DATE NOT NULL,
  platform STRING NOT NULL,
  attribution_model STRING NOT NULL,
  is_partial_week BOOL NOT NULL,
  currency STRING NOT NULL,                   -- store currency
  spend_amount NUMERIC,
  shopify_attributed_orders FLOAT64,
  shopify_attributed_revenue_amount NUMERIC,
  deterministic_orders FLOAT64,               -- of those, placed by a campaign UTM or a click id
  deterministic_revenue_amount NUMERIC,
  geo_credited_orders FLOAT64,                -- of those, credited by the geo + time rule (capped)
  geo_credited_revenue_amount NUMERIC,
  platform_reported_purchases FLOAT64,
  platform_reported_revenue_amount NUMERIC,   -- the platform's purchase value, converted to store currency
  over_reporting_ratio FLOAT64,               -- platform-reported / Shopify-attributed revenue
  shopify_roas FLOAT64,
  platform_roas FLOAT64
)
PARTITION BY week_start
CLUSTER BY brand_id, platform;
