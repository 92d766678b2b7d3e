-- grain: one row per product over [@start_date, @end_date): revenue, ad-driven revenue, spend, profit, ROAS, stock now
-- Named Q&A query "top_products"; @metric orders the rows: revenue | profit | roas. revenue counts all the
-- product's store revenue; ad_revenue only what ad campaigns were credited with; ROAS = ad_revenue ÷ spend.
WITH perf AS (
  SELECT
    product_id,
    SUM(CAST(attributed_revenue_amount AS FLOAT64)) AS revenue,
    SUM(IF(channel IS NOT NULL, CAST(attributed_revenue_amount AS FLOAT64), 0)) AS ad_revenue,
    SUM(CAST(spend_amount AS FLOAT64)) AS spend,
    SUM(CAST(profit_amount AS FLOAT64)) AS profit,
    SUM(attributed_units) AS units
  FROM unified_performance
  WHERE brand_id = @brand_id
    AND performance_date >= @start_date
    AND performance_date < @end_date
    AND attribution_model = @attribution_model
    AND product_id IS NOT NULL
  GROUP BY product_id
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
