-- Intermediate: unified_performance's revenue side before it is grouped: each credit of @attribution_model
-- (int_performance__credits) split over products. Revenue no campaign earned, and revenue of campaigns that do
-- not say which products they promote, goes to the products sold, by each line's revenue_share (one row per
-- line; an order without lines keeps its revenue on one row with product NULL). A campaign that promotes known
-- products (ad_campaign_products) is credited with the whole cart it earned, on the products it promotes: by
-- their parts of the order, or equally when the order holds none of them (one row per promoted product).
-- COGS = units × the variant's unit cost, NULL and flagged is_cost_unknown when a sold variant has no cost.
WITH keyed_credits AS (
  SELECT
    cr.order_key, cr.order_date, cr.earning_date, k.campaign_key, g.geo_key, g.country_geo_key, cr.credit,
    cr.attributed_revenue_amount, cr.fulfillment_cost_amount
  FROM int_performance__credits AS cr
  LEFT JOIN int_performance__campaign_keys AS k ON k.platform = cr.platform AND k.campaign_id = cr.campaign_id
  INNER JOIN int_performance__geo_keys AS g
    ON g.country_code IS NOT DISTINCT FROM cr.country_code AND g.region_code IS NOT DISTINCT FROM cr.region_code
),

keyed_lines AS (
  SELECT l.order_key, l.order_date, l.line_item_id, p.product_key, l.revenue_share, l.net_quantity, l.unit_cost_amount
  FROM int_order_lines__revenue_shares AS l
  LEFT JOIN int_performance__product_keys AS p ON p.product_id = l.product_id
  WHERE l.order_date >= @window_start
),

promoted_counts AS (
  SELECT campaign_key, COUNT(*) AS products
  FROM int_performance__promoted_keys
  GROUP BY campaign_key
),

-- credits of campaigns that say which products they promote, with those products' part of each order
known_credits AS (
  SELECT c.*
  FROM keyed_credits AS c
  INNER JOIN promoted_counts AS n ON n.campaign_key = c.campaign_key
),

-- (campaign, product) pairs as one integer each: the credited orders' lines are filtered by it after joining
-- their own order, rather than every line of every order being joined to every campaign promoting its product
promoted_pairs AS (
  SELECT campaign_key * (SELECT COUNT(*) + 1 FROM int_performance__product_keys) + product_key AS pair
  FROM int_performance__promoted_keys
),

promoted_in_order AS (
  SELECT k.order_key, k.campaign_key, l.product_key, SUM(l.revenue_share) AS share
  FROM known_credits AS k
  INNER JOIN keyed_lines AS l ON l.order_key = k.order_key AND l.order_date = k.order_date
  WHERE
    k.campaign_key * (SELECT COUNT(*) + 1 FROM int_performance__product_keys) + l.product_key
    IN (SELECT pp.pair FROM promoted_pairs AS pp)
  GROUP BY k.order_key, k.campaign_key, l.product_key
),

promoted_in_order_totals AS (
  SELECT order_key, campaign_key, SUM(share) AS share, COUNT(*) AS products
  FROM promoted_in_order
  GROUP BY order_key, campaign_key
),

-- how a known-product campaign's credited order is spread over the products it promotes: by their parts of
-- the order, or equally when the order holds none of them
promoted_weights AS (
  SELECT
    p.order_key, p.campaign_key, p.product_key,
    COALESCE(SAFE_DIVIDE(p.share, t.share), 1.0 / t.products) AS weight
  FROM promoted_in_order AS p
  INNER JOIN promoted_in_order_totals AS t ON t.order_key = p.order_key AND t.campaign_key = p.campaign_key
  UNION ALL
  SELECT k.order_key, k.campaign_key, p.product_key, 1.0 / n.products AS weight
  FROM known_credits AS k
  INNER JOIN promoted_counts AS n ON n.campaign_key = k.campaign_key
  INNER JOIN int_performance__promoted_keys AS p ON p.campaign_key = k.campaign_key
  LEFT JOIN promoted_in_order_totals AS t ON t.order_key = k.order_key AND t.campaign_key = k.campaign_key
  WHERE t.order_key IS NULL
),

order_totals AS (
  SELECT
    order_key,
    SUM(net_quantity) AS units,
    SUM(net_quantity * unit_cost_amount) AS cogs_amount,
    LOGICAL_OR(net_quantity > 0 AND unit_cost_amount IS NULL) AS is_cost_unknown
  FROM keyed_lines
  GROUP BY order_key
)

-- revenue no campaign earned, and revenue of campaigns that do not say what they promote: the products sold,
-- by each line's part of the order (an order without lines keeps its revenue on product NULL)
SELECT
  c.order_key,
  l.line_item_id,
  c.order_date,
  c.earning_date,
  c.campaign_key,
  c.geo_key,
  c.country_geo_key,
  l.product_key,
  c.credit * COALESCE(l.revenue_share, 1.0) AS attributed_orders,
  c.credit * COALESCE(l.net_quantity, 0) AS attributed_units,
  c.attributed_revenue_amount * COALESCE(l.revenue_share, 1.0) AS attributed_revenue_amount,
  c.credit * l.net_quantity * l.unit_cost_amount AS cogs_amount,
  l.net_quantity > 0 AND l.unit_cost_amount IS NULL AS is_cost_unknown,
  c.fulfillment_cost_amount * COALESCE(l.revenue_share, 1.0) AS fulfillment_cost_amount
FROM keyed_credits AS c
LEFT JOIN promoted_counts AS n ON n.campaign_key = c.campaign_key
LEFT JOIN keyed_lines AS l ON l.order_key = c.order_key AND l.order_date = c.order_date
WHERE n.campaign_key IS NULL
UNION ALL
-- a campaign that promotes known products: the whole order it earned (its cart), credited to those products
SELECT
  c.order_key,
  CAST(NULL AS STRING) AS line_item_id,
  c.order_date,
  c.earning_date,
  c.campaign_key,
  c.geo_key,
  c.country_geo_key,
  w.product_key,
  c.credit * w.weight AS attributed_orders,
  c.credit * COALESCE(o.units, 0) * w.weight AS attributed_units,
  c.attributed_revenue_amount * w.weight AS attributed_revenue_amount,
  c.credit * COALESCE(o.cogs_amount, 0) * w.weight AS cogs_amount,
  o.is_cost_unknown,
  c.fulfillment_cost_amount * w.weight AS fulfillment_cost_amount
FROM known_credits AS c
INNER JOIN promoted_weights AS w ON w.order_key = c.order_key AND w.campaign_key = c.campaign_key
LEFT JOIN order_totals AS o ON o.order_key = c.order_key
