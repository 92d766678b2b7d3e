-- grain: one row per Shopify order; no names, e-mails or streets: region, ZIP prefix, hashed customer
CREATE TABLE IF NOT EXISTS orders (
  brand_id STRING NOT NULL,
  order_id STRING NOT NULL,          -- gid://shopify/Order/N
  order_name STRING,
  order_date DATE NOT NULL,          -- store-local date of created_at
  created_at TIMESTAMP NOT NULL,
  processed_at TIMESTAMP,
  updated_at TIMESTAMP,
  cancelled_at TIMESTAMP,
  currency STRING NOT NULL,
  subtotal_amount NUMERIC,
  discount_amount NUMERIC,
  shipping_amount NUMERIC,
  tax_amount NUMERIC,
  total_amount NUMERIC,
  refunded_amount NUMERIC,
  net_revenue_amount NUMERIC,        -- subtotal - discounts - refunds (0 when cancelled)
  shipping_country_code STRING,
  shipping_region_code STRING,       -- ISO 3166-2, e.g. US-TX
  shipping_zip_prefix STRING,        -- first 3 characters only
  customer_hash STRING,              -- sha256(salt || customer id)
  sales_channel STRING,
  landing_site STRING,              -- site, path and only the UTM / click-id parameters (no fragment)
  referrer_url STRING,              -- the referring site only, scheme://host/ (no path or query)
  utm_source STRING,
  utm_medium STRING,
  utm_campaign STRING,
  utm_content STRING,
  utm_term STRING,
  fbclid STRING,
  ttclid STRING,
  gclid STRING,
  -- Shopify's customerJourneySummary (the last visit, else the first): only what attribution reads
  journey_source STRING,             -- the visit's source in Shopify's words (google, klaviyo, instagram, direct)
  journey_source_type STRING,        -- its sourceType (MarketingTactic: AD, NEWSLETTER, SEO, POST...)
  landing_path STRING                -- the landing page's path: no host, query string or fragment
)
PARTITION BY order_date
CLUSTER BY brand_id;
