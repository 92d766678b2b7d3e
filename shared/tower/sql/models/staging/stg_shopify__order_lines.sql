-- Staging: the line items of the brand's orders with order_date in [@window_start - @scan_days, @window_end).
-- A refund never takes back more units than the line sold; a missing price or discount is 0. Money stays in
-- the order's own currency.
SELECT
  brand_id,
  order_id,
  line_item_id,
  order_date,
  product_id,
  variant_id,
  quantity,
  LEAST(COALESCE(refunded_quantity, 0), quantity) AS refunded_quantity,
  CAST(COALESCE(price_amount, 0) AS FLOAT64) AS price_amount,
  CAST(COALESCE(discount_amount, 0) AS FLOAT64) AS discount_amount,
  currency
FROM order_line_items
WHERE brand_id = @brand_id
  AND order_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND order_date < @window_end
