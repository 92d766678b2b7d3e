-- Intermediate: attributed_orders' deterministic rule. An order of the window whose utm_campaign equals a
-- campaign's id or name (case-insensitive) goes wholly to that campaign. Ambiguous names resolve to the platform
-- the order's click id (gclid / ttclid / fbclid) or utm_source names, then an id match over a name match, then
-- platform and id. match_type is 'click_id' when the order also carries that platform's click id, else
-- 'utm_campaign'. An order click_view already placed (int_attribution__click_view_matches) is not matched here.
WITH campaign_keys AS (
  SELECT LOWER(TRIM(campaign_id)) AS match_key, 1 AS key_rank, platform, account_id, campaign_id
  FROM stg_ads__campaigns
  UNION ALL
  SELECT LOWER(TRIM(campaign_name)) AS match_key, 2 AS key_rank, platform, account_id, campaign_id
  FROM stg_ads__campaigns
  WHERE campaign_name IS NOT NULL AND TRIM(campaign_name) != ''
)

SELECT
  o.order_key,
  k.platform,
  k.account_id,
  k.campaign_id,
  CASE WHEN o.click_platform = k.platform THEN 'click_id' ELSE 'utm_campaign' END AS match_type
FROM int_shopify__orders AS o
INNER JOIN campaign_keys AS k ON k.match_key = o.utm_campaign_key
LEFT JOIN int_attribution__click_view_matches AS v ON v.order_key = o.order_key
WHERE o.order_date >= @window_start
  AND v.order_key IS NULL
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY o.order_key
    ORDER BY
      CASE WHEN k.platform = o.click_platform THEN 0 ELSE 1 END,
      CASE WHEN k.platform = o.utm_platform THEN 0 ELSE 1 END,
      k.key_rank,
      k.platform,
      k.campaign_id
  ) = 1
