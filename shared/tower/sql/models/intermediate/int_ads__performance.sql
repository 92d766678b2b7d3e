-- Intermediate: ad performance in the store currency, with the campaign's current name and its account's
-- timezone (the store's when the platform gives none). Spend and platform-reported purchase value are converted
-- from the ad account's currency at the stat day's rate (NULL when no rate is known: never summed raw).
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
  p.region_code,
  COALESCE(c.account_timezone, b.timezone) AS account_timezone,
  TIMESTAMP(p.stat_date, COALESCE(c.account_timezone, b.timezone)) AS touch_at,
  p.spend_amount * fx.rate_to_store AS spend_amount,
  p.purchase_value_amount * fx.rate_to_store AS purchase_value_amount,
  p.purchases,
  p.impressions,
  p.clicks,
  b.currency,
  p.account_currency,
  fx.rate_to_store IS NULL AS is_fx_missing
FROM stg_ads__performance AS p
INNER JOIN stg_tower__brands AS b ON b.brand_id = p.brand_id
LEFT JOIN stg_ads__campaigns AS c
  ON c.platform = p.platform
  AND c.campaign_id = p.campaign_id
LEFT JOIN int_fx__rates_to_store AS fx ON fx.rate_date = p.stat_date AND fx.currency = p.account_currency
