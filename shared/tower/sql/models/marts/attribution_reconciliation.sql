-- Mart: what Shopify says each channel earned (attributed_orders) next to what the platform claims (its own
-- pixel's purchases and purchase value), per Monday week starting in [the Monday on or before @window_start,
-- @window_end) and attribution model, and the over-reporting factor = platform ÷ Shopify. Shopify's part is
-- split by how it was found: deterministic (a campaign UTM or a click id) and geo-credited (the geo + time
-- rule, capped by the platform's own conversions). The orders no ad earned have their own channel rows
-- (platform 'email', 'organic': a journey proving that source; 'unattributed': the rest), no spend, no claim.
-- Shopify weeks group store-local order dates, platform weeks account-local stat dates. The first week may
-- start before the window: its earlier days are read from attributed_orders as previous builds left them.
-- The last week is partial when the window ends mid-week (is_partial_week).
WITH shopify AS (
  SELECT
    CAST(DATE_TRUNC(a.order_date, WEEK(MONDAY)) AS DATE) AS week_start,
    COALESCE(a.platform, a.match_type) AS platform,
    m AS attribution_model,
    SUM(a.credit) AS shopify_orders,
    SUM(CAST(a.attributed_revenue_amount AS FLOAT64)) AS shopify_revenue,
    SUM(CASE WHEN a.match_type IN ('utm_campaign', 'click_id') THEN a.credit ELSE 0 END) AS deterministic_orders,
    SUM(
      CASE
        WHEN a.match_type IN ('utm_campaign', 'click_id') THEN CAST(a.attributed_revenue_amount AS FLOAT64) ELSE 0
      END
    ) AS deterministic_revenue,
    SUM(CASE WHEN a.match_type IN ('geo_region', 'geo_country') THEN a.credit ELSE 0 END) AS geo_orders,
    SUM(
      CASE
        WHEN a.match_type IN ('geo_region', 'geo_country') THEN CAST(a.attributed_revenue_amount AS FLOAT64) ELSE 0
      END
    ) AS geo_revenue
  FROM attributed_orders AS a
  -- an order whose credit no model changes (none touched it, or a deterministic rule placed it) is one row for
  -- all models ('all'): it counts in each
  CROSS JOIN
    UNNEST(
      CASE
        WHEN a.attribution_model = 'all' THEN ['last_touch', 'first_touch', 'linear', 'time_decay', 'position_based']
        ELSE [a.attribution_model]
      END
    ) AS m
  WHERE a.brand_id = @brand_id
    AND a.order_date >= CAST(DATE_TRUNC(@window_start, WEEK(MONDAY)) AS DATE)
    AND a.order_date < @window_end
  GROUP BY week_start, COALESCE(a.platform, a.match_type), m
),

reported AS (
  SELECT
    CAST(DATE_TRUNC(stat_date, WEEK(MONDAY)) AS DATE) AS week_start,
    platform,
    SUM(spend_amount) AS spend,
    SUM(purchases) AS purchases,
    SUM(purchase_value_amount) AS purchase_value
  FROM int_ads__performance
  WHERE stat_date >= CAST(DATE_TRUNC(@window_start, WEEK(MONDAY)) AS DATE)
  GROUP BY week_start, platform
),

keys AS (
  SELECT week_start, platform, attribution_model
  FROM reported
  CROSS JOIN UNNEST(['last_touch', 'first_touch', 'linear', 'time_decay', 'position_based']) AS attribution_model
  UNION DISTINCT
  SELECT week_start, platform, attribution_model
  FROM shopify
)

SELECT
  @brand_id AS brand_id,
  k.week_start,
  k.platform,
  k.attribution_model,
  CAST(DATE_ADD(k.week_start, INTERVAL 7 DAY) AS DATE) > @window_end AS is_partial_week,
  b.currency,
  CAST(COALESCE(r.spend, 0) AS NUMERIC) AS spend_amount,
  COALESCE(s.shopify_orders, 0) AS shopify_attributed_orders,
  CAST(COALESCE(s.shopify_revenue, 0) AS NUMERIC) AS shopify_attributed_revenue_amount,
  COALESCE(s.deterministic_orders, 0) AS deterministic_orders,
  CAST(COALESCE(s.deterministic_revenue, 0) AS NUMERIC) AS deterministic_revenue_amount,
  COALESCE(s.geo_orders, 0) AS geo_credited_orders,
  CAST(COALESCE(s.geo_revenue, 0) AS NUMERIC) AS geo_credited_revenue_amount,
  COALESCE(r.purchases, 0) AS platform_reported_purchases,
  CAST(COALESCE(r.purchase_value, 0) AS NUMERIC) AS platform_reported_revenue_amount,
  SAFE_DIVIDE(r.purchase_value, s.shopify_revenue) AS over_reporting_ratio,
  SAFE_DIVIDE(s.shopify_revenue, r.spend) AS shopify_roas,
  SAFE_DIVIDE(r.purchase_value, r.spend) AS platform_roas
FROM keys AS k
CROSS JOIN stg_tower__brands AS b
LEFT JOIN reported AS r ON r.week_start = k.week_start AND r.platform = k.platform
LEFT JOIN shopify AS s
  ON s.week_start = k.week_start AND s.platform = k.platform AND s.attribution_model = k.attribution_model
