-- grain: one row per Google Ads geo target constant the sync has resolved (the shipped US table is the seed)
CREATE TABLE IF NOT EXISTS geo_targets (
  criterion_id INT64 NOT NULL,       -- geoTargetConstants/{criterion_id}
  name STRING,                       -- e.g. Ontario
  canonical_name STRING,             -- e.g. Ontario,Canada
  country_code STRING,               -- ISO 3166-1 alpha-2
  target_type STRING,                -- Country, State, Province, Region...
  status STRING,                     -- ENABLED | REMOVAL_PLANNED
  iso_3166_2 STRING,                 -- e.g. CA-ON; NULL when the subdivision is not one we map
  resolved_at TIMESTAMP NOT NULL
);
