-- grain: one row per channel (region '') and per channel × region: spend and revenue of the 7 days ending
-- @as_of_date and of the @trailing_weeks weeks before them (sums; ROAS is computed from them). Amounts are
-- summed as NUMERIC and cast after: a FLOAT64 sum depends on the order the engine adds the rows in, and a
-- figure rounded to cents (96.625) would then differ between two builds of the same data.
WITH daily AS (
  SELECT
    channel,
    COALESCE(region_code, '') AS region_code,
    performance_date >= CAST(DATE_SUB(@as_of_date, INTERVAL 6 DAY) AS DATE) AS is_current,
    spend_amount AS spend,
    attributed_revenue_amount AS revenue,
    attributed_orders AS orders
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date > CAST(DATE_SUB(@as_of_date, INTERVAL 7 * (@trailing_weeks + 1) DAY) AS DATE)
    AND performance_date <= @as_of_date
    AND attribution_model = @attribution_model
    AND channel IS NOT NULL
)

SELECT
  channel, '' AS region_code,
  CAST(SUM(IF(is_current, spend, 0)) AS FLOAT64) AS spend,
  CAST(SUM(IF(is_current, revenue, 0)) AS FLOAT64) AS revenue,
  CAST(SUM(IF(is_current, 0, spend)) AS FLOAT64) AS trailing_spend,
  CAST(SUM(IF(is_current, 0, revenue)) AS FLOAT64) AS trailing_revenue,
  SUM(IF(is_current, orders, 0)) AS orders, SUM(IF(is_current, 0, orders)) AS trailing_orders
FROM daily
GROUP BY channel
UNION ALL
SELECT
  channel, region_code,
  CAST(SUM(IF(is_current, spend, 0)) AS FLOAT64) AS spend,
  CAST(SUM(IF(is_current, revenue, 0)) AS FLOAT64) AS revenue,
  CAST(SUM(IF(is_current, 0, spend)) AS FLOAT64) AS trailing_spend,
  CAST(SUM(IF(is_current, 0, revenue)) AS FLOAT64) AS trailing_revenue,
  SUM(IF(is_current, orders, 0)) AS orders, SUM(IF(is_current, 0, orders)) AS trailing_orders
FROM daily
WHERE region_code != ''
GROUP BY channel, region_code
ORDER BY channel, region_code
