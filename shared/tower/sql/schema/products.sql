-- grain: one row per Shopify product; deleted products stay with is_active = FALSE
CREATE TABLE IF NOT EXISTS products (
  brand_id STRING NOT NULL,
  product_id STRING NOT NULL,        -- gid://shopify/Product/N
  handle STRING,
  title STRING,
  status STRING,                     -- ACTIVE | ARCHIVED | DRAFT
  product_type STRING,
  vendor STRING,
  image_url STRING,                  -- featured media's preview image (Shopify's CDN); NULL without one
  image_alt STRING,                  -- its alt text as the merchant wrote it
  is_active BOOL NOT NULL,
  created_at TIMESTAMP,
  updated_at TIMESTAMP,
  deleted_at TIMESTAMP
)
CLUSTER BY brand_id;
