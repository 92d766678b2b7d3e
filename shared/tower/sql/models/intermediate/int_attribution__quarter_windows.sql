-- Intermediate: attribution's lookback windows, set-based rather than per order. A touch at the start of
-- account-local day s lies in an order's lookback exactly when local_date(order_at - @lookback_hours) < s <=
-- local_date(order_at). Local dates change only on a quarter hour of UTC (every timezone's offset, and every
-- change of it, is a whole number of quarter hours), and the lookback is whole hours: so the account-local days
-- of an order's window are those of the quarter hour it falls in, converted once per quarter hour and timezone,
-- not once per order. Orders share windows (a timezone and that pair of days), numbered by window_id.
WITH quarter_days AS (
  SELECT
    q.quarter,
    tz.account_timezone,
    DATE(TIMESTAMP_SUB(TIMESTAMP_SECONDS(q.quarter * 900), INTERVAL @lookback_hours HOUR), tz.account_timezone)
      AS day_before_first,
    DATE(TIMESTAMP_SECONDS(q.quarter * 900), tz.account_timezone) AS last_day
  FROM (SELECT DISTINCT quarter FROM int_attribution__unmatched_orders) AS q
  CROSS JOIN (SELECT DISTINCT account_timezone FROM int_attribution__touches) AS tz
),

windows AS (
  SELECT
    account_timezone, day_before_first, last_day, TIMESTAMP(last_day, account_timezone) AS last_day_at,
    ROW_NUMBER() OVER (ORDER BY account_timezone, day_before_first, last_day) AS window_id
  FROM (SELECT DISTINCT account_timezone, day_before_first, last_day FROM quarter_days)
)

SELECT q.quarter, w.window_id, w.account_timezone, w.day_before_first, w.last_day, w.last_day_at
FROM quarter_days AS q
INNER JOIN windows AS w
  ON w.account_timezone = q.account_timezone
  AND w.day_before_first = q.day_before_first
  AND w.last_day = q.last_day
