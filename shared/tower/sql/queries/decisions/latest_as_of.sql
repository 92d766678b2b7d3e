-- grain: one row: the latest day on or before @as_of_date (within 30 days) the alignment model was built for
SELECT MAX(as_of_date) AS as_of_date
FROM inventory_alignment
WHERE brand_id = @brand_id
  AND as_of_date <= @as_of_date
  AND as_of_date > CAST(DATE_SUB(@as_of_date, INTERVAL 30 DAY) AS DATE)
