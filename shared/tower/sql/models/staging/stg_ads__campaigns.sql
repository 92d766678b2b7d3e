-- Staging: the brand's ad campaigns, with their ad account's timezone and currency where the platform gives them,
-- and their objective (Google: the advertising channel type, e.g. SEARCH, SHOPPING, PERFORMANCE_MAX).
SELECT
  brand_id,
  platform,
  account_id,
  campaign_id,
  campaign_name,
  UPPER(objective) AS objective,
  account_timezone,
  currency AS account_currency
FROM ad_campaigns
WHERE brand_id = @brand_id
