-- Staging: the Google Ads clicks click_view reported (google_click_views) on the days the window's orders can
-- have been clicked: from @scan_days before the window (the lookback) to its end. A gclid is one click, so
-- one campaign; should two syncs of different accounts both report it, the latest synced row wins.
SELECT
  gclid,
  account_id,
  campaign_id
FROM google_click_views
WHERE brand_id = @brand_id
  AND click_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND click_date < @window_end
QUALIFY ROW_NUMBER() OVER (PARTITION BY gclid ORDER BY synced_at DESC, account_id ASC, campaign_id ASC) = 1
