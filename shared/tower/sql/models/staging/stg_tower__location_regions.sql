-- Staging: which location serves each shipping region of the brand (fulfilment routing), and what fulfilling
-- an order there costs, in the store currency.
SELECT
  brand_id,
  country_code,
  region_code,
  location_id,
  CAST(fulfillment_cost_amount AS FLOAT64) AS fulfillment_cost_amount
FROM location_regions
WHERE brand_id = @brand_id
