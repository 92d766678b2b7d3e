-- grain: one row per Google Ads click (gclid) that Google's click_view reported: the campaign it was on.
-- click_view answers one day per query and only for the last 90 days, so older clicks never arrive; an order
-- whose gclid is not here is placed by the click-id rule (the Google campaign promoting its product).
-- Only what attribution needs: no location, keyword, device or page fields.
CREATE TABLE IF NOT EXISTS google_click_views (
  brand_id STRING NOT NULL,
  gclid STRING NOT NULL,             -- the Google Click ID an order's landing page carries
  account_id STRING NOT NULL,        -- the Google Ads customer, without dashes
  campaign_id STRING NOT NULL,
  ad_group_id STRING,
  click_date DATE NOT NULL,          -- segments.date, in the account's timezone
  synced_at TIMESTAMP NOT NULL
)
PARTITION BY click_date
CLUSTER BY brand_id, gclid;
