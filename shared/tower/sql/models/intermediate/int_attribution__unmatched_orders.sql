-- Intermediate: the orders of the window that the deterministic rules do not place (no click_view, utm or
-- click-id match), that no known non-paid source claims (int_shopify__orders.known_source: e-mail, organic search, POS,
-- draft orders...) and that have a shipping country, so the geo + time rule may; with the quarter hour of UTC
-- each was placed in (see int_attribution__quarter_windows) and the one platform whose campaigns may touch it
-- when the journey names one (its click id, utm_source or referrer; NULL: any platform).
SELECT
  o.order_key,
  o.order_id,
  o.order_date,
  o.order_at,
  o.net_revenue_amount,
  o.country_code,
  o.region_code,
  COALESCE(o.click_platform, o.hint_platform) AS only_platform,
  DIV(UNIX_SECONDS(o.order_at), 900) AS quarter_hour
FROM int_shopify__orders AS o
LEFT JOIN int_attribution__utm_matches AS d ON d.order_key = o.order_key
LEFT JOIN int_attribution__click_matches AS k ON k.order_key = o.order_key
LEFT JOIN int_attribution__click_view_matches AS v ON v.order_key = o.order_key
WHERE o.order_date >= @window_start
  AND d.order_key IS NULL
  AND k.order_key IS NULL
  AND v.order_key IS NULL
  AND o.known_source IS NULL
  AND o.country_code IS NOT NULL
