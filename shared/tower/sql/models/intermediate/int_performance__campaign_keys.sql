-- Intermediate: a small integer per campaign that spent in the window, was credited with an order, or promotes
-- a product (numbered over this build's own values, so unified_performance's large joins run on integers),
-- with its account and current name.
WITH mentions AS (
  SELECT platform, campaign_id, account_id, CAST(NULL AS STRING) AS campaign_name
  FROM int_ads__performance
  WHERE stat_date >= @window_start AND spend_amount IS NOT NULL
  UNION ALL
  SELECT platform, campaign_id, account_id, campaign_name FROM stg_ads__campaigns
  UNION ALL
  SELECT platform, campaign_id, CAST(NULL AS STRING) AS account_id, CAST(NULL AS STRING) AS campaign_name
  FROM int_performance__credits
  WHERE platform IS NOT NULL
  UNION ALL
  SELECT platform, campaign_id, CAST(NULL AS STRING) AS account_id, CAST(NULL AS STRING) AS campaign_name
  FROM int_ads__promoted_products
),

campaigns AS (
  SELECT platform, campaign_id, MAX(account_id) AS account_id, MAX(campaign_name) AS campaign_name
  FROM mentions
  GROUP BY platform, campaign_id
)

SELECT
  platform, campaign_id, account_id, campaign_name,
  ROW_NUMBER() OVER (ORDER BY platform, campaign_id) AS campaign_key
FROM campaigns
