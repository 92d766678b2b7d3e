-- Staging: the brand's orders with a store-local order_date in [@window_start - @scan_days, @window_end),
-- cancelled ones included (is_cancelled). Money stays in the order's own currency; int_shopify__orders converts
-- it. The journey columns are tidied into match keys: utm_campaign lower-cased and trimmed, and the platform
-- an order's own journey names (a click id is the platform's own stamp; utm_source only a hint).
SELECT
  brand_id,
  order_id,
  order_date,
  created_at AS order_at,
  cancelled_at IS NOT NULL AS is_cancelled,
  currency,
  CAST(net_revenue_amount AS FLOAT64) AS net_revenue_amount,
  shipping_country_code AS country_code,
  NULLIF(shipping_region_code, '') AS region_code,
  NULLIF(LOWER(TRIM(utm_campaign)), '') AS utm_campaign_key,
  CASE
    WHEN gclid IS NOT NULL AND gclid != '' THEN 'google_ads'
    WHEN ttclid IS NOT NULL AND ttclid != '' THEN 'tiktok'
    WHEN fbclid IS NOT NULL AND fbclid != '' THEN 'meta'
  END AS click_platform,
  CASE
    WHEN LOWER(utm_source) IN ('facebook', 'fb', 'instagram', 'ig', 'meta') THEN 'meta'
    WHEN LOWER(utm_source) IN ('tiktok', 'tt') THEN 'tiktok'
    WHEN LOWER(utm_source) IN ('google', 'adwords', 'google_ads', 'youtube') THEN 'google_ads'
  END AS utm_platform
FROM orders
WHERE brand_id = @brand_id
  AND order_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND order_date < @window_end
