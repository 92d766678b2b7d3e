-- grain: one row per level (total | channel | product) × key: revenue and spend of the 7 days before @end_date vs
-- the 7 before
-- Named Q&A query "week_over_week". Total and product rows count all store revenue (attributed or not);
-- channel rows what each channel earned. A product's spend is the shared rule's over each week
-- (rules/window_spend.sql). revenue_change_pct is in percent.
WITH window_rows AS (
  SELECT
    performance_date >= CAST(DATE_SUB(@end_date, INTERVAL 7 DAY) AS DATE) AS window_key,
    channel, account_id, campaign_id, country_code, region_code, location_id, product_id,
    CAST(spend_amount AS FLOAT64) AS spend,
    CAST(attributed_revenue_amount AS FLOAT64) AS revenue
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date >= CAST(DATE_SUB(@end_date, INTERVAL 14 DAY) AS DATE)
    AND performance_date < @end_date
    AND attribution_model = @attribution_model
),

product_base AS (
  SELECT window_key AS is_current, product_id, revenue, 0.0 AS spend
  FROM window_rows
  WHERE product_id IS NOT NULL
  UNION ALL
  SELECT window_key AS is_current, product_id, 0.0 AS revenue, spend
  FROM window_spend
  WHERE product_id IS NOT NULL
),

levels AS (
  SELECT
    'total' AS level, CAST(NULL AS STRING) AS channel, CAST(NULL AS STRING) AS product_id,
    SUM(IF(window_key, revenue, 0)) AS revenue, SUM(IF(window_key, 0, revenue)) AS prev_revenue,
    SUM(IF(window_key, spend, 0)) AS spend, SUM(IF(window_key, 0, spend)) AS prev_spend
  FROM window_rows
  UNION ALL
  SELECT
    'channel' AS level, channel, CAST(NULL AS STRING) AS product_id,
    SUM(IF(window_key, revenue, 0)) AS revenue, SUM(IF(window_key, 0, revenue)) AS prev_revenue,
    SUM(IF(window_key, spend, 0)) AS spend, SUM(IF(window_key, 0, spend)) AS prev_spend
  FROM window_rows
  WHERE channel IS NOT NULL
  GROUP BY channel
  UNION ALL
  SELECT
    'product' AS level, CAST(NULL AS STRING) AS channel, product_id,
    SUM(IF(is_current, revenue, 0)) AS revenue, SUM(IF(is_current, 0, revenue)) AS prev_revenue,
    SUM(IF(is_current, spend, 0)) AS spend, SUM(IF(is_current, 0, spend)) AS prev_spend
  FROM product_base
  GROUP BY product_id
),

stock AS (
  SELECT product_id, SUM(available) AS available_units
  FROM days_of_cover
  WHERE brand_id = @brand_id AND snapshot_date = CAST(DATE_SUB(@end_date, INTERVAL 1 DAY) AS DATE)
  GROUP BY product_id
)

SELECT
  l.level,
  l.channel,
  l.product_id,
  p.title AS product_title,
  ROUND(l.revenue, 2) AS revenue,
  ROUND(l.prev_revenue, 2) AS prev_revenue,
  ROUND(l.revenue - l.prev_revenue, 2) AS revenue_change,
  ROUND(SAFE_DIVIDE(l.revenue - l.prev_revenue, l.prev_revenue) * 100, 1) AS revenue_change_pct,
  ROUND(l.spend, 2) AS spend,
  ROUND(l.prev_spend, 2) AS prev_spend,
  s.available_units
FROM levels AS l
LEFT JOIN products AS p ON p.brand_id = @brand_id AND p.product_id = l.product_id
LEFT JOIN stock AS s ON s.product_id = l.product_id
ORDER BY
  CASE l.level WHEN 'total' THEN 0 WHEN 'channel' THEN 1 ELSE 2 END, ABS(l.revenue - l.prev_revenue) DESC,
  l.channel, l.product_id ASC
LIMIT @row_limit
