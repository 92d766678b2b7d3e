-- Staging: published exchange rates (1 base_currency = rate quote_currency) with rate_date in
-- [@window_start - @scan_days - 7, @window_end): the extra week lets int_fx__rates_to_store carry the last rate
-- forward into the first days of the span.
SELECT
  rate_date,
  base_currency,
  quote_currency,
  rate
FROM fx_rates
WHERE rate_date >= CAST(DATE_SUB(@window_start, INTERVAL @scan_days + 7 DAY) AS DATE)
  AND rate_date < @window_end
