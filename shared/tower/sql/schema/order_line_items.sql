-- grain: one row per order line item
CREATE TABLE IF NOT EXISTS order_line_items (
  brand_id STRING NOT NULL,
  order_id STRING NOT NULL,
  line_item_id STRING NOT NULL,      -- gid://shopify/LineItem/N
  order_date DATE NOT NULL,
  product_id STRING,
  variant_id STRING,
  sku STRING,
  quantity INT64 NOT NULL,
  refunded_quantity INT64,
  price_amount NUMERIC,              -- unit price
  discount_amount NUMERIC,           -- total discount on the line
  currency STRING NOT NULL
)
PARTITION BY order_date
CLUSTER BY brand_id;
