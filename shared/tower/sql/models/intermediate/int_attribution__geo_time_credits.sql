-- Intermediate: attributed_orders' geo + time rule, one row per unmatched order × campaign that touched it, with
-- what each attribution model credits that campaign (see attributed_orders for the models and the ordering of
-- touches). A campaign's credit is the sum over its touches; touch_date is its latest touch's stat_date;
-- match_type 'geo_region' when it touched the order's region, else 'geo_country'. Orders no campaign touched
-- have no row here.
WITH geo_ids AS (
  SELECT DISTINCT country_code, geo_key, geo_id
  FROM int_attribution__touch_groups
),

touched_campaigns AS (
  SELECT DISTINCT platform, campaign_id, campaign_key
  FROM int_attribution__touch_groups
),

-- (order, campaign) pairs where a campaign that touched somewhere promotes one of the order's products
-- (one integer per pair: order_key × (campaigns + 1) + campaign_key). Only ever the right side of an IN, so
-- pairs repeat (an order with two of a campaign's products): removing them cost more than the lookups save.
-- Only the lines of the orders the rule may credit: the others' pairs would never be looked up (at 1M orders
-- they are over half the lines, and the pairs' hash table shrinks by as much).
promoting_pairs AS (
  SELECT l.order_key * (SELECT MAX(g.campaign_key) + 1 FROM int_attribution__touch_groups AS g) + c.campaign_key AS pair
  FROM int_shopify__order_lines AS l
  INNER JOIN int_ads__promoted_products AS p ON p.product_id = l.product_id
  INNER JOIN touched_campaigns AS c ON c.platform = p.platform AND c.campaign_id = p.campaign_id
  WHERE l.order_date >= @window_start
    AND l.order_key IN (SELECT u.order_key FROM int_attribution__unmatched_orders AS u)
),

-- per order and ad-account timezone: its window, and the geographies that touch it (its region and its
-- country's country-only campaigns, or without a region the whole-country spend) as integers
order_geo_windows AS (
  SELECT o.order_key, o.order_at, o.only_platform, qw.window_id, order_geo_id AS geo_id
  FROM int_attribution__unmatched_orders AS o
  INNER JOIN int_attribution__quarter_windows AS qw ON qw.quarter_hour = o.quarter_hour
  LEFT JOIN geo_ids AS r ON r.country_code = o.country_code AND r.geo_key = o.region_code
  LEFT JOIN geo_ids AS c ON c.country_code = o.country_code AND c.geo_key = ''
  LEFT JOIN geo_ids AS w ON w.country_code = o.country_code AND w.geo_key = '*'
  CROSS JOIN UNNEST(CASE WHEN o.region_code IS NULL THEN [w.geo_id] ELSE [r.geo_id, c.geo_id] END) AS order_geo_id
),

-- every campaign that touched the order's geography in its window, of the one platform its journey names if
-- it names one; a campaign that says which products it promotes only if it promotes one of the order's.
-- Integers only: the descriptive columns join back later.
candidates AS (
  SELECT
    o.order_key, t.last_rank, t.first_rank, t.n_touches,
    t.decay_at_last_day * POW(
      0.5, (UNIX_SECONDS(o.order_at) - UNIX_SECONDS(t.last_day_at)) / (3600.0 * @half_life_hours)
    ) AS decay_weight
  FROM order_geo_windows AS o
  INNER JOIN int_attribution__window_touches AS t ON t.window_id = o.window_id AND t.geo_id = o.geo_id
  WHERE
    (o.only_platform IS NULL OR t.platform = o.only_platform)
    AND (
      NOT t.has_known_products
      OR o.order_key * (SELECT MAX(g.campaign_key) + 1 FROM int_attribution__touch_groups AS g) + t.campaign_key
      IN (SELECT pp.pair FROM promoting_pairs AS pp)
    )
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
)

SELECT
  o.order_key,
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
  CASE WHEN r.geo_key = o.region_code THEN o.region_code ELSE '*' END AS cap_geo,
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
      + 0.2 * (
        c.n_touches
        - (CASE WHEN c.first_rank = t.top_first_rank THEN 1 ELSE 0 END)
        - (CASE WHEN c.last_rank = t.top_last_rank THEN 1 ELSE 0 END)
      ) / (t.order_touches - 2)
  END AS credit_position_based
FROM candidates AS c
INNER JOIN order_totals AS t ON t.order_key = c.order_key
INNER JOIN int_attribution__window_touches AS r ON r.last_rank = c.last_rank
INNER JOIN int_attribution__unmatched_orders AS o ON o.order_key = c.order_key
