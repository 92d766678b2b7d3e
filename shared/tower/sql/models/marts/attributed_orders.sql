-- grain: one row per order × attribution_model × credited campaign (or one 'unattributed' row), order_date in [@window_start, @window_end)
-- Mart. Credits of an order sum to 1 within each model; an order no rule can place gets one row per model with
-- platform and campaign NULL, match_type 'unattributed' and credit 1, so "credits sum to 1" holds for every order.
--
-- 1. Deterministic first: an order whose utm_campaign equals a campaign's id or name (case-insensitive) goes
--    wholly to that campaign in every model. Ambiguous names resolve to the platform the order's click id
--    (gclid / ttclid / fbclid) or utm_source names, then an id match over a name match, then platform and id.
--    match_type is 'click_id' when the order also carries that platform's click id, else 'utm_campaign'.
-- 2. Otherwise the product plan's geo + time rule. A touch is one campaign's spend on one account-local day
--    (touch_at: the day's start in UTC, see int_ads__performance) in the order's geography, within the lookback
--    order_at - @lookback_hours < touch_at <= order_at, from a campaign that promotes one of the order's products
--    where ad_campaign_products says what it promotes (any order otherwise). Geography, per campaign and country:
--      * a campaign reporting regions there touches orders shipped to those regions ('geo_region');
--      * a campaign reporting only the country touches orders anywhere in it ('geo_country');
--      * an order without a region is touched by campaigns' whole-country spend ('geo_country').
-- 3. The models share one ordering of an order's touches: by touch_at; among touches at the same moment (ad
--    platforms report by day, so every campaign that spent that day ties) the more specific campaign counts as
--    later: the one promoting fewer products (a campaign that names none is the least specific), as an ad for
--    the very product bought is likelier the one that sold it than a catalogue-wide or broad one, and spend
--    alone would hand every tie to the biggest budget. Then the one with more spend in that geography, then
--    platform and campaign id descending, so the order is total and every model deterministic.
--      last_touch      all credit to the last touch        first_touch  all credit to the first touch
--      linear          1/n per touch                       time_decay   weight 0.5^(hours before order / @half_life_hours)
--      position_based  40% first, 40% last, 20% shared by the middle (1 touch: 100%; 2 touches: 50/50)
--    A campaign's credit is the sum over its touches; touch_date is its latest touch's stat_date.
--
-- Set-based, never per order: a touch at the start of account-local day s lies in the lookback exactly when
-- local_date(order_at - lookback) < s <= local_date(order_at). Orders therefore share "windows" (a timezone and
-- that pair of days); each campaign's touches are summarised once per window (count, first and last touch,
-- their spend, decay weights relative to the window's last day) and every order joins its window's summaries.
WITH orders_in_window AS (
  SELECT *
  FROM int_shopify__orders
  WHERE order_date >= @window_start
),

campaigns AS (
  SELECT platform, account_id, campaign_id, campaign_name
  FROM stg_ads__campaigns
),

campaign_keys AS (
  SELECT LOWER(TRIM(campaign_id)) AS match_key, 1 AS key_rank, platform, account_id, campaign_id
  FROM campaigns
  UNION ALL
  SELECT LOWER(TRIM(campaign_name)) AS match_key, 2 AS key_rank, platform, account_id, campaign_id
  FROM campaigns
  WHERE campaign_name IS NOT NULL AND TRIM(campaign_name) != ''
),

deterministic AS (
  SELECT
    o.order_key,
    k.platform,
    k.account_id,
    k.campaign_id,
    CASE WHEN o.click_platform = k.platform THEN 'click_id' ELSE 'utm_campaign' END AS match_type
  FROM orders_in_window AS o
  INNER JOIN campaign_keys AS k ON k.match_key = o.utm_campaign_key
  WHERE TRUE  -- BigQuery accepts QUALIFY only beside a WHERE, GROUP BY or HAVING
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY o.order_key
    ORDER BY
      CASE WHEN k.platform = o.click_platform THEN 0 ELSE 1 END,
      CASE WHEN k.platform = o.utm_platform THEN 0 ELSE 1 END,
      k.key_rank,
      k.platform,
      k.campaign_id
  ) = 1
),

promoted AS (
  SELECT platform, campaign_id, product_id
  FROM int_ads__promoted_products
),

campaigns_with_known_products AS (
  SELECT platform, campaign_id, COUNT(*) AS n_promoted
  FROM promoted
  GROUP BY platform, campaign_id
),


spend_days AS (
  SELECT
    platform, account_id, campaign_id, account_timezone, country_code, region_code, stat_date, touch_at,
    SUM(spend_amount) AS spend_amount
  FROM int_ads__performance
  WHERE spend_amount > 0
  GROUP BY platform, account_id, campaign_id, account_timezone, country_code, region_code, stat_date, touch_at
),

-- a campaign that reports regions in a country touches by region there; its country-only rows (regions the
-- platform could not name) then only count towards its whole-country spend
campaign_geo_levels AS (
  SELECT platform, campaign_id, country_code, LOGICAL_OR(region_code != '') AS has_regions
  FROM spend_days
  GROUP BY platform, campaign_id, country_code
),

-- geo_key: a region code, '' (a country-only campaign) or '*' (whole-country spend, for orders without region)
touches AS (
  SELECT
    s.platform, s.account_id, s.campaign_id, s.account_timezone, s.country_code,
    CASE WHEN g.has_regions THEN s.region_code ELSE '' END AS geo_key,
    s.stat_date, s.touch_at, s.spend_amount
  FROM spend_days AS s
  INNER JOIN campaign_geo_levels AS g
    ON g.platform = s.platform AND g.campaign_id = s.campaign_id AND g.country_code = s.country_code
  WHERE s.region_code != '' OR NOT g.has_regions
  UNION ALL
  SELECT
    platform, account_id, campaign_id, account_timezone, country_code, '*' AS geo_key, stat_date, touch_at,
    SUM(spend_amount) AS spend_amount
  FROM spend_days
  GROUP BY platform, account_id, campaign_id, account_timezone, country_code, stat_date, touch_at
),

-- small integers per campaign × country × geography, per campaign and per country × geography, so the heavy
-- groupings and joins below run on integers
touch_groups AS (
  SELECT
    t.platform, t.account_id, t.campaign_id, t.account_timezone, t.country_code, t.geo_key,
    k.campaign_id IS NOT NULL AS has_known_products,
    -- more specific = larger; a campaign that names no products ranks below any that does
    -COALESCE(k.n_promoted, 1000000000) AS specificity,
    ROW_NUMBER() OVER (ORDER BY t.platform, t.campaign_id, t.country_code, t.geo_key) AS touch_group,
    DENSE_RANK() OVER (ORDER BY t.platform, t.campaign_id) AS campaign_key,
    DENSE_RANK() OVER (ORDER BY t.country_code, t.geo_key) AS geo_id
  FROM (SELECT DISTINCT platform, account_id, campaign_id, account_timezone, country_code, geo_key FROM touches) AS t
  LEFT JOIN campaigns_with_known_products AS k ON k.platform = t.platform AND k.campaign_id = t.campaign_id
),

geo_ids AS (
  SELECT DISTINCT country_code, geo_key, geo_id
  FROM touch_groups
),

-- (order, campaign) pairs where a campaign that touched somewhere promotes one of the order's products
-- (one integer per pair: order_key × (campaigns + 1) + campaign_key). Only ever the right side of an IN, so
-- pairs repeat (an order with two of a campaign's products): removing them cost more than the lookups save.
promoting_pairs AS (
  SELECT l.order_key * (SELECT MAX(campaign_key) + 1 FROM touch_groups) + c.campaign_key AS pair
  FROM int_shopify__order_lines AS l
  INNER JOIN promoted AS p ON p.product_id = l.product_id
  INNER JOIN (SELECT DISTINCT platform, campaign_id, campaign_key FROM touch_groups) AS c
    ON c.platform = p.platform AND c.campaign_id = p.campaign_id
  WHERE l.order_date >= @window_start
),

keyed_touches AS (
  SELECT g.touch_group, t.account_timezone, t.stat_date, t.touch_at, t.spend_amount
  FROM touches AS t
  INNER JOIN touch_groups AS g
    ON g.platform = t.platform
    AND g.campaign_id = t.campaign_id
    AND g.country_code = t.country_code
    AND g.geo_key = t.geo_key
),

undetermined AS (
  SELECT o.*
  FROM orders_in_window AS o
  LEFT JOIN deterministic AS d ON d.order_key = o.order_key
  WHERE d.order_key IS NULL AND o.country_code IS NOT NULL
),

-- Local dates change only on a quarter hour of UTC (every timezone's offset, and every change of it, is a whole
-- number of quarter hours), and the lookback is whole hours: so the account-local days of an order's window
-- are those of the quarter hour it falls in, converted once per quarter hour and timezone, not once per order.
order_quarters AS (
  SELECT order_key, order_at, country_code, region_code, DIV(UNIX_SECONDS(order_at), 900) AS quarter
  FROM undetermined
),

-- per quarter hour and ad-account timezone: the account-local days whose start lies in the lookback
quarter_days AS (
  SELECT
    q.quarter,
    tz.account_timezone,
    DATE(TIMESTAMP_SUB(TIMESTAMP_SECONDS(q.quarter * 900), INTERVAL @lookback_hours HOUR), tz.account_timezone)
      AS day_before_first,
    DATE(TIMESTAMP_SECONDS(q.quarter * 900), tz.account_timezone) AS last_day
  FROM (SELECT DISTINCT quarter FROM order_quarters) AS q
  CROSS JOIN (SELECT DISTINCT account_timezone FROM touches) AS tz
),

windows AS (
  SELECT
    account_timezone, day_before_first, last_day, TIMESTAMP(last_day, account_timezone) AS last_day_at,
    ROW_NUMBER() OVER (ORDER BY account_timezone, day_before_first, last_day) AS window_id
  FROM (SELECT DISTINCT account_timezone, day_before_first, last_day FROM quarter_days)
),

quarter_windows AS (
  SELECT q.quarter, w.window_id
  FROM quarter_days AS q
  INNER JOIN windows AS w
    ON w.account_timezone = q.account_timezone
    AND w.day_before_first = q.day_before_first
    AND w.last_day = q.last_day
),

window_days AS (
  SELECT w.window_id, w.account_timezone, w.last_day_at, day
  FROM windows AS w
  CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(CAST(DATE_ADD(w.day_before_first, INTERVAL 1 DAY) AS DATE), w.last_day)) AS day
),

-- each campaign × geography's touches inside each window, summarised once for all the window's orders
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
    -- decay weights relative to the start of the window's last day; an order multiplies in its own offset
    SUM(POW(0.5, (UNIX_SECONDS(wd.last_day_at) - UNIX_SECONDS(t.touch_at)) / (3600.0 * @half_life_hours)))
      AS decay_at_last_day
  FROM window_days AS wd
  INNER JOIN keyed_touches AS t ON t.account_timezone = wd.account_timezone AND t.stat_date = wd.day
  GROUP BY wd.window_id, t.touch_group
),

-- the touch ordering as two integers, numbered once over all summaries: an order's last touch is the
-- candidate with the highest last_rank, its first touch the one with the highest first_rank. last_rank also
-- names the summary (it is unique), so the large join below carries integers only.
ranked_touches AS (
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
      ORDER BY w.last_touch_at, g.specificity, w.last_touch_spend, g.platform DESC, g.campaign_id DESC
    ) AS last_rank,
    ROW_NUMBER() OVER (
      ORDER BY w.first_touch_at DESC, g.specificity DESC, w.first_touch_spend DESC, g.platform, g.campaign_id
    ) AS first_rank
  FROM window_touches AS w
  INNER JOIN touch_groups AS g ON g.touch_group = w.touch_group
),

-- per undetermined order and ad-account timezone: its window, and the geographies that touch it (its region
-- and its country's country-only campaigns, or without a region the whole-country spend) as integers
order_geo_windows AS (
  SELECT o.order_key, o.order_at, qw.window_id, order_geo_id AS geo_id
  FROM order_quarters AS o
  INNER JOIN quarter_windows AS qw ON qw.quarter = o.quarter
  LEFT JOIN geo_ids AS r ON r.country_code = o.country_code AND r.geo_key = o.region_code
  LEFT JOIN geo_ids AS c ON c.country_code = o.country_code AND c.geo_key = ''
  LEFT JOIN geo_ids AS w ON w.country_code = o.country_code AND w.geo_key = '*'
  CROSS JOIN UNNEST(CASE WHEN o.region_code IS NULL THEN [w.geo_id] ELSE [r.geo_id, c.geo_id] END) AS order_geo_id
),

-- every campaign that touched the order's geography in its window; a campaign that says which products it
-- promotes only if it promotes one of the order's. Integers only: the descriptive columns join back later.
candidates AS (
  SELECT
    o.order_key, t.last_rank, t.first_rank, t.n_touches,
    t.decay_at_last_day
      * POW(0.5, (UNIX_SECONDS(o.order_at) - UNIX_SECONDS(t.last_day_at)) / (3600.0 * @half_life_hours)) AS decay_weight
  FROM order_geo_windows AS o
  INNER JOIN ranked_touches AS t ON t.window_id = o.window_id AND t.geo_id = o.geo_id
  WHERE NOT t.has_known_products
    OR o.order_key * (SELECT MAX(campaign_key) + 1 FROM touch_groups) + t.campaign_key
      IN (SELECT pair FROM promoting_pairs)
),

order_totals AS (
  SELECT
    order_key,
    SUM(n_touches) AS order_touches,
    SUM(decay_weight) AS order_decay,
    MAX(last_rank) AS top_last_rank,
    MAX(first_rank) AS top_first_rank
  FROM candidates
  GROUP BY order_key
),

per_campaign AS (
  SELECT
    o.order_id,
    o.order_date,
    o.order_at,
    o.net_revenue_amount,
    o.country_code,
    o.region_code,
    r.platform,
    r.account_id,
    r.campaign_id,
    CASE WHEN r.geo_key = o.region_code THEN 'geo_region' ELSE 'geo_country' END AS match_type,
    r.touch_date,
    c.n_touches,
    c.last_rank = t.top_last_rank AS has_last_touch,
    c.first_rank = t.top_first_rank AS has_first_touch,
    c.n_touches / t.order_touches AS credit_linear,
    c.decay_weight / t.order_decay AS credit_time_decay,
    CASE
      WHEN t.order_touches = 1 THEN 1.0
      WHEN t.order_touches = 2 THEN 0.5 * c.n_touches
      ELSE 0.4 * (CASE WHEN c.first_rank = t.top_first_rank THEN 1 ELSE 0 END)
        + 0.4 * (CASE WHEN c.last_rank = t.top_last_rank THEN 1 ELSE 0 END)
        + 0.2 * (c.n_touches - (CASE WHEN c.first_rank = t.top_first_rank THEN 1 ELSE 0 END)
          - (CASE WHEN c.last_rank = t.top_last_rank THEN 1 ELSE 0 END)) / (t.order_touches - 2)
    END AS credit_position_based
  FROM candidates AS c
  INNER JOIN order_totals AS t ON t.order_key = c.order_key
  INNER JOIN ranked_touches AS r ON r.last_rank = c.last_rank
  INNER JOIN undetermined AS o ON o.order_key = c.order_key
),

credited AS (
  SELECT *, 'last_touch' AS attribution_model, 1.0 AS credit
  FROM per_campaign
  WHERE has_last_touch
  UNION ALL
  SELECT *, 'first_touch' AS attribution_model, 1.0 AS credit
  FROM per_campaign
  WHERE has_first_touch
  UNION ALL
  SELECT *, 'linear' AS attribution_model, credit_linear AS credit
  FROM per_campaign
  UNION ALL
  SELECT *, 'time_decay' AS attribution_model, credit_time_decay AS credit
  FROM per_campaign
  WHERE credit_time_decay > 0
  UNION ALL
  SELECT *, 'position_based' AS attribution_model, credit_position_based AS credit
  FROM per_campaign
  WHERE credit_position_based > 0
),

-- deterministic and unattributed orders: the same credit (1) in every model
whole_orders AS (
  SELECT o.*, d.platform, d.account_id, d.campaign_id, d.match_type
  FROM orders_in_window AS o
  INNER JOIN deterministic AS d ON d.order_key = o.order_key
  UNION ALL
  SELECT o.*, CAST(NULL AS STRING) AS platform, CAST(NULL AS STRING) AS account_id,
    CAST(NULL AS STRING) AS campaign_id, 'unattributed' AS match_type
  FROM orders_in_window AS o
  WHERE o.order_key NOT IN (SELECT order_key FROM deterministic)
    AND o.order_key NOT IN (SELECT order_key FROM order_totals)
)

SELECT
  @brand_id AS brand_id, order_id, order_date, order_at, attribution_model, platform, campaign_id,
  match_type, touch_date, n_touches AS touches, credit,
  CAST(net_revenue_amount * credit AS NUMERIC) AS attributed_revenue_amount,
  (SELECT currency FROM stg_tower__brands) AS currency
FROM credited
UNION ALL
SELECT
  @brand_id AS brand_id, w.order_id, w.order_date, w.order_at, attribution_model, w.platform,
  w.campaign_id, w.match_type, CAST(NULL AS DATE) AS touch_date, 0 AS touches, 1.0 AS credit,
  CAST(w.net_revenue_amount AS NUMERIC) AS attributed_revenue_amount, w.currency
FROM whole_orders AS w
CROSS JOIN UNNEST(['last_touch', 'first_touch', 'linear', 'time_decay', 'position_based']) AS attribution_model
