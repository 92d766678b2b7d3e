-- grain: one row per non-cancelled order of the brand with a store-local order_date in [@window_start - @scan_days, @window_end)
-- Ephemeral staging model. Money is converted to the store currency (Shopify's shop money already is; the join
-- keeps that true if a connector ever stores another currency). Cancelled orders are left out of every model:
-- their net revenue is 0 and their units went back to stock, so they are neither conversions nor demand.
SELECT
  o.brand_id,
  o.order_id,
  -- an integer per order, so large joins on orders run on integers. Deterministic: the day number, then the
  -- order's place in id order that day (numbering each day apart sorts small partitions, in parallel)
  UNIX_DATE(o.order_date) * 100000000 + ROW_NUMBER() OVER (PARTITION BY o.order_date ORDER BY o.order_id) AS order_key,
  o.order_date,
  o.created_at AS order_at,
  o.shipping_country_code AS country_code,
  NULLIF(o.shipping_region_code, '') AS region_code,
  CAST(o.net_revenue_amount AS FLOAT64) * fx.rate_to_store AS net_revenue_amount,
  b.currency,
  NULLIF(LOWER(TRIM(o.utm_campaign)), '') AS utm_campaign_key,
  -- the platform an order's own journey names: a click id is the platform's own stamp; utm_source a hint
  CASE
    WHEN o.gclid IS NOT NULL AND o.gclid != '' THEN 'google_ads'
    WHEN o.ttclid IS NOT NULL AND o.ttclid != '' THEN 'tiktok'
    WHEN o.fbclid IS NOT NULL AND o.fbclid != '' THEN 'meta'
  END AS click_platform,
  CASE
    WHEN LOWER(o.utm_source) IN ('facebook', 'fb', 'instagram', 'ig', 'meta') THEN 'meta'
    WHEN LOWER(o.utm_source) IN ('tiktok', 'tt') THEN 'tiktok'
    WHEN LOWER(o.utm_source) IN ('google', 'adwords', 'google_ads', 'youtube') THEN 'google_ads'
  END AS utm_platform
FROM orders AS o
INNER JOIN brands AS b ON b.brand_id = o.brand_id
LEFT JOIN stg_fx__rates_to_store AS fx ON fx.rate_date = o.order_date AND fx.currency = o.currency
WHERE o.brand_id = @brand_id
  AND o.order_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND o.order_date < @window_end
  AND o.cancelled_at IS NULL
