-- Intermediate: unified_performance's spend side. Spend of a campaign × geography × day that earned revenue is
-- allocated to products by that revenue: revenue attributed to the campaign from orders of that region (a
-- country-only row: of that country) whose credited touch is that day (earning_date), 'revenue_share' (a
-- campaign promoting known products thus spends on those only). Spend that earned nothing that day (yet: orders
-- a touch earns may fall after the window) stays whole, on one row with product NULL ('unsplit'): readers that
-- need spend per product allocate it over their own window by the one rule of rules/window_spend.sql (a day of
-- a thin campaign is too few orders to tell its product mix; split equally over ~25 promoted products it was
-- also most of this mart's rows). Nothing is dropped: allocated spend sums to the campaign's.
-- what each campaign × day of spend earned, per product it spends on, by region and by country
WITH earned_by_geo AS (
  SELECT
    l.earning_date, l.campaign_key, l.geo_key, l.country_geo_key, l.product_key,
    SUM(l.attributed_revenue_amount) AS revenue
  FROM int_performance__credited_lines AS l
  WHERE l.campaign_key IS NOT NULL AND l.product_key IS NOT NULL
  GROUP BY l.earning_date, l.campaign_key, l.geo_key, l.country_geo_key, l.product_key
),

earned AS (
  SELECT e.earning_date, e.campaign_key, e.geo_key AS spend_geo_key, e.product_key, e.revenue
  FROM earned_by_geo AS e
  INNER JOIN int_performance__geo_keys AS g ON g.geo_key = e.geo_key
  WHERE e.revenue > 0 AND g.region_code IS NOT NULL
  UNION ALL
  SELECT earning_date, campaign_key, country_geo_key AS spend_geo_key, product_key, SUM(revenue) AS revenue
  FROM earned_by_geo
  WHERE country_geo_key IS NOT NULL
  GROUP BY earning_date, campaign_key, country_geo_key, product_key
  HAVING SUM(revenue) > 0
),

earned_totals AS (
  SELECT earning_date, campaign_key, spend_geo_key, SUM(revenue) AS revenue
  FROM earned
  GROUP BY earning_date, campaign_key, spend_geo_key
),

spend AS (
  SELECT a.stat_date AS performance_date, k.campaign_key, g.geo_key, SUM(a.spend_amount) AS spend_amount
  FROM int_ads__performance AS a
  INNER JOIN int_performance__campaign_keys AS k ON k.platform = a.platform AND k.campaign_id = a.campaign_id
  INNER JOIN int_performance__geo_keys AS g ON g.country_code = a.country_code AND g.region_code = a.region_code
  WHERE a.stat_date >= @window_start AND a.spend_amount IS NOT NULL
  GROUP BY a.stat_date, k.campaign_key, g.geo_key
  HAVING SUM(a.spend_amount) != 0
),

spend_matched AS (
  SELECT s.*, t.revenue AS earned_revenue
  FROM spend AS s
  LEFT JOIN earned_totals AS t
    ON t.earning_date = s.performance_date AND t.campaign_key = s.campaign_key AND t.spend_geo_key = s.geo_key
)

SELECT
  s.performance_date, s.campaign_key, s.geo_key, e.product_key,
  s.spend_amount * e.revenue / s.earned_revenue AS spend_amount, 'revenue_share' AS spend_allocation
FROM spend_matched AS s
INNER JOIN earned AS e
  ON e.earning_date = s.performance_date AND e.campaign_key = s.campaign_key AND e.spend_geo_key = s.geo_key
WHERE s.earned_revenue IS NOT NULL
UNION ALL
SELECT
  performance_date, campaign_key, geo_key, CAST(NULL AS INT64) AS product_key, spend_amount,
  'unsplit' AS spend_allocation
FROM spend_matched
WHERE earned_revenue IS NULL
