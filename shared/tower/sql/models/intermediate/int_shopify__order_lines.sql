-- Intermediate: the line items of the orders the models count (see int_shopify__orders), with their order's
-- key, time and shipping region. line_value is what the line kept after its discount and refunds, in the
-- order's own currency (it only ever makes shares within one order, see int_order_lines__revenue_shares). Unit
-- cost comes from the variant's inventory item, converted to the store currency at the order day's rate.
WITH lines AS (
  SELECT
    li.brand_id,
    li.order_id,
    li.line_item_id,
    li.order_date,
    COALESCE(li.product_id, v.product_id) AS product_id,
    li.variant_id,
    li.quantity,
    li.refunded_quantity,
    GREATEST(
      li.price_amount * (li.quantity - li.refunded_quantity)
      - li.discount_amount * SAFE_DIVIDE(li.quantity - li.refunded_quantity, li.quantity),
      0
    ) AS line_value,
    v.unit_cost_amount * fx.rate_to_store AS unit_cost_amount
  FROM stg_shopify__order_lines AS li
  LEFT JOIN stg_shopify__variants AS v ON v.variant_id = li.variant_id
  LEFT JOIN int_fx__rates_to_store AS fx
    ON fx.rate_date = li.order_date
    AND COALESCE(v.currency, li.currency) = fx.currency
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
INNER JOIN int_shopify__orders AS o ON o.order_id = l.order_id AND o.order_date = l.order_date
