-- Intermediate: the credits of @attribution_model for the orders of [@window_start, @window_end), from
-- attributed_orders, with the order's shipping geography and its fulfilment cost (per order: the
-- location_regions cost of its region, else @fulfillment_cost_per_order) times the credit. earning_date is the
-- day of the credited touch (a deterministic or unattributed order's own order date): the day whose spend
-- earned the revenue. An order no campaign touched, or one a deterministic rule placed, has one row for all
-- models ('all').
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
  a.credit * COALESCE(r.fulfillment_cost_amount, @fulfillment_cost_per_order) AS fulfillment_cost_amount
FROM attributed_orders AS a
INNER JOIN int_shopify__orders AS o ON o.order_id = a.order_id AND o.order_date = a.order_date
LEFT JOIN stg_tower__location_regions AS r ON r.country_code = o.country_code AND r.region_code = o.region_code
WHERE a.brand_id = @brand_id
  AND a.order_date >= @window_start
  AND a.order_date < @window_end
  AND a.attribution_model IN (@attribution_model, 'all')
