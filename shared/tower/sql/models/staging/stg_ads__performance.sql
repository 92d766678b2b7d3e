-- Staging: the brand's ad performance with an account-local stat_date in [@window_start - @scan_days,
-- @window_end). Money stays in the ad account's currency (account_currency); int_ads__performance converts it.
-- A row without a region is a country-level row: region_code ''.
SELECT
  brand_id,
  platform,
  account_id,
  campaign_id,
  campaign_name,
  stat_date,
  country_code,
  COALESCE(region_code, '') AS region_code,
  CAST(spend_amount AS FLOAT64) AS spend_amount,
  CAST(purchase_value_amount AS FLOAT64) AS purchase_value_amount,
  purchases,
  impressions,
  clicks,
  currency AS account_currency
FROM ad_performance
WHERE brand_id = @brand_id
  AND stat_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND stat_date < @window_end
