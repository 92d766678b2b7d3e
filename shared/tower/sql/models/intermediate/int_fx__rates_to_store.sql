-- Intermediate: rate_to_store converts 1 unit of a currency into the brand's store currency, for every calendar
-- day of [@window_start - @scan_days - 7, @window_end) and every currency the rates name.
-- A currency pair is taken direct (1 X = r STORE), inverted (1 STORE = r X) or crossed through a common base
-- (1 B = r1 STORE and 1 B = r2 X, as a reference-rate feed quotes everything against one base), in that order
-- of preference. Days without a published rate (weekends, holidays) carry the last rate forward for up to
-- 7 days; beyond that the rate is NULL and amounts in that currency stay NULL rather than being summed raw.
WITH brand AS (
  SELECT currency AS store_currency
  FROM stg_tower__brands
),

raw_rates AS (
  SELECT rate_date, base_currency, quote_currency, rate
  FROM stg_fx__rates
  WHERE rate > 0
),

candidate_rates AS (
  SELECT r.rate_date, r.base_currency AS currency, r.rate AS rate_to_store, 1 AS preference, '' AS via
  FROM raw_rates AS r
  INNER JOIN brand AS b ON b.store_currency = r.quote_currency
  UNION ALL
  SELECT r.rate_date, r.quote_currency AS currency, 1 / r.rate AS rate_to_store, 2 AS preference, '' AS via
  FROM raw_rates AS r
  INNER JOIN brand AS b ON b.store_currency = r.base_currency
  UNION ALL
  SELECT
    s.rate_date, x.quote_currency AS currency, s.rate / x.rate AS rate_to_store, 3 AS preference,
    s.base_currency AS via
  FROM raw_rates AS s
  INNER JOIN brand AS b ON b.store_currency = s.quote_currency
  INNER JOIN raw_rates AS x
    ON x.rate_date = s.rate_date
    AND x.base_currency = s.base_currency
    AND x.quote_currency != b.store_currency
),

published AS (
  SELECT c.rate_date, c.currency, c.rate_to_store
  FROM candidate_rates AS c
  WHERE c.currency != (SELECT b.store_currency FROM brand AS b)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY c.rate_date, c.currency ORDER BY c.preference, c.via, c.rate_to_store) = 1
),

currencies AS (
  SELECT DISTINCT currency
  FROM published
),

calendar AS (
  SELECT day
  FROM UNNEST(GENERATE_DATE_ARRAY(
      CAST(DATE_SUB(@window_start, INTERVAL @scan_days + 7 DAY) AS DATE),
      CAST(DATE_SUB(@window_end, INTERVAL 1 DAY) AS DATE)
    )) AS day
),

dense AS (
  SELECT
    c.day AS rate_date,
    cur.currency,
    LAST_VALUE(p.rate_to_store IGNORE NULLS) OVER (
      PARTITION BY cur.currency ORDER BY c.day ROWS BETWEEN 7 PRECEDING AND CURRENT ROW
    ) AS rate_to_store
  FROM calendar AS c
  CROSS JOIN currencies AS cur
  LEFT JOIN published AS p ON p.rate_date = c.day AND p.currency = cur.currency
)

SELECT rate_date, currency, rate_to_store
FROM dense
UNION ALL
SELECT c.day AS rate_date, b.store_currency AS currency, 1.0 AS rate_to_store
FROM calendar AS c
CROSS JOIN brand AS b
