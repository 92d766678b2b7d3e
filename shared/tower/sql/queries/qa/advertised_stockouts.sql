-- grain: one row per product that ads spent on where it has no stock, on the alignment model's latest day
-- before @end_date. Named Q&A query "advertised_stockouts": the alignment model's spending_on_stockout rows
-- (the same rows the inventory_mismatch alert and the page read), with the channels and regions where the
-- money went, the spend there over the model's window and the product's stock across all its locations.
WITH latest AS (
  SELECT MAX(as_of_date) AS as_of_date
  FROM inventory_alignment
  WHERE brand_id = @brand_id
    AND as_of_date >= CAST(DATE_SUB(@end_date, INTERVAL 7 DAY) AS DATE)
    AND as_of_date < @end_date
),

out_rows AS (
  SELECT
    a.as_of_date,
    a.product_id,
    a.channel,
    COALESCE(NULLIF(a.region_code, ''), a.country_code) AS place,
    a.window_days,
    CAST(a.spend_amount AS FLOAT64) AS spend
  FROM inventory_alignment AS a
  INNER JOIN latest AS l ON l.as_of_date = a.as_of_date
  WHERE a.brand_id = @brand_id
    AND a.as_of_date >= CAST(DATE_SUB(@end_date, INTERVAL 7 DAY) AS DATE)
    AND a.level = 'product_channel_region'
    AND a.mismatch_type = 'spending_on_stockout'
),

product_level AS (
  SELECT a.product_id, a.inventory_units
  FROM inventory_alignment AS a
  INNER JOIN latest AS l ON l.as_of_date = a.as_of_date
  WHERE a.brand_id = @brand_id
    AND a.as_of_date >= CAST(DATE_SUB(@end_date, INTERVAL 7 DAY) AS DATE)
    AND a.level = 'product'
)

SELECT
  o.product_id,
  p.title AS product_title,
  MAX(o.as_of_date) AS as_of_date,
  MAX(o.window_days) AS window_days,
  ROUND(SUM(o.spend), 2) AS spend,
  ARRAY_AGG(DISTINCT o.channel IGNORE NULLS ORDER BY o.channel) AS channels,
  ARRAY_AGG(DISTINCT o.place IGNORE NULLS ORDER BY o.place) AS regions,
  MAX(pl.inventory_units) AS available_units
FROM out_rows AS o
LEFT JOIN product_level AS pl ON pl.product_id = o.product_id
LEFT JOIN products AS p ON p.brand_id = @brand_id AND p.product_id = o.product_id
WHERE COALESCE(p.is_active, TRUE)
GROUP BY o.product_id, p.title
ORDER BY spend DESC, o.product_id ASC
LIMIT @row_limit
