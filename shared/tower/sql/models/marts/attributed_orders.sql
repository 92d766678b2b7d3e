-- Mart: which campaigns each order of [@window_start, @window_end) is credited to, under each attribution model.
-- Credits of an order sum to 1 within each model. An order whose credit no model changes is one fact whatever
-- the model: one row with attribution_model 'all' and credit 1 (readers of one model read its rows and the 'all'
-- rows). That is an order no campaign touched (platform and campaign NULL, match_type 'email' or 'organic' when
-- its journey proves that source (int_shopify__orders.known_source), else 'unattributed'), and an order a
-- deterministic rule gives wholly to one campaign (step 1).
--
-- 1. Deterministic first. A gclid Google's click_view reported goes wholly to the campaign of that click, in
--    every model, match_type 'click_id' (int_attribution__click_view_matches; click_view keeps 90 days).
--    Then an order whose utm_campaign equals a campaign's id or name (case-insensitive) goes
--    wholly to that campaign in every model. Ambiguous names resolve to the platform the order's click id
--    (gclid / ttclid / fbclid) or utm_source names, then an id match over a name match, then platform and id.
--    match_type is 'click_id' when the order also carries that platform's click id, else 'utm_campaign'
--    (int_attribution__utm_matches).
--    Then a click id without a campaign UTM: the order goes wholly to that platform's campaign promoting one of
--    its products, wherever it shipped, match_type 'click_id' (int_attribution__click_matches).
-- Orders whose journey proves a non-paid source (e-mail, organic search, POS, draft orders: known_source in
-- int_shopify__orders) are never geo-credited: they stay 'email' / 'organic'.
-- 2. Otherwise the product plan's geo + time rule, limited to one platform's campaigns when the journey names
--    one (a click id no campaign took, utm_source, or the platform's referrer), and leaving out Google Search
--    and Shopping campaigns where the store's orders show auto-tagging (they earn by clicks: found by gclid).
--    A touch is one campaign's spend on one account-local day
--    (touch_at: the day's start in UTC, see int_ads__performance) in the order's geography, within the lookback
--    order_at - @lookback_hours < touch_at <= order_at, from a campaign that promotes one of the order's products
--    where ad_campaign_products says what it promotes (any order otherwise). Geography, per campaign and country:
--      * a campaign reporting regions there touches orders shipped to those regions ('geo_region');
--      * a campaign reporting only the country touches orders anywhere in it ('geo_country');
--      * an order without a region is touched by campaigns' whole-country spend ('geo_country').
--    (int_attribution__touches, __touch_groups, __unmatched_orders, __quarter_windows, __window_touches.)
-- 3. The models share one ordering of an order's touches: by touch_at; among touches at the same moment (ad
--    platforms report by day, so every campaign that spent that day ties) the more specific campaign counts as
--    later: the one promoting fewer products (a campaign that names none is the least specific), as an ad for
--    the very product bought is likelier the one that sold it than a catalogue-wide or broad one, and spend
--    alone would hand every tie to the biggest budget. Then the one with more spend in that geography, then
--    platform and campaign id descending, so the order is total and every model deterministic.
--      last_touch      all credit to the last touch
--      first_touch     all credit to the first touch
--      linear          1/n per touch
--      time_decay      weight 0.5^(hours before order / @half_life_hours)
--      position_based  40% first, 40% last, 20% shared by the middle (1 touch: 100%; 2 touches: 50/50)
--    A campaign's credit is the sum over its touches; touch_date is its latest touch's stat_date
--    (int_attribution__geo_time_credits).
-- 4. The platform's own word caps the geo + time rule: per model, what it credits a campaign in one geography
--    (the order's region, or the whole country) for one account-local touch day is at most the conversions the
--    platform reported there that day, less the orders the deterministic rules gave the campaign there
--    (int_attribution__geo_caps). Orders fill that room in the order they were placed; what an order's credits
--    leave of 1 is one 'unattributed' row.
--
-- Set-based, never per order: orders share "windows" (an account timezone and the pair of local days that
-- bound the lookback); each campaign's touches are summarised once per window (count, first and last touch,
-- their spend, decay weights relative to the window's last day) and every order joins its window's summaries.
WITH orders_in_window AS (
  SELECT *
  FROM int_shopify__orders
  WHERE order_date >= @window_start
),

deterministic AS (
  SELECT order_key, platform, account_id, campaign_id, match_type
  FROM int_attribution__click_view_matches
  UNION ALL
  SELECT order_key, platform, account_id, campaign_id, match_type
  FROM int_attribution__utm_matches
  UNION ALL
  SELECT order_key, platform, account_id, campaign_id, match_type
  FROM int_attribution__click_matches
),

credited AS (
  SELECT *, 'last_touch' AS attribution_model, 1.0 AS credit
  FROM int_attribution__geo_time_credits
  WHERE has_last_touch
  UNION ALL
  SELECT *, 'first_touch' AS attribution_model, 1.0 AS credit
  FROM int_attribution__geo_time_credits
  WHERE has_first_touch
  UNION ALL
  SELECT *, 'linear' AS attribution_model, credit_linear AS credit
  FROM int_attribution__geo_time_credits
  UNION ALL
  SELECT *, 'time_decay' AS attribution_model, credit_time_decay AS credit
  FROM int_attribution__geo_time_credits
  WHERE credit_time_decay > 0
  UNION ALL
  SELECT *, 'position_based' AS attribution_model, credit_position_based AS credit
  FROM int_attribution__geo_time_credits
  WHERE credit_position_based > 0
),

-- each credit, cut to the room its campaign × geography × touch day has left once the earlier orders took theirs
asked AS (
  SELECT
    c.*,
    k.capacity,
    COALESCE(SUM(c.credit) OVER (
      PARTITION BY c.attribution_model, c.platform, c.campaign_id, c.country_code, c.cap_geo, c.touch_date
      ORDER BY c.order_at, c.order_key
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), 0) AS asked_before
  FROM credited AS c
  LEFT JOIN int_attribution__geo_caps AS k
    ON k.platform = c.platform
    AND k.campaign_id = c.campaign_id
    AND k.country_code = c.country_code
    AND k.cap_geo = c.cap_geo
    AND k.stat_date = c.touch_date
),

capped AS (
  SELECT
    a.* EXCEPT (credit, capacity, asked_before),
    -- room under 1e-9 is the running sum's rounding, not room: left as it was, a credit of 2e-16 came and went
    -- between builds of the same data with the order the engine added the earlier credits in
    CASE
      WHEN a.capacity IS NULL THEN a.credit
      WHEN a.capacity - a.asked_before < 1e-9 THEN 0.0
      ELSE LEAST(a.credit, a.capacity - a.asked_before)
    END AS credit
  FROM asked AS a
),

-- what the caps left of a geo-credited order: one unattributed row per model
residuals AS (
  SELECT
    c.order_key, c.order_id, c.order_date, c.order_at, c.net_revenue_amount, c.attribution_model,
    1.0 - SUM(c.credit) AS credit
  FROM capped AS c
  GROUP BY c.order_key, c.order_id, c.order_date, c.order_at, c.net_revenue_amount, c.attribution_model
  HAVING SUM(c.credit) < 1.0 - 1e-9
),

-- deterministic orders: the same credit (1) in every model, so one 'all' row
whole_orders AS (
  SELECT o.*, d.platform, d.account_id, d.campaign_id, d.match_type
  FROM orders_in_window AS o
  INNER JOIN deterministic AS d ON d.order_key = o.order_key
),

-- orders no campaign touched: one fact for every model
untouched AS (
  SELECT o.*, COALESCE(o.known_source, 'unattributed') AS match_type
  FROM orders_in_window AS o
  WHERE o.order_key NOT IN (SELECT u.order_key FROM deterministic AS u)
    AND o.order_key NOT IN (SELECT g.order_key FROM int_attribution__geo_time_credits AS g)
)

SELECT
  @brand_id AS brand_id, order_id, order_date, order_at, attribution_model, platform, campaign_id,
  match_type, touch_date, n_touches AS touches, credit,
  CAST(net_revenue_amount * credit AS NUMERIC) AS attributed_revenue_amount,
  (SELECT b.currency FROM stg_tower__brands AS b) AS currency
FROM capped
WHERE credit > 0
UNION ALL
SELECT
  @brand_id AS brand_id, order_id, order_date, order_at, attribution_model, CAST(NULL AS STRING) AS platform,
  CAST(NULL AS STRING) AS campaign_id, 'unattributed' AS match_type, CAST(NULL AS DATE) AS touch_date,
  0 AS touches, credit, CAST(net_revenue_amount * credit AS NUMERIC) AS attributed_revenue_amount,
  (SELECT b.currency FROM stg_tower__brands AS b) AS currency
FROM residuals
UNION ALL
SELECT
  @brand_id AS brand_id, w.order_id, w.order_date, w.order_at, 'all' AS attribution_model, w.platform,
  w.campaign_id, w.match_type, CAST(NULL AS DATE) AS touch_date, 0 AS touches, 1.0 AS credit,
  CAST(w.net_revenue_amount AS NUMERIC) AS attributed_revenue_amount, w.currency
FROM whole_orders AS w
UNION ALL
SELECT
  @brand_id AS brand_id, u.order_id, u.order_date, u.order_at, 'all' AS attribution_model,
  CAST(NULL AS STRING) AS platform, CAST(NULL AS STRING) AS campaign_id, u.match_type,
  CAST(NULL AS DATE) AS touch_date, 0 AS touches, 1.0 AS credit,
  CAST(u.net_revenue_amount AS NUMERIC) AS attributed_revenue_amount, u.currency
FROM untouched AS u
