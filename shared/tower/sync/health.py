"""How each integration stands: last successful sync, data freshness, rows, warnings, errors, reconnects.

Read from the warehouse (``integrations``, ``sync_state``, the synced tables) and each integration's
document (:mod:`tower.sync.outcomes`). :func:`integration_health` says how each one stands;
:func:`problems` turns that into one line per problem, each with the command that fixes it. ``tower
status`` prints both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tower.brands import local_date
from tower.ports import DocumentStore, Warehouse
from tower.sync.outcomes import document

RECONNECT_STATUSES = {"needs_reauth": "the platform rejected its token",
                      "revoked": "its authorization was revoked from here",
                      "uninstalled": "the Shopify app was uninstalled",
                      "disconnected": "the store was disconnected and its data redacted"}
def reconnect_reason(status: str, error: str | None) -> str:
    """Why an integration needs reconnecting: its state's reason, and the platform's words when the sync kept them."""
    why = RECONNECT_STATUSES.get(status, RECONNECT_STATUSES["needs_reauth"])
    return f"{why}: {error}" if error else why


# The scheduler syncs hourly: data older than this after a sync was due means syncs are not running.
STALE_AFTER = timedelta(hours=3)
# What a platform's freshness is measured on, and what its rows count: (table, date column, filter by account).
_DATA = {"shopify": ("orders", "order_date", False)}
_ADS = ("ad_performance", "stat_date", True)


@dataclass
class IntegrationHealth:
    """How one connected account stands (None: not known yet)."""

    brand_id: str
    platform: str
    account_id: str
    status: str
    timezone: str
    last_success_at: datetime | None = None
    last_sync_status: str | None = None
    last_error: str | None = None
    latest_data: date | None = None
    lag_days: int | None = None
    rows: int = 0
    warnings: list[str] = field(default_factory=list)
    sandbox_origin: str | None = None

    @property
    def needs_reconnect(self) -> bool:
        """Whether syncs stop until someone connects the account again."""
        return self.status in RECONNECT_STATUSES or self.last_sync_status == "needs_reauth"


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _warnings(doc: dict[str, Any]) -> list[str]:
    """Standing warnings on the integration, then those of its last sync, each once."""
    out: list[str] = []
    for w in list(doc.get("warnings") or []) + list((doc.get("last_sync") or {}).get("warnings") or []):
        if isinstance(w, dict):
            text = str(w.get("message") or "") + (f". Fix: {w['fix']}" if w.get("fix") else "")
        else:
            text = str(w)
        if text not in out:
            out.append(text)
    return out


def _data(warehouse: Warehouse, platform: str, brand_id: str, account_id: str) -> tuple[date | None, int]:
    """The latest day with data and the rows held, for one account."""
    table, column, by_account = _DATA.get(platform, _ADS)
    where = "brand_id = @b" + (" AND account_id = @a" if by_account else "")
    row = warehouse.rows(f"SELECT MAX({column}) AS latest, COUNT(*) AS n FROM {table} WHERE {where}",
                         {"b": brand_id, "a": account_id})[0]
    return row["latest"], int(row["n"] or 0)


def _failed_resources(warehouse: Warehouse, brand_id: str, platform: str, account_id: str) -> str | None:
    rows = warehouse.rows(
        "SELECT resource, error FROM sync_state WHERE brand_id = @b AND platform = @p AND status IN "
        "('failed', 'needs_reauth') AND error IS NOT NULL AND (account_id = @a OR account_id = '') ORDER BY resource",
        {"b": brand_id, "p": platform, "a": account_id})
    return "; ".join(f"{r['resource']}: {r['error']}" for r in rows) or None


def integration_health(warehouse: Warehouse, store: DocumentStore, *, brand_ids: Iterable[str] | None = None,
                       now: datetime | None = None) -> list[IntegrationHealth]:
    """Every integration (of these brands), with what its rows and document say."""
    now = now or datetime.now(UTC)
    wanted = set(brand_ids) if brand_ids is not None else None
    rows = warehouse.rows(
        "SELECT i.brand_id, i.platform, i.account_id, i.status, i.last_synced_at, b.timezone FROM integrations i "
        "JOIN brands b ON b.brand_id = i.brand_id ORDER BY i.brand_id, i.platform, i.account_id")
    out = []
    for r in rows:
        if wanted is not None and r["brand_id"] not in wanted:
            continue
        doc = document(store, r["brand_id"], r["platform"], r["account_id"])
        last = doc.get("last_sync") or {}
        success = doc.get("last_success") or {}
        latest, n = _data(warehouse, r["platform"], r["brand_id"], r["account_id"])
        health = IntegrationHealth(
            r["brand_id"], r["platform"], r["account_id"], r["status"], r["timezone"],
            last_success_at=_as_utc(success.get("finished_at")) or _as_utc(r["last_synced_at"]),
            last_sync_status=last.get("status"), latest_data=latest, rows=n, warnings=_warnings(doc),
            sandbox_origin=(doc.get("sandbox") or {}).get("origin"),
        )
        health.last_error = (last.get("error") if last.get("status") not in (None, "ok") else None) \
            or _failed_resources(warehouse, r["brand_id"], r["platform"], r["account_id"])
        if latest is not None:
            health.lag_days = (local_date(r["timezone"], now) - latest).days
        out.append(health)
    return out


def problems(healths: Iterable[IntegrationHealth], now: datetime | None = None) -> list[str]:
    """One line per problem, each ending with the command that fixes it."""
    now = now or datetime.now(UTC)
    lines = []
    for h in healths:
        who = f"{h.brand_id} {h.platform} {h.account_id}"
        if h.needs_reconnect:
            why = reconnect_reason(h.status, h.last_error)
            how = "--oauth (or Reconnect on the page)" if h.platform != "shopify" else "..."
            lines.append(f"{who}: needs reconnecting, {why}; syncs stop until it is connected again. "
                         f"Fix: tower connect {h.platform} --brand {h.brand_id} {how}")
            continue
        if h.last_success_at is None:
            lines.append(f"{who}: never synced. Fix: tower run --brand {h.brand_id}")
        elif now - h.last_success_at > STALE_AFTER:
            lines.append(f"{who}: last successful sync {h.last_success_at:%Y-%m-%d %H:%M} UTC, over "
                         f"{STALE_AFTER.seconds // 3600} hours ago. Fix: tower run --brand {h.brand_id}, or keep "
                         "tower serve running (it syncs hourly)")
        if h.last_error:
            lines.append(f"{who}: the last sync failed: {h.last_error}. Fix: tower sync {h.platform} --brand "
                         f"{h.brand_id} (it resumes where it stopped)")
        for w in h.warnings:
            lines.append(f"{who}: warning: {w}")
    return lines
