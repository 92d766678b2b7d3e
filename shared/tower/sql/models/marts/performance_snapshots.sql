-- Mart: the dashboard's week-over-week numbers, for each as-of day a of [@window_start, @window_end) and each
-- scope below. "Current" is the @period_days days ending on a and "previous" the @period_days before them
-- (store-local order dates for revenue, account-local stat dates for spend, as in unified_performance). Scopes:
--   blended         everything: spend of all channels against ALL store revenue (attributed or not), the
--                   product plan's "generated $72,000 in Shopify revenue at a blended 3.9x ROAS"
--   channel         one channel: its spend against the revenue attributed to it (@attribution_model)
--   region          one country × region: all spend and all store revenue there
--   channel_region  one channel in one region (the channel drilldown's by_geo)
-- Ratios come from sums (ROAS = Σ revenue ÷ Σ spend); changes are relative to the previous period. Amounts are
-- summed as NUMERIC (exact in any order) and cast to FLOAT64 only for the ratios: a FLOAT64 sum depends on the
-- order the engine adds rows in, and cast back to NUMERIC its ninth decimal differed between builds of the same data.
WITH daily AS (
  SELECT
    performance_date,
    channel,
    country_code,
    region_code,
    SUM(spend_amount) AS spend,
    SUM(attributed_revenue_amount) AS revenue,
    SUM(attributed_orders) AS orders,
    SUM(COALESCE(profit_amount, attributed_revenue_amount - spend_amount - fulfillment_cost_amount)) AS profit
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date >= CAST(DATE_SUB(@window_start, INTERVAL 2 * @period_days - 1 DAY) AS DATE)
    AND performance_date < @window_end
    AND attribution_model = @attribution_model
  GROUP BY performance_date, channel, country_code, region_code
),

-- one row per scope × day before the spread below multiplies rows by 2 × @period_days (the blended and
-- region scopes would otherwise carry one row per channel and region of the day)
scoped AS (
  SELECT
    scope, channel, country_code, region_code, performance_date,
    SUM(spend) AS spend, SUM(revenue) AS revenue, SUM(orders) AS orders, SUM(profit) AS profit
  FROM (
    SELECT
      'blended' AS scope, CAST(NULL AS STRING) AS channel, CAST(NULL AS STRING) AS country_code,
      CAST(NULL AS STRING) AS region_code, performance_date, spend, revenue, orders, profit
    FROM daily
    UNION ALL
    SELECT
      'channel' AS scope, channel, CAST(NULL AS STRING) AS country_code, CAST(NULL AS STRING) AS region_code,
      performance_date, spend, revenue, orders, profit
    FROM daily
    WHERE channel IS NOT NULL
    UNION ALL
    SELECT
      'region' AS scope, CAST(NULL AS STRING) AS channel, country_code, region_code,
      performance_date, spend, revenue, orders, profit
    FROM daily
    UNION ALL
    SELECT
      'channel_region' AS scope, channel, country_code, region_code,
      performance_date, spend, revenue, orders, profit
    FROM daily
    WHERE channel IS NOT NULL
  ) AS scope_days
  GROUP BY scope, channel, country_code, region_code, performance_date
),

-- each day counts towards the 2 × @period_days as-of days whose current or previous period holds it
spread AS (
  SELECT
    s.*,
    as_of_date,
    DATE_DIFF(as_of_date, s.performance_date, DAY) < @period_days AS is_current
  FROM scoped AS s
  CROSS JOIN
    UNNEST(GENERATE_DATE_ARRAY(
      s.performance_date,
      CAST(DATE_ADD(s.performance_date, INTERVAL 2 * @period_days - 1 DAY) AS DATE)
    )) AS as_of_date
  WHERE as_of_date >= @window_start AND as_of_date < @window_end
),

periods AS (
  SELECT
    as_of_date,
    scope,
    channel,
    country_code,
    region_code,
    SUM(CASE WHEN is_current THEN spend ELSE 0 END) AS spend,
    SUM(CASE WHEN is_current THEN revenue ELSE 0 END) AS revenue,
    SUM(CASE WHEN is_current THEN orders ELSE 0 END) AS orders,
    SUM(CASE WHEN is_current THEN profit ELSE 0 END) AS profit,
    SUM(CASE WHEN is_current THEN 0 ELSE spend END) AS prev_spend,
    SUM(CASE WHEN is_current THEN 0 ELSE revenue END) AS prev_revenue,
    SUM(CASE WHEN is_current THEN 0 ELSE orders END) AS prev_orders,
    SUM(CASE WHEN is_current THEN 0 ELSE profit END) AS prev_profit
  FROM spread
  GROUP BY as_of_date, scope, channel, country_code, region_code
)

SELECT
  @brand_id AS brand_id,
  p.as_of_date,
  p.scope,
  p.channel,
  p.country_code,
  p.region_code,
  @period_days AS period_days,
  b.currency,
  CAST(p.spend AS NUMERIC) AS spend_amount,
  CAST(p.revenue AS NUMERIC) AS revenue_amount,
  p.orders,
  CAST(p.profit AS NUMERIC) AS profit_amount,
  SAFE_DIVIDE(p.revenue_f, p.spend_f) AS roas,
  CAST(p.prev_spend AS NUMERIC) AS prev_spend_amount,
  CAST(p.prev_revenue AS NUMERIC) AS prev_revenue_amount,
  p.prev_orders,
  CAST(p.prev_profit AS NUMERIC) AS prev_profit_amount,
  SAFE_DIVIDE(p.prev_revenue_f, p.prev_spend_f) AS prev_roas,
  SAFE_DIVIDE(p.spend_f - p.prev_spend_f, p.prev_spend_f) AS spend_change_pct,
  SAFE_DIVIDE(p.revenue_f - p.prev_revenue_f, p.prev_revenue_f) AS revenue_change_pct,
  SAFE_DIVIDE(
    SAFE_DIVIDE(p.revenue_f, p.spend_f) - SAFE_DIVIDE(p.prev_revenue_f, p.prev_spend_f),
    SAFE_DIVIDE(p.prev_revenue_f, p.prev_spend_f)
  ) AS roas_change_pct,
  CAST(p.profit - p.prev_profit AS NUMERIC) AS profit_change_amount
FROM (
  SELECT
    *,
    CAST(spend AS FLOAT64) AS spend_f,
    CAST(revenue AS FLOAT64) AS revenue_f,
    CAST(prev_spend AS FLOAT64) AS prev_spend_f,
    CAST(prev_revenue AS FLOAT64) AS prev_revenue_f
  FROM periods
) AS p
CROSS JOIN stg_tower__brands AS b
