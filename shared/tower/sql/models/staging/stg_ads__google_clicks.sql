-- Staging: the Google Ads clicks click_view reported (google_click_views) on the days the window's orders can
-- have been clicked: from @scan_days before the window (the lookback) to its end. One row per gclid: the table
-- is MERGEd on (brand_id, gclid), and a gclid is one click, so one campaign.
SELECT
  gclid,
  account_id,
  campaign_id
FROM google_click_views
WHERE brand_id = @brand_id
  AND click_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND click_date < @window_end
