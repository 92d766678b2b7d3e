-- Mart: for each day d of [@window_start, @window_end), a SKU at a location:
--   available      the day's inventory snapshot (the last one carried forward when a day has none), floored at 0
--   velocity       units sold on in-stock days ÷ in-stock days, over the @velocity_days days ending on d;
--                  an in-stock day is one whose (end-of-day) snapshot shows available > 0, or that sold units
--                  before selling out: a day out of stock says nothing about demand, so it does not count
--   days_of_cover  available ÷ velocity; 0 when nothing is available; NULL when stock does not sell (unbounded)
--   projected_stockout_date  d + floor(days_of_cover); d itself when nothing is available; NULL past 10 years
--   cover_status   stockout (available = 0) | low (cover < @cover_low_days) | overstock (cover > @cover_overstock_days,
--                  or stock that does not sell) | healthy
-- Sales are placed at the location serving the order's shipping region (location_regions); orders from a region
-- no row maps are placed at the brand's main location (the one serving the most regions).
WITH days AS (
  SELECT day
  FROM UNNEST(GENERATE_DATE_ARRAY(
      CAST(DATE_SUB(@window_start, INTERVAL @velocity_days DAY) AS DATE),
      CAST(DATE_SUB(@window_end, INTERVAL 1 DAY) AS DATE)
    )) AS day
),

-- A sync writes the snapshot of the day it runs on. The snapshot taken during @window_end (the day still in
-- progress) stands for the end of the last complete day when that day has none of its own: on the first day
-- after a store connects, it is the only position known. A day's own snapshot always wins.
snapshots AS (
  SELECT
    CASE
      WHEN il.snapshot_date = @window_end THEN CAST(DATE_SUB(@window_end, INTERVAL 1 DAY) AS DATE)
      ELSE il.snapshot_date
    END AS snapshot_date,
    COALESCE(il.variant_id, v.variant_id) AS variant_id,
    il.location_id,
    il.available,
    il.on_hand,
    il.incoming
  FROM stg_shopify__inventory_levels AS il
  LEFT JOIN stg_shopify__variants AS v ON v.inventory_item_id = il.inventory_item_id
  WHERE il.snapshot_date >= CAST(DATE_SUB(@window_start, INTERVAL @velocity_days DAY) AS DATE)
  QUALIFY ROW_NUMBER() OVER (
      PARTITION BY
        COALESCE(il.variant_id, v.variant_id), il.location_id,
        CASE
          WHEN il.snapshot_date = @window_end THEN CAST(DATE_SUB(@window_end, INTERVAL 1 DAY) AS DATE)
          ELSE il.snapshot_date
        END
      ORDER BY il.snapshot_date
    ) = 1
),

stock_items AS (
  SELECT variant_id, location_id, MIN(snapshot_date) AS first_snapshot_date
  FROM snapshots
  WHERE variant_id IS NOT NULL
  GROUP BY variant_id, location_id
),

region_locations AS (
  SELECT country_code, region_code, location_id
  FROM stg_tower__location_regions
),

main_location AS (
  SELECT location_id
  FROM region_locations
  GROUP BY location_id
  ORDER BY COUNT(*) DESC, location_id
  LIMIT 1
),

daily_sales AS (
  SELECT
    l.order_date AS day,
    l.variant_id,
    COALESCE(r.location_id, (SELECT m.location_id FROM main_location AS m)) AS location_id,
    SUM(l.quantity) AS units
  FROM int_shopify__order_lines AS l
  LEFT JOIN region_locations AS r ON r.country_code = l.country_code AND r.region_code = l.region_code
  WHERE l.order_date >= CAST(DATE_SUB(@window_start, INTERVAL @velocity_days DAY) AS DATE)
    AND l.variant_id IS NOT NULL
  GROUP BY day, l.variant_id, location_id
),

daily AS (
  SELECT
    d.day,
    i.variant_id,
    i.location_id,
    LAST_VALUE(s.available IGNORE NULLS) OVER carried AS available,
    LAST_VALUE(s.on_hand IGNORE NULLS) OVER carried AS on_hand,
    LAST_VALUE(s.incoming IGNORE NULLS) OVER carried AS incoming,
    COALESCE(ds.units, 0) AS units
  FROM stock_items AS i
  INNER JOIN days AS d ON d.day >= i.first_snapshot_date
  LEFT JOIN snapshots AS s
    ON s.variant_id = i.variant_id AND s.location_id = i.location_id AND s.snapshot_date = d.day
  LEFT JOIN daily_sales AS ds
    ON ds.variant_id = i.variant_id AND ds.location_id = i.location_id AND ds.day = d.day
  WINDOW carried AS (
    PARTITION BY i.variant_id, i.location_id ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  )
),

-- running totals, so a trailing window is one equality join: total(d) - total(d - @velocity_days)
running AS (
  SELECT
    day,
    variant_id,
    location_id,
    available,
    on_hand,
    incoming,
    SUM(units) OVER running_total AS units_total,
    SUM(CASE WHEN available > 0 OR units > 0 THEN units ELSE 0 END) OVER running_total AS in_stock_units_total,
    SUM(CASE WHEN available > 0 OR units > 0 THEN 1 ELSE 0 END) OVER running_total AS in_stock_days_total
  FROM daily
  WINDOW running_total AS (
    PARTITION BY variant_id, location_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  )
),

trailing AS (
  SELECT
    cur.day AS snapshot_date,
    cur.variant_id,
    cur.location_id,
    GREATEST(COALESCE(cur.available, 0), 0) AS available,
    cur.on_hand,
    cur.incoming,
    cur.units_total - COALESCE(prev.units_total, 0) AS units_sold,
    cur.in_stock_units_total - COALESCE(prev.in_stock_units_total, 0) AS in_stock_units_sold,
    cur.in_stock_days_total - COALESCE(prev.in_stock_days_total, 0) AS in_stock_days
  FROM running AS cur
  LEFT JOIN running AS prev
    ON prev.variant_id = cur.variant_id
    AND prev.location_id = cur.location_id
    AND prev.day = CAST(DATE_SUB(cur.day, INTERVAL @velocity_days DAY) AS DATE)
  WHERE cur.day >= @window_start
),

covered AS (
  SELECT
    t.*,
    SAFE_DIVIDE(t.in_stock_units_sold, t.in_stock_days) AS velocity_per_day,
    -- nothing left is no cover at all, whatever the demand; stock that does not sell has unbounded cover (NULL)
    CASE
      WHEN t.available = 0 THEN 0.0
      ELSE SAFE_DIVIDE(t.available, SAFE_DIVIDE(t.in_stock_units_sold, t.in_stock_days))
    END AS days_of_cover
  FROM trailing AS t
)

SELECT
  @brand_id AS brand_id,
  c.snapshot_date,
  c.variant_id,
  v.product_id,
  v.sku,
  c.location_id,
  c.available,
  c.on_hand,
  c.incoming,
  c.units_sold,
  c.in_stock_units_sold,
  c.in_stock_days,
  @velocity_days AS velocity_window_days,
  c.velocity_per_day,
  c.days_of_cover,
  CASE
    WHEN c.available = 0 THEN c.snapshot_date
    -- beyond ten years a stockout date says nothing (and could overflow a DATE)
    WHEN c.days_of_cover < 3650
      THEN CAST(DATE_ADD(c.snapshot_date, INTERVAL CAST(FLOOR(c.days_of_cover) AS INT64) DAY) AS DATE)
  END AS projected_stockout_date,
  CASE
    WHEN c.available = 0 THEN 'stockout'
    WHEN c.days_of_cover IS NULL OR c.days_of_cover > @cover_overstock_days THEN 'overstock'
    WHEN c.days_of_cover < @cover_low_days THEN 'low'
    ELSE 'healthy'
  END AS cover_status
FROM covered AS c
LEFT JOIN stg_shopify__variants AS v ON v.variant_id = c.variant_id
