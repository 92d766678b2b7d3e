-- Mart: for each day d of [@window_start, @window_end), a SKU at a location:
--   available      the day's inventory snapshot (the last one carried forward when a day has none), floored at 0
--   velocity       units sold on in-stock days ÷ in-stock days, over the @velocity_days days ending on d;
--                  an in-stock day is one whose (end-of-day) snapshot shows available > 0, or that sold units
--                  before selling out: a day out of stock says nothing about demand, so it does not count
--   days_of_cover  available ÷ velocity; 0 when nothing is available; NULL when stock does not sell (unbounded)
--   projected_stockout_date  d + floor(days_of_cover); d itself when nothing is available; NULL past 10 years
--   cover_status   stockout (available = 0) | low (cover < @cover_low_days) | overstock (cover > @cover_overstock_days,
--                  or stock that does not sell) | healthy
-- Where a sale draws its stock from (int_shopify__line_locations): the merchant's region rule when one covers the
-- order's region, else the locations Shopify's fulfillment orders assign its units to. Units neither places are
-- pooled: spread over the store's active locations stocking the variant in proportion to what each had available
-- that day (evenly when none had any), so each location's cover is the pooled cover. units_sold and
-- in_stock_units_sold are those shares rounded to whole units; velocity uses the exact shares.
-- A store's first days count: the days of the velocity window before the brand's first inventory snapshot (a
-- store just connected has order history but no stock history), from its first order on, are treated as in
-- stock unless the product could not be bought (draft, archived or deleted now: no status history is kept), and
-- pooled units are spread by the first snapshot's stock. Days before the first order say nothing (no history).
-- A location whose first snapshot came later than the store's (opened since) counts from that snapshot.
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

brand_first_snapshot AS (
  SELECT MIN(first_snapshot_date) AS first_snapshot_date
  FROM stock_items
),

brand_first_order AS (
  SELECT MIN(order_date) AS first_order_date
  FROM int_shopify__order_lines
),

items AS (
  SELECT
    i.variant_id,
    i.location_id,
    i.first_snapshot_date,
    -- the store's first snapshot: the velocity window's earlier days count too (see the header)
    CASE
      WHEN i.first_snapshot_date = b.first_snapshot_date
        THEN GREATEST(
            CAST(DATE_SUB(@window_start, INTERVAL @velocity_days DAY) AS DATE),
            LEAST(COALESCE(o.first_order_date, i.first_snapshot_date), i.first_snapshot_date)
          )
      ELSE i.first_snapshot_date
    END AS first_day,
    s.available AS first_available,
    COALESCE(loc.is_active, TRUE) AS is_active,
    COALESCE(p.is_active, TRUE) AS can_sell
  FROM stock_items AS i
  CROSS JOIN brand_first_snapshot AS b
  CROSS JOIN brand_first_order AS o
  LEFT JOIN snapshots AS s
    ON s.variant_id = i.variant_id AND s.location_id = i.location_id AND s.snapshot_date = i.first_snapshot_date
  LEFT JOIN stg_shopify__locations AS loc ON loc.location_id = i.location_id
  LEFT JOIN stg_shopify__variants AS v ON v.variant_id = i.variant_id
  LEFT JOIN stg_shopify__products AS p ON p.product_id = v.product_id
),

daily_sales AS (
  SELECT order_date AS day, variant_id, location_id, SUM(units) AS units
  FROM int_shopify__line_locations
  GROUP BY day, variant_id, location_id
),

carried AS (
  SELECT
    d.day,
    i.variant_id,
    i.location_id,
    i.is_active,
    i.can_sell,
    d.day >= i.first_snapshot_date AS is_snapshotted,
    LAST_VALUE(s.available IGNORE NULLS) OVER carry AS available,
    LAST_VALUE(s.on_hand IGNORE NULLS) OVER carry AS on_hand,
    LAST_VALUE(s.incoming IGNORE NULLS) OVER carry AS incoming,
    -- what the pooled units are spread by: the day's stock, before the first snapshot the first snapshot's
    CASE
      WHEN NOT COALESCE(i.is_active, TRUE) THEN 0
      WHEN d.day < i.first_snapshot_date THEN GREATEST(COALESCE(i.first_available, 0), 0)
      ELSE GREATEST(COALESCE(LAST_VALUE(s.available IGNORE NULLS) OVER carry, 0), 0)
    END AS pool_weight
  FROM items AS i
  INNER JOIN days AS d ON d.day >= i.first_day
  LEFT JOIN snapshots AS s
    ON s.variant_id = i.variant_id AND s.location_id = i.location_id AND s.snapshot_date = d.day
  WINDOW carry AS (
    PARTITION BY i.variant_id, i.location_id ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  )
),

shared_out AS (
  SELECT
    c.*,
    SUM(c.pool_weight) OVER (PARTITION BY c.variant_id, c.day) AS pool_total,
    SUM(CASE WHEN c.is_active THEN 1 ELSE 0 END) OVER (PARTITION BY c.variant_id, c.day) AS pool_locations
  FROM carried AS c
),

daily AS (
  SELECT
    o.day,
    o.variant_id,
    o.location_id,
    o.is_snapshotted,
    o.can_sell,
    o.available,
    o.on_hand,
    o.incoming,
    COALESCE(placed.units, 0) + COALESCE(pooled.units, 0) * CASE
      WHEN NOT o.is_active THEN 0.0
      WHEN o.pool_total > 0 THEN o.pool_weight / o.pool_total
      ELSE 1.0 / o.pool_locations
    END AS units
  FROM shared_out AS o
  LEFT JOIN daily_sales AS placed
    ON placed.variant_id = o.variant_id AND placed.location_id = o.location_id AND placed.day = o.day
  LEFT JOIN daily_sales AS pooled
    ON pooled.variant_id = o.variant_id AND pooled.location_id IS NULL AND pooled.day = o.day
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
    is_snapshotted,
    SUM(units) OVER running_total AS units_total,
    SUM(CASE WHEN in_stock THEN units ELSE 0 END) OVER running_total AS in_stock_units_total,
    SUM(CASE WHEN in_stock THEN 1 ELSE 0 END) OVER running_total AS in_stock_days_total
  FROM (
    SELECT
      *,
      -- before the first snapshot: in stock unless the product cannot be bought (see the header)
      units > 0 OR CASE WHEN is_snapshotted THEN COALESCE(available > 0, FALSE) ELSE can_sell END AS in_stock
    FROM daily
  ) AS flagged
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
  WHERE cur.day >= @window_start AND cur.is_snapshotted
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
  CAST(ROUND(c.units_sold) AS INT64) AS units_sold,
  CAST(ROUND(c.in_stock_units_sold) AS INT64) AS in_stock_units_sold,
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
