-- Staging: the brand's daily inventory snapshots with snapshot_date in [@window_start - @scan_days, @window_end].
-- The end is inclusive: the snapshot a sync took during @window_end (the day still in progress) can stand for
-- the end of the last complete day (see days_of_cover).
SELECT
  brand_id,
  snapshot_date,
  inventory_item_id,
  variant_id,
  location_id,
  available,
  on_hand,
  incoming
FROM inventory_levels
WHERE brand_id = @brand_id
  AND snapshot_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days DAY) AS DATE)
  AND snapshot_date <= @window_end
