-- Intermediate: the orders of the window that the deterministic rule does not place (no utm match) and that
-- have a shipping country, so the geo + time rule may; with the quarter hour of UTC each was placed in (see
-- int_attribution__quarter_windows).
SELECT
  o.order_key,
  o.order_id,
  o.order_date,
  o.order_at,
  o.net_revenue_amount,
  o.country_code,
  o.region_code,
  DIV(UNIX_SECONDS(o.order_at), 900) AS quarter_hour
FROM int_shopify__orders AS o
LEFT JOIN int_attribution__utm_matches AS d ON d.order_key = o.order_key
WHERE o.order_date >= @window_start
  AND d.order_key IS NULL
  AND o.country_code IS NOT NULL
