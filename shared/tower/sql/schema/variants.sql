-- grain: one row per product variant (a SKU); unit cost from the variant's inventory item
CREATE TABLE IF NOT EXISTS variants (
  brand_id STRING NOT NULL,
  variant_id STRING NOT NULL,        -- gid://shopify/ProductVariant/N
  product_id STRING NOT NULL,
  inventory_item_id STRING,          -- gid://shopify/InventoryItem/N
  sku STRING,
  title STRING,
  price_amount NUMERIC,
  unit_cost_amount NUMERIC,
  currency STRING,
  is_active BOOL NOT NULL,
  updated_at TIMESTAMP
)
CLUSTER BY brand_id;
