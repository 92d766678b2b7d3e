-- Intermediate: the orders the models count (cancelled ones left out: their net revenue is 0 and their units
-- went back to stock, so they are neither conversions nor demand), net revenue in the store currency (Shopify's
-- shop money already is; the conversion keeps that true if a connector ever stores another currency).
SELECT
  o.brand_id,
  o.order_id,
  -- an integer per order, so large joins on orders run on integers. Deterministic: the day number, then the
  -- order's place in id order that day (numbering each day apart sorts small partitions, in parallel)
  UNIX_DATE(o.order_date) * 100000000 + ROW_NUMBER() OVER (PARTITION BY o.order_date ORDER BY o.order_id) AS order_key,
  o.order_date,
  o.order_at,
  o.country_code,
  o.region_code,
  o.net_revenue_amount * fx.rate_to_store AS net_revenue_amount,
  b.currency,
  o.utm_campaign_key,
  o.gclid,
  o.click_platform,
  o.utm_platform,
  o.known_source,
  o.hint_platform
FROM stg_shopify__orders AS o
INNER JOIN stg_tower__brands AS b ON b.brand_id = o.brand_id
LEFT JOIN int_fx__rates_to_store AS fx ON fx.rate_date = o.order_date AND fx.currency = o.currency
WHERE NOT o.is_cancelled
