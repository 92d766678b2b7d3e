-- grain: one row per Shopify discount an accepted promotion card created or ended (the audit trail)
CREATE TABLE IF NOT EXISTS discount_changes (
  brand_id STRING NOT NULL,
  change_id STRING NOT NULL,         -- idempotency key
  shop_domain STRING NOT NULL,
  product_id STRING NOT NULL,
  discount_id STRING,                -- Shopify's DiscountAutomaticNode gid, once created
  action STRING NOT NULL,            -- create | deactivate
  percentage FLOAT64,                -- 0.15 = 15% off
  starts_at TIMESTAMP,
  ends_at TIMESTAMP,
  recommendation_id STRING,
  requested_by STRING,
  status STRING NOT NULL,            -- applying | applied | failed | undone
  detail STRING,
  created_at TIMESTAMP NOT NULL
)
CLUSTER BY brand_id;
