-- Staging: the brand's product variants (SKUs). unit_cost_amount is the inventory item's cost in the variant's
-- currency; int_shopify__order_lines converts it.
SELECT
  brand_id,
  variant_id,
  product_id,
  inventory_item_id,
  sku,
  CAST(unit_cost_amount AS FLOAT64) AS unit_cost_amount,
  currency
FROM variants
WHERE brand_id = @brand_id
