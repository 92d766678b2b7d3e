-- Intermediate: attributed_orders' click-id rule. A click id (gclid / ttclid / fbclid) proves a paid click on its
-- platform, so an order of the window that carries one but that no utm_campaign places goes wholly to one of that
-- platform's campaigns, wherever the order was shipped (a click id says nothing about where the goods go):
-- the campaign that promotes one of the order's products; only when none of the platform's campaigns does, a
-- campaign of the platform that names no products and spent in the order's lookback. Among several, the one
-- with the latest spend in the lookback (order_at - @lookback_hours < touch_at <= order_at, any geography),
-- then the more specific (fewer products promoted), then the larger spend that day, then the campaign id.
-- An order whose platform has no such campaign is left to the geo + time rule, limited to that platform.
-- A gclid click_view reported is placed exactly before this rule (int_attribution__click_view_matches).
WITH click_orders AS (
  SELECT o.order_key, o.order_at, o.click_platform
  FROM int_shopify__orders AS o
  LEFT JOIN int_attribution__utm_matches AS u ON u.order_key = o.order_key
  LEFT JOIN int_attribution__click_view_matches AS v ON v.order_key = o.order_key
  WHERE o.order_date >= @window_start
    AND o.click_platform IS NOT NULL
    AND u.order_key IS NULL
    AND v.order_key IS NULL
),

promoted_counts AS (
  SELECT platform, campaign_id, COUNT(*) AS n_promoted
  FROM int_ads__promoted_products
  GROUP BY platform, campaign_id
),

campaign_days AS (
  SELECT platform, campaign_id, touch_at, SUM(spend_amount) AS spend_amount
  FROM int_attribution__touches
  WHERE geo_key = '*'
  GROUP BY platform, campaign_id, touch_at
),

candidates AS (
  SELECT DISTINCT o.order_key, o.order_at, p.platform, p.campaign_id, 0 AS is_fallback
  FROM click_orders AS o
  INNER JOIN int_shopify__order_lines AS l ON l.order_key = o.order_key
  INNER JOIN int_ads__promoted_products AS p ON p.platform = o.click_platform AND p.product_id = l.product_id
  UNION ALL
  SELECT o.order_key, o.order_at, c.platform, c.campaign_id, 1 AS is_fallback
  FROM click_orders AS o
  INNER JOIN stg_ads__campaigns AS c ON c.platform = o.click_platform
  LEFT JOIN promoted_counts AS k ON k.platform = c.platform AND k.campaign_id = c.campaign_id
  WHERE k.campaign_id IS NULL
),

scored AS (
  SELECT
    c.order_key, c.platform, c.campaign_id, c.is_fallback,
    MAX(d.touch_at) AS last_touch_at,
    MAX_BY(d.spend_amount, d.touch_at) AS last_touch_spend
  FROM candidates AS c
  LEFT JOIN campaign_days AS d
    ON d.platform = c.platform
    AND d.campaign_id = c.campaign_id
    AND d.touch_at <= c.order_at
    AND d.touch_at > TIMESTAMP_SUB(c.order_at, INTERVAL @lookback_hours HOUR)
  GROUP BY c.order_key, c.platform, c.campaign_id, c.is_fallback
)

SELECT s.order_key, s.platform, a.account_id, s.campaign_id, 'click_id' AS match_type
FROM scored AS s
INNER JOIN stg_ads__campaigns AS a ON a.platform = s.platform AND a.campaign_id = s.campaign_id
LEFT JOIN promoted_counts AS k ON k.platform = s.platform AND k.campaign_id = s.campaign_id
WHERE s.is_fallback = 0 OR s.last_touch_at IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY s.order_key
    ORDER BY
      s.is_fallback ASC,
      s.last_touch_at DESC NULLS LAST,
      COALESCE(k.n_promoted, 1000000000) ASC,
      s.last_touch_spend DESC NULLS LAST,
      s.campaign_id ASC
  ) = 1
