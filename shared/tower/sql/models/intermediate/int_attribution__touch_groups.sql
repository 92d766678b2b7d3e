-- Intermediate: small integers per campaign × country × geography (touch_group), per campaign (campaign_key)
-- and per country × geography (geo_id), so attribution's heavy groupings and joins run on integers; and how
-- specific each campaign is, for breaking ties between touches at the same moment: more specific = larger, the
-- fewer products a campaign promotes; a campaign that names no products ranks below any that does.
WITH campaigns_with_known_products AS (
  SELECT platform, campaign_id, COUNT(*) AS n_promoted
  FROM int_ads__promoted_products
  GROUP BY platform, campaign_id
)

SELECT
  t.platform, t.account_id, t.campaign_id, t.account_timezone, t.country_code, t.geo_key,
  k.campaign_id IS NOT NULL AS has_known_products,
  -COALESCE(k.n_promoted, 1000000000) AS specificity,
  ROW_NUMBER() OVER (ORDER BY t.platform, t.campaign_id, t.country_code, t.geo_key) AS touch_group,
  DENSE_RANK() OVER (ORDER BY t.platform, t.campaign_id) AS campaign_key,
  DENSE_RANK() OVER (ORDER BY t.country_code, t.geo_key) AS geo_id
FROM (
  SELECT DISTINCT platform, account_id, campaign_id, account_timezone, country_code, geo_key
  FROM int_attribution__touches
) AS t
LEFT JOIN campaigns_with_known_products AS k ON k.platform = t.platform AND k.campaign_id = t.campaign_id
