-- Mart: what was spent, what it sold and what is left, on one row per day × channel × campaign × country ×
-- region × product of [@window_start, @window_end). Money in the store currency.
--   * Dates: spend sits on the ad account's stat_date, revenue on the order's store-local order_date (each
--     source's own calendar day; when the account and the store share a timezone, the same day).
--   * Revenue, orders, units, COGS and fulfilment come from attributed_orders under @attribution_model. They are
--     split over the products sold, by the lines' revenue_share, except for campaigns that say which products
--     they promote (ad_campaign_products): the whole cart such a campaign earned is credited to its promoted
--     products (by their parts of the order; equally when the order holds none of them), so a product's ROAS
--     is the return of the ads for it, halo sales included. Unattributed orders keep their revenue on rows
--     with channel and campaign NULL, so totals equal the store's net revenue (int_performance__credits,
--     int_performance__credited_lines).
--   * Spend of a campaign × region × day is allocated to products by the revenue that day's spend earned: revenue
--     attributed to the campaign from orders of that region (a country-only row: of that country) whose credited
--     touch is that day (touch_date; deterministic matches count on their order date), 'revenue_share' (a
--     campaign promoting known products thus spends on those only). Spend that earned nothing that day stays
--     whole on one row with product NULL per campaign × region × day ('unsplit'). Spend per product over any
--     window is read through rules/window_spend.sql, never by summing this column by product. Nothing is
--     dropped: allocated spend sums to the campaign's spend (int_performance__allocated_spend).
--   * COGS = units × the variant's unit cost (NULL when a sold variant has no cost: profit is then unknown);
--     fulfilment = per order, location_regions.fulfillment_cost_amount of its region, else
--     @fulfillment_cost_per_order; profit = revenue − spend − COGS − fulfilment; ROAS = revenue ÷ spend,
--     ROI = profit ÷ spend (NULL without spend).
--   * stock_level and days_of_cover: the product's units and cover (Σ available ÷ Σ velocity over its variants)
--     that day at the location serving the row's region (int_shopify__region_locations).
-- Keys: campaigns, geographies and products get small integer keys (numbered over this build's own values:
-- int_performance__campaign_keys, __geo_keys, __product_keys, __promoted_keys) so the large joins and groupings
-- run on integers; the names are joined back once, at the end.
WITH attributed AS (
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
  FROM int_performance__credited_lines
  GROUP BY order_date, campaign_key, geo_key, product_key
),

-- the four keys of a row packed into one integer (a missing campaign or product counts as 0; keys are numbered
-- from 1), so the full join below runs on one integer column (about 4x faster than on four, measured)
key_sizes AS (
  SELECT
    (SELECT COUNT(*) + 1 FROM int_performance__campaign_keys) AS campaigns,
    (SELECT COUNT(*) + 1 FROM int_performance__geo_keys) AS geos,
    (SELECT COUNT(*) + 1 FROM int_performance__product_keys) AS products
),

spend_packed AS (
  SELECT
    s.*,
    ((UNIX_DATE(s.performance_date) * z.campaigns + COALESCE(s.campaign_key, 0)) * z.geos + s.geo_key) * z.products
    + COALESCE(s.product_key, 0) AS row_key
  FROM int_performance__allocated_spend AS s
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

-- the locations serving the window's geographies, by their integer keys
location_keys AS (
  SELECT DISTINCT location_id, location_key
  FROM int_performance__geo_keys
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
  INNER JOIN int_performance__product_keys AS p ON p.product_id = d.product_id
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
LEFT JOIN int_performance__campaign_keys AS k ON k.campaign_key = gr.campaign_key
INNER JOIN int_performance__geo_keys AS g ON g.geo_key = gr.geo_key
LEFT JOIN int_performance__product_keys AS p ON p.product_key = gr.product_key
LEFT JOIN product_stock AS ps
  ON ps.snapshot_date = gr.performance_date
  AND ps.product_key = gr.product_key
  AND ps.location_key = g.location_key
