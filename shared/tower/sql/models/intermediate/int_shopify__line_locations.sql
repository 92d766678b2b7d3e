-- Intermediate: where the units of each order line in the velocity span drew their stock from (days of cover's
-- demand), per line and location. First match wins, per line:
--   1. rule               a region rule for the order's shipping region (location_regions: the merchant's
--                         optional override): all the line's units, at that location;
--   2. fulfillment_order  Shopify's own routing: the units each of the order's fulfillment orders holds of the
--                         line, at its assigned location (where a fulfilled one shipped from); cancelled
--                         fulfillment orders hold nothing;
--   3. pooled             whatever neither places (no rule, and no fulfillment order holds it: a token without
--                         the fulfillment-order scope, an edit not routed yet): location_id NULL, which
--                         days_of_cover spreads over the store's active locations stocking the variant.
-- Units are the line's ordered quantity (what left the shelf when it sold), as days_of_cover has always counted.
WITH lines AS (
  SELECT
    l.line_item_id,
    l.order_date,
    l.country_code,
    l.region_code,
    l.variant_id,
    l.quantity,
    r.location_id AS rule_location_id
  FROM int_shopify__order_lines AS l
  LEFT JOIN stg_tower__location_regions AS r ON r.country_code = l.country_code AND r.region_code = l.region_code
  WHERE l.order_date >= CAST(DATE_SUB(@window_start, INTERVAL @velocity_days DAY) AS DATE)
    AND l.variant_id IS NOT NULL
),

-- only the lines no rule places are routed: a rule wins anyway, and grouping every fulfillment order line of the
-- span by line and location is most of this model's cost where rules cover the regions
routed AS (
  SELECT fl.line_item_id, fo.location_id, SUM(fl.quantity) AS units
  FROM lines AS l
  INNER JOIN stg_shopify__fulfillment_order_lines AS fl ON fl.line_item_id = l.line_item_id
  INNER JOIN stg_shopify__fulfillment_orders AS fo ON fo.fulfillment_order_id = fl.fulfillment_order_id
  WHERE l.rule_location_id IS NULL
    AND COALESCE(fo.status, '') != 'CANCELLED' AND fo.location_id IS NOT NULL AND fl.quantity > 0
  GROUP BY fl.line_item_id, fo.location_id
),

routed_lines AS (
  SELECT line_item_id, SUM(units) AS units
  FROM routed
  GROUP BY line_item_id
)

SELECT
  l.line_item_id,
  l.order_date,
  l.country_code,
  l.region_code,
  l.variant_id,
  l.rule_location_id AS location_id,
  'rule' AS placed_by,
  l.quantity AS units
FROM lines AS l
WHERE l.rule_location_id IS NOT NULL

UNION ALL

SELECT
  l.line_item_id,
  l.order_date,
  l.country_code,
  l.region_code,
  l.variant_id,
  r.location_id,
  'fulfillment_order' AS placed_by,
  r.units
FROM lines AS l
INNER JOIN routed AS r ON r.line_item_id = l.line_item_id
WHERE l.rule_location_id IS NULL

UNION ALL

SELECT
  l.line_item_id,
  l.order_date,
  l.country_code,
  l.region_code,
  l.variant_id,
  CAST(NULL AS STRING) AS location_id,
  'pooled' AS placed_by,
  l.quantity - COALESCE(rl.units, 0) AS units
FROM lines AS l
LEFT JOIN routed_lines AS rl ON rl.line_item_id = l.line_item_id
WHERE l.rule_location_id IS NULL AND l.quantity > COALESCE(rl.units, 0)
