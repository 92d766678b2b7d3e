-- grain: one row per Claude call (or narrator fallback) for a brand: tokens, cost, grounding outcome
CREATE TABLE IF NOT EXISTS ai_usage (
  brand_id STRING NOT NULL,
  call_id STRING NOT NULL,           -- idempotency key of the call
  usage_date DATE NOT NULL,          -- UTC date of the call
  called_at TIMESTAMP NOT NULL,
  purpose STRING NOT NULL,           -- summary | explanation | answer
  model STRING NOT NULL,             -- the Claude model; 'narrator' on a fallback row (no tokens)
  input_tokens INT64,                -- uncached input tokens
  output_tokens INT64,
  cache_creation_input_tokens INT64, -- input tokens written to the prompt cache (billed 1.25x)
  cache_read_input_tokens INT64,     -- input tokens read from the prompt cache (billed 0.1x)
  cost_amount NUMERIC,               -- at the configured prices per million tokens
  currency STRING NOT NULL,          -- USD: Anthropic bills in US dollars
  attempts INT64,                    -- HTTP attempts, 429/529 retries included
  stop_reason STRING,
  grounding STRING                   -- pass | fail | fallback | NULL when no text was checked
)
PARTITION BY usage_date
CLUSTER BY brand_id;
