"""The exchange-rate sync: the ECB's euro reference rates into ``fx_rates``, daily.

One ``fx_rates`` row per published rate: ``1 EUR = rate X`` on a TARGET working day, source ``ecb``,
MERGEd on its natural key (``rate_date``, ``base_currency``, ``quote_currency``), so a rerun or a
restated rate changes nothing else. Rates between two other currencies are not stored: the models
cross them through the euro (``int_fx__rates_to_store``) and carry a day's rate over weekends and
holidays for up to seven days.

The daily feed holds one day, so a sync that finds the newest stored ECB day more than
:data:`MAX_DAILY_GAP_DAYS` old (or none: a first sync) reads the 90-day history instead, which
also repairs days a missed run left out.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pyarrow as pa

from tower import sql
from tower.connectors.ecb.client import EcbClient
from tower.connectors.ecb.records import SOURCE
from tower.sync.run import RunOptions, SyncPorts

log = logging.getLogger(__name__)

KEYS = ["rate_date", "base_currency", "quote_currency"]
MAX_DAILY_GAP_DAYS = 5
"""A Thursday before Easter to the Tuesday after is five days without a publication; longer means runs
were missed and the history is read."""

_LATEST_SQL = "SELECT MAX(rate_date) AS latest FROM fx_rates WHERE source = @source"


def sync_fx_rates(ports: SyncPorts, *, history: bool | None = None, options: RunOptions | None = None) -> dict[str, Any]:
    """Load the ECB's reference rates (module docstring).

    Args:
        ports: Settings (``TOWER_ECB_ORIGIN``) and the warehouse.
        history: Read the 90-day feed (True), the daily one (False), or decide by the newest stored day.
        options: Clock and retry policy (default: the real ones).

    Returns:
        ``{status, source, feed, rows, first_date, last_date, currencies}`` (ISO dates; None without rows).

    Raises:
        RetriesExhausted: The ECB kept failing (a scheduler retry may succeed).
        FatalError: The answer was not the feed.
    """
    options = options or RunOptions()
    warehouse = ports.warehouse
    today = options.now().date()
    if history is None:
        latest = warehouse.rows(_LATEST_SQL, {"source": SOURCE})[0]["latest"]
        history = latest is None or (today - latest).days > MAX_DAILY_GAP_DAYS
    client = EcbClient(ports.settings.ecb_origin, policy=options.retry_policy())
    rates = client.history_90d() if history else client.daily()
    rows = [r.row() for r in rates]
    if rows:
        warehouse.merge("fx_rates", pa.Table.from_pylist(rows, schema=sql.arrow_schema("fx_rates")), KEYS)
    days = sorted({r.rate_date for r in rates})
    result = {
        "status": "ok", "source": SOURCE, "feed": "history_90d" if history else "daily", "rows": len(rows),
        "first_date": _iso(days[0] if days else None), "last_date": _iso(days[-1] if days else None),
        "currencies": sorted({r.currency for r in rates}),
    }
    log.info("fx sync finished", extra={"platform": SOURCE, "feed": result["feed"], "rows": len(rows),
                                        "last_date": result["last_date"]})
    return result


def foreign_currency_brands(ports: SyncPorts, since: date) -> list[str]:
    """Brands with ad rows since ``since`` in a currency other than their store's (those the rates matter to)."""
    rows = ports.warehouse.rows(
        "SELECT DISTINCT p.brand_id FROM ad_performance AS p INNER JOIN brands AS b ON b.brand_id = p.brand_id "
        "WHERE p.stat_date >= @since AND p.currency != b.currency ORDER BY p.brand_id",
        {"since": since},
    )
    return [r["brand_id"] for r in rows]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


__all__ = ["KEYS", "MAX_DAILY_GAP_DAYS", "foreign_currency_brands", "sync_fx_rates"]
