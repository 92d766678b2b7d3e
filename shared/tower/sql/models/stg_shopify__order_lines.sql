-- grain: one row per line item of a non-cancelled order of the brand with order_date in [@window_start - @scan_days, @window_end)
-- Ephemeral staging model. line_value is what the line kept after its discount and refunds, in the order's own
-- currency (it only ever makes shares within one order, see int_order_lines__revenue_shares). Unit cost comes
-- from the variant's inventory item, converted to the store currency at the order day's rate.
WITH lines AS (
  SELECT
    li.brand_id,
    li.order_id,
    li.line_item_id,
    li.order_date,
    COALESCE(li.product_id, v.product_id) AS product_id,
    li.variant_id,
    li.quantity,
    LEAST(COALESCE(li.refunded_quantity, 0), li.quantity) AS refunded_quantity,
    GREATEST(
      CAST(COALESCE(li.price_amount, 0) AS FLOAT64) * (li.quantity - LEAST(COALESCE(li.refunded_quantity, 0), li.quantity))
      - CAST(COALESCE(li.discount_amount, 0) AS FLOAT64)
        * SAFE_DIVIDE(li.quantity - LEAST(COALESCE(li.refunded_quantity, 0), li.quantity), li.quantity),
      0
    ) AS line_value,
    CAST(v.unit_cost_amount AS FLOAT64) * fx.rate_to_store AS unit_cost_amount
  FROM order_line_items AS li
  LEFT JOIN variants AS v ON v.brand_id = li.brand_id AND v.variant_id = li.variant_id
  LEFT JOIN stg_fx__rates_to_store AS fx
    ON fx.rate_date = li.order_date
    AND fx.currency = COALESCE(v.currency, li.currency)
  WHERE li.brand_id = @brand_id
    AND li.order_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
    AND li.order_date < @window_end
)

SELECT
  l.brand_id,
  l.order_id,
  o.order_key,
  l.line_item_id,
  l.order_date,
  o.order_at,
  o.country_code,
  o.region_code,
  l.product_id,
  l.variant_id,
  l.quantity,
  l.refunded_quantity,
  l.quantity - l.refunded_quantity AS net_quantity,
  l.line_value,
  l.unit_cost_amount,
  o.currency
FROM lines AS l
INNER JOIN stg_shopify__orders AS o ON o.order_id = l.order_id AND o.order_date = l.order_date
