"""Build the models for one brand and one date window, in dependency order, idempotently.

``build_models`` runs each mart as one statement (BigQuery script / DuckDB transaction) that deletes the
brand's target window of the mart's table and inserts the window anew, so re-running a window replaces
exactly that window's rows and nothing else. It records one ``model_runs`` row per mart with a data version
(a hash of the model SQL, the parameters and a fingerprint of the inputs), and returns what it did.

Pure of the clock: ``today`` is passed in (days on or after it are still in progress and are not built);
the timestamp written to ``model_runs.built_at`` comes from ``clock`` (default: the system clock), which
never changes a model's numbers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tower.analytics import models as registry
from tower.analytics.parameters import ModelParameters, week_start
from tower.brands import brand_settings
from tower.config import Settings
from tower.ports import Warehouse

log = logging.getLogger(__name__)


class BuildError(ValueError):
    """A build was asked for something it cannot do (bad window, unknown brand or model), or a model failed."""


@dataclass(frozen=True)
class ModelRun:
    """One mart built: the target window it replaced, the rows it now holds there, and how long it took."""

    model: str
    window_start: date
    window_end: date
    row_count: int
    seconds: float


@dataclass(frozen=True)
class BuildResult:
    """What ``build_models`` did for a brand."""

    brand_id: str
    window_start: date
    window_end: date
    as_of_date: date
    data_version: str
    parameters: dict[str, Any]
    runs: list[ModelRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fx_gaps: list[dict[str, Any]] = field(default_factory=list)
    """Per ad-account currency without a rate to the store currency in the window: ``account_currency``,
    ``store_currency``, ``row_count``, ``first_date``, ``last_date`` (what the brand's warnings record)."""

    shared_seconds: float = 0.0
    """Time spent storing the shared models the marts read (DuckDB; see ``_store_shared``), beside theirs."""

    @property
    def seconds(self) -> float:
        """Total build time of the marts, the shared models they read included."""
        return self.shared_seconds + sum(r.seconds for r in self.runs)

    def rows(self) -> dict[str, int]:
        """Rows per mart in its target window."""
        return {r.model: r.row_count for r in self.runs}


# Counts and latest change per input, over the span the models read: the data version of a build.
# Every date-partitioned table is filtered on its partition column (BigQuery then scans only that span).
INPUT_FINGERPRINT_SQL = """
SELECT 'orders' AS input, COUNT(*) AS row_count, CAST(MAX(updated_at) AS STRING) AS last_change,
  CAST(SUM(net_revenue_amount) AS STRING) AS total
FROM orders
WHERE brand_id = @brand_id AND order_date >= @scan_start AND order_date < @window_end
UNION ALL
SELECT 'order_line_items', COUNT(*), NULL, CAST(SUM(quantity - COALESCE(refunded_quantity, 0)) AS STRING)
FROM order_line_items
WHERE brand_id = @brand_id AND order_date >= @scan_start AND order_date < @window_end
UNION ALL
SELECT 'ad_performance', COUNT(*), CAST(MAX(synced_at) AS STRING), CAST(SUM(spend_amount) AS STRING)
FROM ad_performance
WHERE brand_id = @brand_id AND stat_date >= @scan_start AND stat_date < @window_end
UNION ALL
SELECT 'inventory_levels', COUNT(*), CAST(MAX(updated_at) AS STRING), CAST(SUM(available) AS STRING)
FROM inventory_levels
WHERE brand_id = @brand_id AND snapshot_date >= @scan_start AND snapshot_date < @window_end
UNION ALL
SELECT 'google_click_views', COUNT(*), CAST(MAX(synced_at) AS STRING), NULL
FROM google_click_views
WHERE brand_id = @brand_id AND click_date >= @scan_start AND click_date < @window_end
UNION ALL
SELECT 'fx_rates', COUNT(*), NULL, CAST(SUM(rate) AS STRING)
FROM fx_rates
WHERE rate_date >= @scan_start AND rate_date < @window_end
UNION ALL
SELECT 'ad_campaigns', COUNT(*), CAST(MAX(updated_at) AS STRING), NULL
FROM ad_campaigns WHERE brand_id = @brand_id
UNION ALL
SELECT 'ad_campaign_products', COUNT(*), NULL, NULL
FROM ad_campaign_products WHERE brand_id = @brand_id
UNION ALL
SELECT 'ad_campaign_destinations', COUNT(*), NULL, NULL
FROM ad_campaign_destinations WHERE brand_id = @brand_id
UNION ALL
SELECT 'variants', COUNT(*), CAST(MAX(updated_at) AS STRING), CAST(SUM(unit_cost_amount) AS STRING)
FROM variants WHERE brand_id = @brand_id
UNION ALL
SELECT 'location_regions', COUNT(*), CAST(MAX(updated_at) AS STRING), CAST(SUM(fulfillment_cost_amount) AS STRING)
FROM location_regions WHERE brand_id = @brand_id
"""

# Ad rows whose currency has no known rate to the store currency: they are left out of spend, so say so.
FX_GAPS_SQL_TEMPLATE = """
SELECT
  account_currency, ANY_VALUE(currency) AS store_currency, COUNT(*) AS row_count, MIN(stat_date) AS first_date,
  MAX(stat_date) AS last_date
FROM ({ads})
WHERE is_fx_missing AND stat_date >= @window_start
GROUP BY account_currency
ORDER BY account_currency
"""

BRAND_SQL = "SELECT brand_id, currency, timezone FROM brands WHERE brand_id = @brand_id"

_MODEL_RUNS = "model_runs"


def _target(spec: registry.MartSpec, start: date, end: date, as_of: date) -> tuple[date, date]:
    if spec.window == "window":
        return start, end
    if spec.window == "weeks":
        return week_start(start), end
    return as_of, as_of + timedelta(days=1)


def _version(parts: Mapping[str, Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def build_models(
    warehouse: Warehouse,
    brand_id: str,
    start: date,
    end: date,
    settings: Settings,
    today: date | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    models: Sequence[str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> BuildResult:
    """Build the marts for one brand over ``[start, end)``.

    Nine parameters, justified: the warehouse, the brand, the window and the settings say what to build;
    ``today`` cuts the window; the keyword-only rest (per-brand overrides, a subset of marts, the clock) are
    optional knobs callers name.

    Args:
        warehouse: where the inputs are and the marts go (schema initialised).
        brand_id: the brand.
        start: first store-local day of the window.
        end: first day after the window (half-open).
        settings: model settings (thresholds, attribution model...), with per-brand overrides.
        today: the current store-local date; the window is cut at it, since that day is still in progress.
            Point-in-time models (inventory alignment) are as of the last day built.
        overrides: per-brand model settings that win over ``settings`` (e.g. from the brand's document).
        models: build only these marts (still in dependency order); default all.
        clock: the time written to ``model_runs.built_at`` (default: now, UTC).

    Returns:
        What was built: per mart its target window, rows and seconds; the data version; warnings.

    Raises:
        BuildError: empty window, unknown brand or mart, or a model that failed (its window is left as it was).
    """
    capped_end = _capped_end(start, end, today)
    order = _marts_to_build(models)
    if not warehouse.rows(BRAND_SQL, {"brand_id": brand_id}):
        raise BuildError(f"unknown brand {brand_id!r}: no row in brands")

    params = ModelParameters.for_brand(settings, brand_id, overrides, stored=brand_settings(warehouse, brand_id))
    as_of = capped_end - timedelta(days=1)
    sql_params = params.sql_params(brand_id, start, capped_end, as_of)
    data_version = _data_version(warehouse, brand_id, params, (start, capped_end), order)
    fx = fx_gaps(warehouse, sql_params)

    now = clock or (lambda: datetime.now(UTC))
    began = time.perf_counter()
    tables = _store_shared(warehouse, order, sql_params)
    result = BuildResult(brand_id, start, capped_end, as_of, data_version, params.as_dict(),
                         shared_seconds=round(time.perf_counter() - began, 4))
    result.fx_gaps.extend(fx)
    result.warnings.extend(_fx_gap_messages(result.fx_gaps))
    try:
        for name in order:
            spec = registry.MARTS[name]
            target_start, target_end = _target(spec, start, capped_end, as_of)
            run_params = {**sql_params, "target_start": target_start, "target_end": target_end}
            run = _build_mart(warehouse, spec, run_params, tables)
            result.runs.append(run)
            _record_run(warehouse, brand_id, run, data_version, now())
    finally:
        _drop_shared(warehouse, tables)
    return result


def _store_shared(warehouse: Warehouse, order: Sequence[str], sql_params: Mapping[str, Any]) -> dict[str, str]:
    """On DuckDB, the ephemeral models several marts of this build read, each computed once into a temporary
    table (model -> table name) that the marts then read instead of inlining it again: the orders and their
    lines alone cost each mart that inlines them about 2 CPU-seconds at 1M orders. Same SQL, same parameters
    and the same inputs (a build writes only marts), so the marts' rows are the same. BigQuery runs each mart
    as its own job, where a temporary table does not outlive the script: there the marts inline everything.
    """
    if warehouse.engine != "duckdb":
        return {}
    tables: dict[str, str] = {}
    build = uuid.uuid4().hex[:8]  # two builds in one process never share a table
    for model in registry.shared_models(order):
        table = f"{model}__build_{build}"
        try:
            warehouse.execute(f"CREATE TEMP TABLE {table} AS\n{registry.compose(model, tables=tables)}", sql_params)
        except Exception as e:
            _rollback(warehouse)
            _drop_shared(warehouse, tables)
            raise BuildError(f"shared model {model} failed for brand {sql_params['brand_id']}: {e}") from e
        tables[model] = table
    return tables


def _drop_shared(warehouse: Warehouse, tables: Mapping[str, str]) -> None:
    """Drop the build's temporary tables."""
    for table in tables.values():
        warehouse.execute(f"DROP TABLE IF EXISTS {table}")


def _capped_end(start: date, end: date, today: date | None) -> date:
    """The window's end, cut at today (a day still in progress is not built)."""
    if start >= end:
        raise BuildError(f"window start {start} must be before its end {end}")
    capped_end = min(end, today) if today is not None else end
    if capped_end <= start:
        raise BuildError(f"window [{start}, {end}) holds no complete day before today ({today})")
    return capped_end


def _marts_to_build(models: Sequence[str] | None) -> list[str]:
    """The marts asked for (default all), in dependency order."""
    order = registry.build_order()
    if models is None:
        return order
    unknown = sorted(set(models) - set(order))
    if unknown:
        raise BuildError(f"unknown models {unknown}; known: {', '.join(order)}")
    return [m for m in order if m in set(models)]


def _data_version(
    warehouse: Warehouse, brand_id: str, params: ModelParameters, window: tuple[date, date], order: Sequence[str]
) -> str:
    """A hash of the inputs' fingerprint over the span the models read, the parameters, the window and the SQL."""
    start, end = window
    fingerprint = warehouse.rows(
        INPUT_FINGERPRINT_SQL,
        {"brand_id": brand_id, "scan_start": start - timedelta(days=params.scan_days), "window_end": end},
    )
    return _version(
        {
            "inputs": sorted((r["input"], r["row_count"], r["last_change"], r["total"]) for r in fingerprint),
            "parameters": params.as_dict(),
            "window": [start, end],
            "sql": {m: hashlib.sha256(registry.compose(m).encode()).hexdigest() for m in order},
        }
    )


def fx_gaps(warehouse: Warehouse, sql_params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per ad-account currency whose spend from ``@window_start`` has no rate to the store currency: its rows
    and first and last day (the models' own conversion decides, so this never disagrees with them)."""
    ads = registry.compose("int_ads__performance")
    return warehouse.rows(FX_GAPS_SQL_TEMPLATE.format(ads=ads), sql_params)


def brand_fx_gaps(warehouse: Warehouse, settings: Settings, brand_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """:func:`fx_gaps` of one brand over ``[start, end)`` without building anything (the FX sync's check)."""
    params = ModelParameters.for_brand(settings, brand_id, stored=brand_settings(warehouse, brand_id))
    return fx_gaps(warehouse, params.sql_params(brand_id, start, end, end - timedelta(days=1)))


def _fx_gap_messages(gaps: Sequence[Mapping[str, Any]]) -> list[str]:
    """A warning line per ad-account currency whose spend in the window has no rate to the store currency."""
    return [
        f"{gap['row_count']} ad rows in {gap['account_currency']} from {gap['first_date']} to "
        f"{gap['last_date']} have no exchange rate to the store currency; their spend is left out"
        for gap in gaps
    ]


def _build_mart(
    warehouse: Warehouse, spec: registry.MartSpec, run_params: Mapping[str, Any], tables: Mapping[str, str]
) -> ModelRun:
    """Replace one brand's target window of a mart (reading the build's stored shared models, ``tables``); its
    rows there afterwards and the seconds it took."""
    brand_id, target_start, target_end = run_params["brand_id"], run_params["target_start"], run_params["target_end"]
    began = time.perf_counter()
    try:
        warehouse.execute(registry.build_script(spec, tables), run_params)
    except Exception as e:
        _rollback(warehouse)
        raise BuildError(
            f"model {spec.name} failed for brand {brand_id} [{target_start}, {target_end}): {e}"
        ) from e
    seconds = time.perf_counter() - began
    count = warehouse.rows(
        f"SELECT COUNT(*) AS n FROM {spec.name} WHERE brand_id = @brand_id "
        f"AND {spec.date_column} >= @target_start AND {spec.date_column} < @target_end",
        {"brand_id": brand_id, "target_start": target_start, "target_end": target_end},
    )[0]["n"]
    return ModelRun(spec.name, target_start, target_end, int(count), round(seconds, 4))


def _record_run(warehouse: Warehouse, brand_id: str, run: ModelRun, data_version: str, built_at: datetime) -> None:
    """One model_runs row for a built mart, and its log line."""
    warehouse.insert(
        _MODEL_RUNS,
        [
            {
                "brand_id": brand_id,
                "model": run.model,
                "window_start": run.window_start,
                "window_end": run.window_end,
                "row_count": run.row_count,
                "seconds": run.seconds,
                "data_version": data_version,
                "built_at": built_at,
            }
        ],
    )
    log.info(
        "model built",
        extra={
            "brand_id": brand_id,
            "model": run.model,
            "window_start": str(run.window_start),
            "window_end": str(run.window_end),
            "row_count": run.row_count,
            "seconds": run.seconds,
            "data_version": data_version,
        },
    )


def _rollback(warehouse: Warehouse) -> None:
    """Close the failed statement's transaction where the engine left it open (DuckDB); BigQuery already did."""
    try:
        warehouse.execute("ROLLBACK TRANSACTION")
    except Exception:  # noqa: BLE001 - nothing open to roll back is the normal case on BigQuery
        log.debug("no transaction to roll back")
