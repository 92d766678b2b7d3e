-- grain: one row per day × currency pair: 1 base_currency = rate quote_currency
CREATE TABLE IF NOT EXISTS fx_rates (
  rate_date DATE NOT NULL,
  base_currency STRING NOT NULL,
  quote_currency STRING NOT NULL,
  rate FLOAT64 NOT NULL,
  source STRING
)
PARTITION BY rate_date;
