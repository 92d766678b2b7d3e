-- Rule: a campaign's spend per product over a reader's window. The one place that turns spend into spend per
-- product: every reader that shows spend (or ROAS) by product reads window_spend and never sums
-- unified_performance.spend_amount by product_id itself. unified_performance keeps the spend of a campaign ×
-- geography × day that earned nothing that day whole, on a row with product NULL; a window of days is what
-- gives a campaign's product mix enough orders to measure.
--   * The input is the reader's own CTE window_rows: the unified_performance rows of its window(s), one column
--     window_key telling its windows apart (a constant for a reader with one window), and channel, account_id,
--     campaign_id, country_code, region_code, location_id, product_id, spend and revenue (FLOAT64).
--     tower.sql.load splices this file's CTEs in after that CTE when a reader names window_spend (in a model,
--     ad_campaign_products is read through its staging model).
--   * 'revenue_mix': a campaign that earned in the window spends on each product by that product's share of
--     all the revenue attributed to the campaign over the window (its product mix, negative sums counted as
--     0), in every geography where it spent: the mix is the campaign's (its ads and catalogue), not a
--     state's, whose few orders a window could not measure.
--   * 'promoted_equal': a campaign that earned nothing in the window spends equally on the products it promotes
--     (ad_campaign_products).
--   * 'unallocated': a campaign that earned nothing and names no products keeps its spend on product NULL,
--     shown as such.
-- Nothing is dropped: a campaign × geography's spend over the window sums to what the rows of window_rows hold.
-- Mirrored in tower_dev.reference.window_spend.
WITH spend_rule__geo AS (
  SELECT
    window_key, channel, campaign_id, country_code, region_code,
    MAX(account_id) AS account_id, MAX(location_id) AS location_id, SUM(spend) AS spend
  FROM window_rows
  WHERE channel IS NOT NULL AND campaign_id IS NOT NULL
  GROUP BY window_key, channel, campaign_id, country_code, region_code
  HAVING SUM(spend) != 0
),

spend_rule__mix AS (
  SELECT
    window_key, channel, campaign_id, product_id,
    GREATEST(COALESCE(SUM(revenue), 0), 0) AS earned,
    SUM(GREATEST(COALESCE(SUM(revenue), 0), 0)) OVER (PARTITION BY window_key, channel, campaign_id)
      AS campaign_earned
  FROM window_rows
  WHERE channel IS NOT NULL AND campaign_id IS NOT NULL AND product_id IS NOT NULL
  GROUP BY window_key, channel, campaign_id, product_id
),

spend_rule__earning AS (
  SELECT DISTINCT window_key, channel, campaign_id
  FROM spend_rule__mix
  WHERE campaign_earned > 0
),

spend_rule__promoted AS (
  SELECT DISTINCT platform AS channel, campaign_id, product_id
  FROM ad_campaign_products
  WHERE brand_id = @brand_id
),

spend_rule__promoted_counts AS (
  SELECT channel, campaign_id, COUNT(*) AS products
  FROM spend_rule__promoted
  GROUP BY channel, campaign_id
),

spend_rule__idle AS (
  SELECT g.*, n.products
  FROM spend_rule__geo AS g
  LEFT JOIN spend_rule__earning AS e
    ON e.window_key = g.window_key AND e.channel = g.channel AND e.campaign_id = g.campaign_id
  LEFT JOIN spend_rule__promoted_counts AS n ON n.channel = g.channel AND n.campaign_id = g.campaign_id
  WHERE e.campaign_id IS NULL
),

window_spend AS (
  SELECT
    g.window_key, g.channel, g.account_id, g.campaign_id, g.country_code, g.region_code, g.location_id, m.product_id,
    g.spend * m.earned / m.campaign_earned AS spend, 'revenue_mix' AS spend_allocation
  FROM spend_rule__geo AS g
  INNER JOIN spend_rule__mix AS m
    ON m.window_key = g.window_key AND m.channel = g.channel AND m.campaign_id = g.campaign_id
  WHERE m.campaign_earned > 0 AND m.earned > 0
  UNION ALL
  SELECT
    i.window_key, i.channel, i.account_id, i.campaign_id, i.country_code, i.region_code, i.location_id, p.product_id,
    i.spend / i.products AS spend, 'promoted_equal' AS spend_allocation
  FROM spend_rule__idle AS i
  INNER JOIN spend_rule__promoted AS p ON p.channel = i.channel AND p.campaign_id = i.campaign_id
  UNION ALL
  SELECT
    window_key, channel, account_id, campaign_id, country_code, region_code, location_id,
    CAST(NULL AS STRING) AS product_id, spend, 'unallocated' AS spend_allocation
  FROM spend_rule__idle
  WHERE products IS NULL
)

SELECT * FROM window_spend
