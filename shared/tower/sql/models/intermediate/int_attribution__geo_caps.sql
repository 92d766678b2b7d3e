-- Intermediate: how many orders the geo + time rule may credit to a campaign in one geography on one
-- account-local day: the conversions the platform itself reported there (purchases, which platforms count
-- generously: view-through, cross-device, several platforms claiming one order) less the orders of the window
-- that the deterministic rules already gave that campaign there on that store-local day. cap_geo is a region
-- (for a campaign's region rows) or '*' (the campaign's whole country that day). capacity is NULL where the
-- platform reported no conversion figure at all (purchases NULL on every row): nothing to cap by.
WITH reported AS (
  SELECT platform, campaign_id, country_code, region_code AS cap_geo, stat_date, SUM(purchases) AS purchases
  FROM int_ads__performance
  WHERE region_code != ''
  GROUP BY platform, campaign_id, country_code, region_code, stat_date
  UNION ALL
  SELECT platform, campaign_id, country_code, '*' AS cap_geo, stat_date, SUM(purchases) AS purchases
  FROM int_ads__performance
  GROUP BY platform, campaign_id, country_code, stat_date
),

deterministic AS (
  SELECT d.platform, d.campaign_id, o.country_code, o.region_code, o.order_date
  FROM int_attribution__utm_matches AS d
  INNER JOIN int_shopify__orders AS o ON o.order_key = d.order_key
  UNION ALL
  SELECT d.platform, d.campaign_id, o.country_code, o.region_code, o.order_date
  FROM int_attribution__click_matches AS d
  INNER JOIN int_shopify__orders AS o ON o.order_key = d.order_key
  UNION ALL
  SELECT d.platform, d.campaign_id, o.country_code, o.region_code, o.order_date
  FROM int_attribution__click_view_matches AS d
  INNER JOIN int_shopify__orders AS o ON o.order_key = d.order_key
),

placed AS (
  SELECT platform, campaign_id, country_code, region_code AS cap_geo, order_date, COUNT(*) AS n_orders
  FROM deterministic
  WHERE country_code IS NOT NULL AND region_code IS NOT NULL
  GROUP BY platform, campaign_id, country_code, region_code, order_date
  UNION ALL
  SELECT platform, campaign_id, country_code, '*' AS cap_geo, order_date, COUNT(*) AS n_orders
  FROM deterministic
  WHERE country_code IS NOT NULL
  GROUP BY platform, campaign_id, country_code, order_date
)

SELECT
  r.platform,
  r.campaign_id,
  r.country_code,
  r.cap_geo,
  r.stat_date,
  GREATEST(r.purchases - COALESCE(p.n_orders, 0), 0) AS capacity
FROM reported AS r
LEFT JOIN placed AS p
  ON p.platform = r.platform
  AND p.campaign_id = r.campaign_id
  AND p.country_code = r.country_code
  AND p.cap_geo = r.cap_geo
  AND p.order_date = r.stat_date
