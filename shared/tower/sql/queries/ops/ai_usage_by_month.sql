-- grain: one row per brand × calendar month (UTC): Claude calls, tokens, cost and grounding outcomes
SELECT
  brand_id,
  FORMAT_DATE('%Y-%m', usage_date) AS month,
  COUNTIF(model != 'narrator') AS calls,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  SUM(cache_creation_input_tokens) AS cache_write_tokens,
  SUM(cache_read_input_tokens) AS cache_read_tokens,
  ROUND(CAST(SUM(cost_amount) AS FLOAT64), 4) AS cost_usd,
  COUNTIF(grounding = 'pass') AS grounding_passes,
  COUNTIF(grounding = 'fail') AS grounding_failures,
  COUNTIF(grounding = 'fallback') AS fallbacks
FROM ai_usage
WHERE usage_date >= @start_date
  AND usage_date < @end_date
  AND (@brand_id = '' OR brand_id = @brand_id)
GROUP BY brand_id, month
ORDER BY month, brand_id
