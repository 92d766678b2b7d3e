-- Intermediate: the touches of attributed_orders' geo + time rule. A touch is one campaign's spend on one
-- account-local day (touch_at: the day's start in UTC, see int_ads__performance) in one geography. Per campaign
-- and country:
--   * a campaign that reports regions there touches by region (geo_key: the region code); its country-only
--     rows (regions the platform could not name) then only count towards its whole-country spend;
--   * a campaign that reports only the country touches the whole country (geo_key '');
--   * every campaign's whole-country spend, for orders without a region (geo_key '*').
WITH spend_days AS (
  SELECT
    platform, account_id, campaign_id, account_timezone, country_code, region_code, stat_date, touch_at,
    SUM(spend_amount) AS spend_amount
  FROM int_ads__performance
  WHERE spend_amount > 0
  GROUP BY platform, account_id, campaign_id, account_timezone, country_code, region_code, stat_date, touch_at
),

campaign_geo_levels AS (
  SELECT platform, campaign_id, country_code, LOGICAL_OR(region_code != '') AS has_regions
  FROM spend_days
  GROUP BY platform, campaign_id, country_code
)

SELECT
  s.platform, s.account_id, s.campaign_id, s.account_timezone, s.country_code,
  CASE WHEN g.has_regions THEN s.region_code ELSE '' END AS geo_key,
  s.stat_date, s.touch_at, s.spend_amount
FROM spend_days AS s
INNER JOIN campaign_geo_levels AS g
  ON g.platform = s.platform AND g.campaign_id = s.campaign_id AND g.country_code = s.country_code
WHERE s.region_code != '' OR NOT g.has_regions
UNION ALL
SELECT
  platform, account_id, campaign_id, account_timezone, country_code, '*' AS geo_key, stat_date, touch_at,
  SUM(spend_amount) AS spend_amount
FROM spend_days
GROUP BY platform, account_id, campaign_id, account_timezone, country_code, stat_date, touch_at
