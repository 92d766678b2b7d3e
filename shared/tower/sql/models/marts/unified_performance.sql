-- grain: one row per performance_date × channel × campaign × country × region × product, performance_date in [@window_start, @window_end)
-- Mart: what was spent, what it sold and what is left, on one row. Money in the store currency.
--   * Dates: spend sits on the ad account's stat_date, revenue on the order's store-local order_date (each
--     source's own calendar day; when the account and the store share a timezone, the same day).
--   * Revenue, orders, units, COGS and fulfilment come from attributed_orders under @attribution_model. They are
--     split over the products sold, by the lines' revenue_share, except for campaigns that say which products
--     they promote (ad_campaign_products): the whole cart such a campaign earned is credited to its promoted
--     products (by their parts of the order; equally when the order holds none of them), so a product's ROAS
--     is the return of the ads for it, halo sales included. Unattributed orders keep their revenue on rows
--     with channel and campaign NULL, so totals equal the store's net revenue.
--   * Spend of a campaign × region × day is allocated to products by the revenue that day's spend earned: revenue
--     attributed to the campaign from orders of that region (a country-only row: of that country) whose credited
--     touch is that day (touch_date; deterministic matches count on their order date), 'revenue_share' (a
--     campaign promoting known products thus spends on those only). With no such revenue (yet:
--     orders a touch earns may fall after the window) the spend goes equally to the promoted products
--     ('promoted_equal'), else it stays on a row with product NULL ('unallocated'). Nothing is dropped:
--     allocated spend sums to the campaign's spend.
--   * COGS = units × the variant's unit cost (NULL when a sold variant has no cost: profit is then unknown);
--     fulfilment = per order, location_regions.fulfillment_cost_amount of its region, else
--     @fulfillment_cost_per_order; profit = revenue − spend − COGS − fulfilment; ROAS = revenue ÷ spend,
--     ROI = profit ÷ spend (NULL without spend).
--   * stock_level and days_of_cover: the product's units and cover (Σ available ÷ Σ velocity over its variants)
--     that day at the location serving the row's region (location_regions).
-- Keys: campaigns, geographies and products get small integer keys (numbered over this build's own values)
-- so the large joins and groupings run on integers; the names are joined back once, at the end.
WITH region_locations AS (
  SELECT country_code, region_code, location_id, fulfillment_cost_amount
  FROM stg_tower__location_regions
),

credits AS (
  SELECT
    o.order_key,
    a.order_date,
    COALESCE(a.touch_date, a.order_date) AS earning_date,
    a.platform,
    a.campaign_id,
    o.country_code,
    o.region_code,
    a.credit,
    CAST(a.attributed_revenue_amount AS FLOAT64) AS attributed_revenue_amount,
    a.credit * COALESCE(r.fulfillment_cost_amount, @fulfillment_cost_per_order)
      AS fulfillment_cost_amount
  FROM attributed_orders AS a
  INNER JOIN int_shopify__orders AS o ON o.order_id = a.order_id AND o.order_date = a.order_date
  LEFT JOIN region_locations AS r ON r.country_code = o.country_code AND r.region_code = o.region_code
  WHERE a.brand_id = @brand_id
    AND a.order_date >= @window_start
    AND a.order_date < @window_end
    AND a.attribution_model = @attribution_model
),

ad_rows AS (
  SELECT stat_date, platform, account_id, campaign_id, country_code, region_code, spend_amount
  FROM int_ads__performance
  WHERE stat_date >= @window_start AND spend_amount IS NOT NULL
),

lines AS (
  SELECT order_key, order_date, product_id, revenue_share, net_quantity, unit_cost_amount
  FROM int_order_lines__revenue_shares
  WHERE order_date >= @window_start
),

promoted AS (
  SELECT platform, campaign_id, product_id
  FROM int_ads__promoted_products
),

campaign_keys AS (
  SELECT
    platform, campaign_id, account_id, campaign_name,
    ROW_NUMBER() OVER (ORDER BY platform, campaign_id) AS campaign_key
  FROM (
    SELECT platform, campaign_id, MAX(account_id) AS account_id, MAX(campaign_name) AS campaign_name
    FROM (
      SELECT platform, campaign_id, account_id, CAST(NULL AS STRING) AS campaign_name FROM ad_rows
      UNION ALL
      SELECT platform, campaign_id, account_id, campaign_name FROM stg_ads__campaigns
      UNION ALL
      SELECT platform, campaign_id, CAST(NULL AS STRING) AS account_id, CAST(NULL AS STRING) AS campaign_name
      FROM credits
      WHERE platform IS NOT NULL
      UNION ALL
      SELECT platform, campaign_id, CAST(NULL AS STRING) AS account_id, CAST(NULL AS STRING) AS campaign_name
      FROM promoted
    )
    GROUP BY platform, campaign_id
  )
),

geo_values AS (
  SELECT DISTINCT country_code, region_code
  FROM (
    SELECT country_code, region_code FROM ad_rows
    UNION ALL
    SELECT country_code, region_code FROM credits
  )
),

geo_numbers AS (
  SELECT country_code, region_code, ROW_NUMBER() OVER (ORDER BY country_code, region_code) AS geo_key
  FROM geo_values
),

-- the locations serving regions, numbered so the stock join runs on integers
location_keys AS (
  SELECT location_id, ROW_NUMBER() OVER (ORDER BY location_id) AS location_key
  FROM (SELECT DISTINCT location_id FROM region_locations)
),

-- each geography with the key of its country-only row ('' region), where spend was reported that way, and of
-- the location serving it
geo_keys AS (
  SELECT g.country_code, g.region_code, g.geo_key, c.geo_key AS country_geo_key, r.location_id, l.location_key
  FROM geo_numbers AS g
  LEFT JOIN geo_numbers AS c ON c.country_code = g.country_code AND c.region_code = ''
  LEFT JOIN region_locations AS r ON r.country_code = g.country_code AND r.region_code = g.region_code
  LEFT JOIN location_keys AS l ON l.location_id = r.location_id
),

product_keys AS (
  SELECT product_id, ROW_NUMBER() OVER (ORDER BY product_id) AS product_key
  FROM (
    SELECT product_id FROM lines WHERE product_id IS NOT NULL
    UNION DISTINCT
    SELECT product_id FROM promoted
  )
),

promoted_keys AS (
  SELECT c.campaign_key, p.product_key
  FROM promoted AS pr
  INNER JOIN campaign_keys AS c ON c.platform = pr.platform AND c.campaign_id = pr.campaign_id
  INNER JOIN product_keys AS p ON p.product_id = pr.product_id
),

promoted_counts AS (
  SELECT campaign_key, COUNT(*) AS products
  FROM promoted_keys
  GROUP BY campaign_key
),

keyed_credits AS (
  SELECT
    cr.order_key, cr.order_date, cr.earning_date, k.campaign_key, g.geo_key, g.country_geo_key, cr.credit,
    cr.attributed_revenue_amount, cr.fulfillment_cost_amount
  FROM credits AS cr
  LEFT JOIN campaign_keys AS k ON k.platform = cr.platform AND k.campaign_id = cr.campaign_id
  INNER JOIN geo_keys AS g
    ON g.country_code IS NOT DISTINCT FROM cr.country_code AND g.region_code IS NOT DISTINCT FROM cr.region_code
),

keyed_lines AS (
  SELECT l.order_key, l.order_date, p.product_key, l.revenue_share, l.net_quantity, l.unit_cost_amount
  FROM lines AS l
  LEFT JOIN product_keys AS p ON p.product_id = l.product_id
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
  SELECT campaign_key * (SELECT COUNT(*) + 1 FROM product_keys) + product_key AS pair
  FROM promoted_keys
),

promoted_in_order AS (
  SELECT k.order_key, k.campaign_key, l.product_key, SUM(l.revenue_share) AS share
  FROM known_credits AS k
  INNER JOIN keyed_lines AS l ON l.order_key = k.order_key AND l.order_date = k.order_date
  WHERE k.campaign_key * (SELECT COUNT(*) + 1 FROM product_keys) + l.product_key IN (SELECT pair FROM promoted_pairs)
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
  SELECT p.order_key, p.campaign_key, p.product_key,
    COALESCE(SAFE_DIVIDE(p.share, t.share), 1.0 / t.products) AS weight
  FROM promoted_in_order AS p
  INNER JOIN promoted_in_order_totals AS t ON t.order_key = p.order_key AND t.campaign_key = p.campaign_key
  UNION ALL
  SELECT k.order_key, k.campaign_key, p.product_key, 1.0 / n.products AS weight
  FROM known_credits AS k
  INNER JOIN promoted_counts AS n ON n.campaign_key = k.campaign_key
  INNER JOIN promoted_keys AS p ON p.campaign_key = k.campaign_key
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
),

credited_lines AS (
  -- revenue no campaign earned, and revenue of campaigns that do not say what they promote: the products sold,
  -- by each line's part of the order (an order without lines keeps its revenue on product NULL)
  SELECT
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
),

-- what each campaign × day of spend earned, per product it spends on, by region and by country
earned_by_geo AS (
  SELECT l.earning_date, l.campaign_key, l.geo_key, l.country_geo_key, l.product_key,
    SUM(l.attributed_revenue_amount) AS revenue
  FROM credited_lines AS l
  WHERE l.campaign_key IS NOT NULL AND l.product_key IS NOT NULL
  GROUP BY l.earning_date, l.campaign_key, l.geo_key, l.country_geo_key, l.product_key
),

earned AS (
  SELECT e.earning_date, e.campaign_key, e.geo_key AS spend_geo_key, e.product_key, e.revenue
  FROM earned_by_geo AS e
  INNER JOIN geo_keys AS g ON g.geo_key = e.geo_key
  WHERE e.revenue > 0 AND g.region_code IS NOT NULL
  UNION ALL
  SELECT earning_date, campaign_key, country_geo_key AS spend_geo_key, product_key, SUM(revenue) AS revenue
  FROM earned_by_geo
  WHERE country_geo_key IS NOT NULL
  GROUP BY earning_date, campaign_key, country_geo_key, product_key
  HAVING SUM(revenue) > 0
),

earned_totals AS (
  SELECT earning_date, campaign_key, spend_geo_key, SUM(revenue) AS revenue
  FROM earned
  GROUP BY earning_date, campaign_key, spend_geo_key
),

spend AS (
  SELECT a.stat_date AS performance_date, k.campaign_key, g.geo_key, SUM(a.spend_amount) AS spend_amount
  FROM ad_rows AS a
  INNER JOIN campaign_keys AS k ON k.platform = a.platform AND k.campaign_id = a.campaign_id
  INNER JOIN geo_keys AS g ON g.country_code = a.country_code AND g.region_code = a.region_code
  GROUP BY a.stat_date, k.campaign_key, g.geo_key
  HAVING SUM(a.spend_amount) != 0
),

spend_matched AS (
  SELECT s.*, t.revenue AS earned_revenue
  FROM spend AS s
  LEFT JOIN earned_totals AS t
    ON t.earning_date = s.performance_date AND t.campaign_key = s.campaign_key AND t.spend_geo_key = s.geo_key
),

allocated_spend AS (
  SELECT
    s.performance_date, s.campaign_key, s.geo_key, e.product_key,
    s.spend_amount * e.revenue / s.earned_revenue AS spend_amount, 'revenue_share' AS spend_allocation
  FROM spend_matched AS s
  INNER JOIN earned AS e
    ON e.earning_date = s.performance_date AND e.campaign_key = s.campaign_key AND e.spend_geo_key = s.geo_key
  WHERE s.earned_revenue IS NOT NULL
  UNION ALL
  SELECT
    s.performance_date, s.campaign_key, s.geo_key, p.product_key,
    s.spend_amount / n.products AS spend_amount, 'promoted_equal' AS spend_allocation
  FROM spend_matched AS s
  INNER JOIN promoted_counts AS n ON n.campaign_key = s.campaign_key
  INNER JOIN promoted_keys AS p ON p.campaign_key = s.campaign_key
  WHERE s.earned_revenue IS NULL
  UNION ALL
  SELECT
    s.performance_date, s.campaign_key, s.geo_key, CAST(NULL AS INT64) AS product_key,
    s.spend_amount, 'unallocated' AS spend_allocation
  FROM spend_matched AS s
  LEFT JOIN promoted_counts AS n ON n.campaign_key = s.campaign_key
  WHERE s.earned_revenue IS NULL AND n.campaign_key IS NULL
),

-- the revenue side, one row per day × campaign × geography × product
attributed AS (
  SELECT
    order_date AS performance_date,
    campaign_key,
    geo_key,
    product_key,
    SUM(attributed_orders) AS attributed_orders,
    SUM(attributed_units) AS attributed_units,
    SUM(attributed_revenue_amount) AS attributed_revenue_amount,
    CASE WHEN LOGICAL_OR(is_cost_unknown) THEN NULL ELSE COALESCE(SUM(cogs_amount), 0) END AS cogs_amount,
    SUM(fulfillment_cost_amount) AS fulfillment_cost_amount
  FROM credited_lines
  GROUP BY order_date, campaign_key, geo_key, product_key
),

-- the four keys of a row packed into one integer (a missing campaign or product counts as 0; keys are numbered
-- from 1), so the full join below runs on one integer column (about 4x faster than on four, measured)
key_sizes AS (
  SELECT
    (SELECT COUNT(*) + 1 FROM campaign_keys) AS campaigns,
    (SELECT COUNT(*) + 1 FROM geo_numbers) AS geos,
    (SELECT COUNT(*) + 1 FROM product_keys) AS products
),

spend_packed AS (
  SELECT
    s.*,
    ((UNIX_DATE(s.performance_date) * z.campaigns + COALESCE(s.campaign_key, 0)) * z.geos + s.geo_key) * z.products
      + COALESCE(s.product_key, 0) AS row_key
  FROM allocated_spend AS s
  CROSS JOIN key_sizes AS z
),

attributed_packed AS (
  SELECT
    a.*,
    ((UNIX_DATE(a.performance_date) * z.campaigns + COALESCE(a.campaign_key, 0)) * z.geos + a.geo_key) * z.products
      + COALESCE(a.product_key, 0) AS row_key
  FROM attributed AS a
  CROSS JOIN key_sizes AS z
),

-- spend and revenue side by side; both sides have one row per key
grouped AS (
  SELECT
    COALESCE(s.performance_date, a.performance_date) AS performance_date,
    COALESCE(s.campaign_key, a.campaign_key) AS campaign_key,
    COALESCE(s.geo_key, a.geo_key) AS geo_key,
    COALESCE(s.product_key, a.product_key) AS product_key,
    s.spend_allocation,
    COALESCE(s.spend_amount, 0.0) AS spend_amount,
    COALESCE(a.attributed_orders, 0.0) AS attributed_orders,
    COALESCE(a.attributed_units, 0.0) AS attributed_units,
    COALESCE(a.attributed_revenue_amount, CASE WHEN a.geo_key IS NULL THEN 0.0 END) AS attributed_revenue_amount,
    CASE WHEN a.geo_key IS NULL THEN 0.0 ELSE a.cogs_amount END AS cogs_amount,
    COALESCE(a.fulfillment_cost_amount, 0.0) AS fulfillment_cost_amount
  FROM spend_packed AS s
  FULL OUTER JOIN attributed_packed AS a ON a.row_key = s.row_key
),

product_stock AS (
  SELECT
    d.snapshot_date,
    p.product_key,
    l.location_key,
    SUM(d.available) AS stock_level,
    CASE WHEN SUM(d.available) = 0 THEN 0.0 ELSE SAFE_DIVIDE(SUM(d.available), SUM(d.velocity_per_day)) END
      AS days_of_cover
  FROM days_of_cover AS d
  INNER JOIN product_keys AS p ON p.product_id = d.product_id
  INNER JOIN location_keys AS l ON l.location_id = d.location_id
  WHERE d.brand_id = @brand_id
    AND d.snapshot_date >= @window_start
    AND d.snapshot_date < @window_end
  GROUP BY d.snapshot_date, p.product_key, l.location_key
)

SELECT
  @brand_id AS brand_id,
  gr.performance_date,
  @attribution_model AS attribution_model,
  k.platform AS channel,
  k.account_id,
  k.campaign_id,
  k.campaign_name,
  g.country_code,
  g.region_code,
  p.product_id,
  gr.spend_allocation,
  b.currency,
  CAST(gr.spend_amount AS NUMERIC) AS spend_amount,
  gr.attributed_orders,
  gr.attributed_units,
  CAST(gr.attributed_revenue_amount AS NUMERIC) AS attributed_revenue_amount,
  CAST(gr.cogs_amount AS NUMERIC) AS cogs_amount,
  CAST(gr.fulfillment_cost_amount AS NUMERIC) AS fulfillment_cost_amount,
  CAST(gr.attributed_revenue_amount - gr.spend_amount - gr.cogs_amount - gr.fulfillment_cost_amount AS NUMERIC)
    AS profit_amount,
  SAFE_DIVIDE(gr.attributed_revenue_amount, gr.spend_amount) AS roas,
  SAFE_DIVIDE(
    gr.attributed_revenue_amount - gr.spend_amount - gr.cogs_amount - gr.fulfillment_cost_amount, gr.spend_amount
  ) AS roi,
  g.location_id,
  ps.stock_level,
  ps.days_of_cover
FROM grouped AS gr
CROSS JOIN stg_tower__brands AS b
LEFT JOIN campaign_keys AS k ON k.campaign_key = gr.campaign_key
INNER JOIN geo_keys AS g ON g.geo_key = gr.geo_key
LEFT JOIN product_keys AS p ON p.product_key = gr.product_key
LEFT JOIN product_stock AS ps
  ON ps.snapshot_date = gr.performance_date
  AND ps.product_key = gr.product_key
  AND ps.location_key = g.location_key
