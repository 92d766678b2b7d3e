-- Intermediate: each campaign × geography's touches inside each window, summarised once for all the window's
-- orders: count, first and last touch and their spend, the latest touch's stat_date, and decay weights relative
-- to the start of the window's last day (an order multiplies in its own offset). The touch ordering of
-- attributed_orders (touch_at, then specificity, spend, platform and campaign id) is numbered once over all
-- summaries as two integers: an order's last touch is its candidate with the highest last_rank, its first touch
-- the one with the highest first_rank (platform and campaign id break the last ties through campaign_key, their
-- rank: the same order, sorted as one integer). last_rank also names the summary (it is unique), so the large
-- joins downstream carry integers only. Click-only campaigns (int_attribution__touch_groups) have no summaries.
WITH window_days AS (
  SELECT w.window_id, w.account_timezone, w.last_day_at, day
  FROM (
    SELECT DISTINCT window_id, account_timezone, day_before_first, last_day, last_day_at
    FROM int_attribution__quarter_windows
  ) AS w
  CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(CAST(DATE_ADD(w.day_before_first, INTERVAL 1 DAY) AS DATE), w.last_day)) AS day
),

keyed_touches AS (
  SELECT g.touch_group, t.account_timezone, t.stat_date, t.touch_at, t.spend_amount
  FROM int_attribution__touches AS t
  INNER JOIN int_attribution__touch_groups AS g
    ON g.platform = t.platform
    AND g.campaign_id = t.campaign_id
    AND g.country_code = t.country_code
    AND g.geo_key = t.geo_key
  WHERE NOT g.is_click_only
),

window_touches AS (
  SELECT
    wd.window_id,
    t.touch_group,
    MAX(wd.last_day_at) AS last_day_at,
    COUNT(*) AS n_touches,
    MIN(t.touch_at) AS first_touch_at,
    MIN_BY(t.spend_amount, t.touch_at) AS first_touch_spend,
    MAX(t.touch_at) AS last_touch_at,
    MAX_BY(t.spend_amount, t.touch_at) AS last_touch_spend,
    MAX(t.stat_date) AS touch_date,
    SUM(POW(0.5, (UNIX_SECONDS(wd.last_day_at) - UNIX_SECONDS(t.touch_at)) / (3600.0 * @half_life_hours)))
      AS decay_at_last_day
  FROM window_days AS wd
  INNER JOIN keyed_touches AS t ON t.account_timezone = wd.account_timezone AND t.stat_date = wd.day
  GROUP BY wd.window_id, t.touch_group
)

SELECT
  w.*,
  g.platform,
  g.account_id,
  g.campaign_id,
  g.campaign_key,
  g.geo_id,
  g.geo_key,
  g.has_known_products,
  ROW_NUMBER() OVER (
    ORDER BY w.last_touch_at ASC, g.specificity ASC, w.last_touch_spend ASC, g.campaign_key DESC
  ) AS last_rank,
  ROW_NUMBER() OVER (
    ORDER BY w.first_touch_at DESC, g.specificity DESC, w.first_touch_spend DESC, g.campaign_key ASC
  ) AS first_rank
FROM window_touches AS w
INNER JOIN int_attribution__touch_groups AS g ON g.touch_group = w.touch_group
