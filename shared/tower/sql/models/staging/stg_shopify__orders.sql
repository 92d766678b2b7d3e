-- Staging: the brand's orders with a store-local order_date in [@window_start - @scan_days, @window_end),
-- cancelled ones included (is_cancelled). Money stays in the order's own currency; int_shopify__orders converts
-- it. The journey columns are tidied into match keys: utm_campaign lower-cased and trimmed, and the platform
-- an order's own journey names (a click id is the platform's own stamp; utm_source only a hint).
-- known_source names a journey that proves the order came from no paid ad ('email' or 'organic'; NULL when
-- nothing proves it), so the geo + time rule never credits it: POS and draft orders (source_name), utm_medium
-- email / sms / organic / referral / social-organic, and a referring search engine without any click id (an ad
-- click on a search engine carries its gclid / msclkid: Google Ads auto-tagging appends it to every ad click), and
-- a visit Shopify's customerJourneySummary files as e-mail (sourceType NEWSLETTER / ABANDONED_CART / TRANSACTIONAL,
-- or source 'email') or as organic search or an organic social post (sourceType SEO / POST), when no click id
-- and no utm_medium (the ad's own stamp) says otherwise.
-- gclid is kept to look the click up in Google's click_view (int_attribution__click_view_matches).
-- hint_platform is the platform the visit came from when no click id names it: utm_source, else a referrer on
-- the platform's own domain (an in-app browser drops the ad's URL parameters but keeps the referrer).
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
  NULLIF(gclid, '') AS gclid,
  CASE
    WHEN gclid IS NOT NULL AND gclid != '' THEN 'google_ads'
    WHEN ttclid IS NOT NULL AND ttclid != '' THEN 'tiktok'
    WHEN fbclid IS NOT NULL AND fbclid != '' THEN 'meta'
  END AS click_platform,
  CASE
    WHEN LOWER(utm_source) IN ('facebook', 'fb', 'instagram', 'ig', 'meta') THEN 'meta'
    WHEN LOWER(utm_source) IN ('tiktok', 'tt') THEN 'tiktok'
    WHEN LOWER(utm_source) IN ('google', 'adwords', 'google_ads', 'youtube') THEN 'google_ads'
  END AS utm_platform,
  CASE
    WHEN LOWER(sales_channel) IN ('pos', 'shopify_draft_order') THEN 'organic'
    WHEN COALESCE(gclid, '') != '' OR COALESCE(ttclid, '') != '' OR COALESCE(fbclid, '') != '' THEN NULL
    WHEN LOWER(utm_medium) IN ('email', 'e-mail', 'newsletter', 'sms') THEN 'email'
    WHEN LOWER(utm_medium) IN ('organic', 'referral', 'social-organic', 'social_organic', 'organic_social')
      THEN 'organic'
    WHEN utm_medium IS NULL
      AND REGEXP_CONTAINS(
        LOWER(referrer_url), r'^https?://([a-z0-9-]+\.)*(google|bing|yahoo|duckduckgo|ecosia|baidu|yandex)\.'
      )
      AND NOT REGEXP_CONTAINS(LOWER(COALESCE(landing_site, '')), r'[?&](gclid|gbraid|wbraid|msclkid)=')
      THEN 'organic'
    WHEN utm_medium IS NULL AND UPPER(journey_source_type) IN ('NEWSLETTER', 'ABANDONED_CART', 'TRANSACTIONAL')
      THEN 'email'
    WHEN utm_medium IS NULL AND LOWER(journey_source) IN ('email', 'e-mail', 'newsletter', 'sms') THEN 'email'
    WHEN utm_medium IS NULL AND UPPER(journey_source_type) IN ('SEO', 'POST') THEN 'organic'
  END AS known_source,
  CASE
    WHEN LOWER(utm_source) IN ('facebook', 'fb', 'instagram', 'ig', 'meta') THEN 'meta'
    WHEN LOWER(utm_source) IN ('tiktok', 'tt') THEN 'tiktok'
    WHEN LOWER(utm_source) IN ('google', 'adwords', 'google_ads', 'youtube') THEN 'google_ads'
    WHEN REGEXP_CONTAINS(LOWER(referrer_url), r'^https?://([a-z0-9-]+\.)*(facebook|instagram|fb)\.com')
      THEN 'meta'
    WHEN REGEXP_CONTAINS(LOWER(referrer_url), r'^https?://([a-z0-9-]+\.)*tiktok\.com') THEN 'tiktok'
  END AS hint_platform
FROM orders
WHERE brand_id = @brand_id
  AND order_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND order_date < @window_end
