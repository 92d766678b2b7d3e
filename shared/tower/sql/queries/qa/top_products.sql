-- grain: one row per product over [@start_date, @end_date): revenue, ad-driven revenue, spend, profit, ROAS, stock now
-- Named Q&A query "top_products"; @metric orders the rows: revenue | profit | roas. revenue counts all the
-- product's store revenue; ad_revenue only what ad campaigns were credited with; spend is the shared rule's over
-- the period (rules/window_spend.sql); ROAS = ad_revenue ÷ spend; profit = revenue − COGS − fulfilment − spend.
WITH window_rows AS (
  SELECT
    0 AS window_key, channel, account_id, campaign_id, country_code, region_code, location_id, product_id,
    CAST(spend_amount AS FLOAT64) AS spend,
    CAST(attributed_revenue_amount AS FLOAT64) AS revenue,
    -- what the row earned after COGS and fulfilment (NULL where a sold variant has no cost, as its profit)
    CAST(profit_amount + spend_amount AS FLOAT64) AS margin,
    attributed_units
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date >= @start_date
    AND performance_date < @end_date
    AND attribution_model = @attribution_model
),

sold AS (
  SELECT
    product_id,
    SUM(revenue) AS revenue,
    SUM(IF(channel IS NOT NULL, revenue, 0)) AS ad_revenue,
    SUM(margin) AS margin,
    SUM(attributed_units) AS units
  FROM window_rows
  WHERE product_id IS NOT NULL
  GROUP BY product_id
),

spent AS (
  SELECT product_id, SUM(spend) AS spend
  FROM window_spend
  WHERE product_id IS NOT NULL
  GROUP BY product_id
),

perf AS (
  SELECT
    COALESCE(s.product_id, sp.product_id) AS product_id,
    COALESCE(s.revenue, 0) AS revenue,
    COALESCE(s.ad_revenue, 0) AS ad_revenue,
    COALESCE(sp.spend, 0) AS spend,
    COALESCE(s.margin, 0) - COALESCE(sp.spend, 0) AS profit,
    COALESCE(s.units, 0) AS units
  FROM sold AS s
  FULL OUTER JOIN spent AS sp ON sp.product_id = s.product_id
),

stock AS (
  SELECT
    product_id,
    SUM(available) AS available_units,
    SAFE_DIVIDE(SUM(available), SUM(velocity_per_day)) AS days_of_cover
  FROM days_of_cover
  WHERE brand_id = @brand_id
    AND snapshot_date = CAST(DATE_SUB(@end_date, INTERVAL 1 DAY) AS DATE)
  GROUP BY product_id
)

SELECT
  p.product_id,
  pr.title AS product_title,
  ROUND(p.revenue, 2) AS revenue,
  ROUND(p.ad_revenue, 2) AS ad_revenue,
  ROUND(p.spend, 2) AS spend,
  ROUND(p.profit, 2) AS profit,
  ROUND(SAFE_DIVIDE(p.ad_revenue, p.spend), 2) AS roas,
  ROUND(p.units) AS units,
  s.available_units,
  ROUND(s.days_of_cover, 1) AS days_of_cover
FROM perf AS p
LEFT JOIN products AS pr ON pr.brand_id = @brand_id AND pr.product_id = p.product_id
LEFT JOIN stock AS s ON s.product_id = p.product_id
WHERE p.revenue > 0 OR p.spend > 0
ORDER BY
  CASE @metric
    WHEN 'profit' THEN p.profit
    WHEN 'roas' THEN SAFE_DIVIDE(p.ad_revenue, p.spend)
    ELSE p.revenue
  END DESC NULLS LAST,
  p.product_id
LIMIT @row_limit
