-- Intermediate: a small integer per product sold in the window or promoted by a campaign.
SELECT product_id, ROW_NUMBER() OVER (ORDER BY product_id) AS product_key
FROM (
  SELECT product_id
  FROM int_order_lines__revenue_shares
  WHERE order_date >= @window_start AND product_id IS NOT NULL
  UNION DISTINCT
  SELECT product_id FROM int_ads__promoted_products
) AS sold_or_promoted
