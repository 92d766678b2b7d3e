-- grain: one row per platform × campaign × account-local stat_date × country × region, stat_date in [@window_start - @scan_days, @window_end)
-- Ephemeral staging model. Spend and platform-reported purchase value are converted from the ad account's
-- currency into the store currency at the stat day's rate (NULL when no rate is known: never summed raw).
-- touch_at is the moment a day of spend counts as a touch for attribution: the START of the account-local
-- stat_date, converted to UTC. Platforms report whole days in the account's timezone, so the exact hour of an
-- impression is unknown; the day's start is the earliest it can have been, which makes "spend on the order's
-- own day" a candidate touch and keeps the lookback (in hours from the order's UTC timestamp) exact.
SELECT
  p.brand_id,
  p.platform,
  p.account_id,
  p.campaign_id,
  COALESCE(c.campaign_name, p.campaign_name) AS campaign_name,
  p.stat_date,
  p.country_code,
  COALESCE(p.region_code, '') AS region_code,
  COALESCE(c.account_timezone, b.timezone) AS account_timezone,
  TIMESTAMP(p.stat_date, COALESCE(c.account_timezone, b.timezone)) AS touch_at,
  CAST(p.spend_amount AS FLOAT64) * fx.rate_to_store AS spend_amount,
  CAST(p.purchase_value_amount AS FLOAT64) * fx.rate_to_store AS purchase_value_amount,
  p.purchases,
  p.impressions,
  p.clicks,
  b.currency,
  p.currency AS account_currency,
  fx.rate_to_store IS NULL AS is_fx_missing
FROM ad_performance AS p
INNER JOIN brands AS b ON b.brand_id = p.brand_id
LEFT JOIN ad_campaigns AS c
  ON c.brand_id = p.brand_id
  AND c.platform = p.platform
  AND c.campaign_id = p.campaign_id
LEFT JOIN stg_fx__rates_to_store AS fx ON fx.rate_date = p.stat_date AND fx.currency = p.currency
WHERE p.brand_id = @brand_id
  AND p.stat_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND p.stat_date < @window_end
