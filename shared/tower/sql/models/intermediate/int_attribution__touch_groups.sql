-- Intermediate: small integers per campaign × country × geography (touch_group), per campaign (campaign_key)
-- and per country × geography (geo_id), so attribution's heavy groupings and joins run on integers; and how
-- specific each campaign is, for breaking ties between touches at the same moment: more specific = larger, the
-- fewer products a campaign promotes; a campaign that names no products ranks below any that does.
-- is_click_only: a Google Ads Search or Shopping campaign earns only through clicks, and where the store's orders
-- show Google click ids at all (auto-tagging on: it stamps every ad click with a gclid) its orders are found by
-- their gclid, so the geo + time rule leaves it out (a paid search click without one is not a thing to guess).
WITH campaigns_with_known_products AS (
  SELECT platform, campaign_id, COUNT(*) AS n_promoted
  FROM int_ads__promoted_products
  GROUP BY platform, campaign_id
),

click_only_campaigns AS (
  SELECT platform, campaign_id
  FROM stg_ads__campaigns
  WHERE platform = 'google_ads'
    AND objective IN ('SEARCH', 'SHOPPING')
    AND EXISTS (
      SELECT 1
      FROM int_shopify__orders AS o
      WHERE o.click_platform = 'google_ads'
    )
)

SELECT
  t.platform, t.account_id, t.campaign_id, t.account_timezone, t.country_code, t.geo_key,
  k.campaign_id IS NOT NULL AS has_known_products,
  c.campaign_id IS NOT NULL AS is_click_only,
  -COALESCE(k.n_promoted, 1000000000) AS specificity,
  ROW_NUMBER() OVER (ORDER BY t.platform, t.campaign_id, t.country_code, t.geo_key) AS touch_group,
  DENSE_RANK() OVER (ORDER BY t.platform, t.campaign_id) AS campaign_key,
  DENSE_RANK() OVER (ORDER BY t.country_code, t.geo_key) AS geo_id
FROM (
  SELECT DISTINCT platform, account_id, campaign_id, account_timezone, country_code, geo_key
  FROM int_attribution__touches
) AS t
LEFT JOIN campaigns_with_known_products AS k ON k.platform = t.platform AND k.campaign_id = t.campaign_id
LEFT JOIN click_only_campaigns AS c ON c.platform = t.platform AND c.campaign_id = t.campaign_id
