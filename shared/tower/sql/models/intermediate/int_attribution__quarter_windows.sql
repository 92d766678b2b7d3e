-- Intermediate: attribution's lookback windows, set-based rather than per order. A touch at the start of
-- account-local day s lies in an order's lookback exactly when local_date(order_at - @lookback_hours) < s <=
-- local_date(order_at). Local dates change only on a quarter hour of UTC (every timezone's offset, and every
-- change of it, is a whole number of quarter hours), and the lookback is whole hours: so the account-local days
-- of an order's window are those of the quarter hour it falls in, converted once per quarter hour and timezone,
-- not once per order. Orders share windows (a timezone and that pair of days), numbered by window_id.
WITH account_timezones AS (
  SELECT DISTINCT account_timezone
  FROM int_attribution__touches
),

quarter_days AS (
  SELECT
    q.quarter_hour,
    tz.account_timezone,
    DATE(TIMESTAMP_SUB(TIMESTAMP_SECONDS(q.quarter_hour * 900), INTERVAL @lookback_hours HOUR), tz.account_timezone)
      AS day_before_first,
    DATE(TIMESTAMP_SECONDS(q.quarter_hour * 900), tz.account_timezone) AS last_day
  FROM (SELECT DISTINCT quarter_hour FROM int_attribution__unmatched_orders) AS q
  CROSS JOIN account_timezones AS tz
),

windows AS (
  SELECT
    d.account_timezone, d.day_before_first, d.last_day, TIMESTAMP(d.last_day, d.account_timezone) AS last_day_at,
    ROW_NUMBER() OVER (ORDER BY d.account_timezone, d.day_before_first, d.last_day) AS window_id
  FROM (SELECT DISTINCT account_timezone, day_before_first, last_day FROM quarter_days) AS d
)

SELECT q.quarter_hour, w.window_id, w.account_timezone, w.day_before_first, w.last_day, w.last_day_at
FROM quarter_days AS q
INNER JOIN windows AS w
  ON w.account_timezone = q.account_timezone
  AND w.day_before_first = q.day_before_first
  AND w.last_day = q.last_day
