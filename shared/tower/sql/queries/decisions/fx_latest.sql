-- grain: one row per currency pair: its latest rate in the 7 days up to @as_of_date (1 base = rate quote)
SELECT base_currency, quote_currency, rate
FROM fx_rates
WHERE rate_date <= @as_of_date
  AND rate_date > CAST(DATE_SUB(@as_of_date, INTERVAL 7 DAY) AS DATE)
  AND rate > 0
QUALIFY ROW_NUMBER() OVER (PARTITION BY base_currency, quote_currency ORDER BY rate_date DESC) = 1
