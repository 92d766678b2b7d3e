"""Warnings on a brand: something its figures lack that someone can fix, kept until it is fixed.

``brands/{brand_id}/warnings/{key}`` holds one open warning::

    {key, kind, severity: "warning", message, fix, details{...}, first_seen_at, updated_at}

``kind`` names what raised it (``fx_missing``: ad spend in a currency with no exchange rate to the
store currency, left out of every figure until a rate is loaded). ``key`` is stable per problem
(``fx_missing_CAD``), so raising it again updates one document and fixing it deletes that document.
``tower status`` and the page read them with :func:`list_warnings`. No secret and no customer data
goes in a warning: they are shown to whoever sees the brand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from tower.ports import DocQuery, DocumentStore

FX_MISSING = "fx_missing"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def warnings_collection(brand_id: str) -> str:
    """The brand's warnings collection."""
    return f"brands/{brand_id}/warnings"


def warning_path(brand_id: str, key: str) -> str:
    """The document of one warning.

    Raises:
        ValueError: A key that is not a plain document id.
    """
    if not _KEY.match(key):
        raise ValueError(f"warning key {key!r} must be 1-100 letters, digits, '_' or '-'")
    return f"{warnings_collection(brand_id)}/{key}"


def raise_warning(store: DocumentStore, brand_id: str, key: str, *, kind: str, message: str, fix: str,
                  details: Mapping[str, Any], now: datetime) -> None:
    """Open (or refresh) a warning; ``first_seen_at`` stays that of the first time it was raised.

    Seven parameters: the store and the brand, then the warning's own fields by keyword.
    """
    path = warning_path(brand_id, key)
    previous = store.get(path) or {}
    store.set(path, {"key": key, "kind": kind, "severity": "warning", "message": message, "fix": fix,
                     "details": dict(details), "first_seen_at": previous.get("first_seen_at") or now,
                     "updated_at": now})


def clear_warning(store: DocumentStore, brand_id: str, key: str) -> bool:
    """Close a warning; whether there was one."""
    path = warning_path(brand_id, key)
    if store.get(path) is None:
        return False
    store.delete(path)
    return True


def list_warnings(store: DocumentStore, brand_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The brand's open warnings (of one kind), by key."""
    docs = [doc for _path, doc in store.query(DocQuery(warnings_collection(brand_id)))]
    return sorted((d for d in docs if kind is None or d.get("kind") == kind), key=lambda d: str(d.get("key")))


def fx_warning_key(currency: str) -> str:
    """The key of the missing-rate warning of one ad-account currency."""
    return f"{FX_MISSING}_{currency}"


def record_fx_gaps(store: DocumentStore, brand_id: str, gaps: Sequence[Mapping[str, Any]],
                   window: tuple[date, date], now: datetime) -> dict[str, list[str]]:
    """Bring the brand's missing-rate warnings in line with a check of ``window`` (half-open).

    Each gap (``account_currency``, ``store_currency``, ``row_count``, ``first_date``, ``last_date``)
    raises or refreshes its currency's warning. A warning whose rows all lie inside the window and
    that the check no longer finds is cleared: rates arrived. One about days outside the window stays,
    since this check could not see them.

    Returns:
        Currencies ``raised`` and ``cleared``.
    """
    start, end = window
    found = {str(g["account_currency"]): g for g in gaps}
    out: dict[str, list[str]] = {"raised": [], "cleared": []}
    for currency, g in sorted(found.items()):
        first, last = _day(g["first_date"]), _day(g["last_date"])
        store_currency = str(g.get("store_currency") or "the store currency")
        raise_warning(
            store, brand_id, fx_warning_key(currency), kind=FX_MISSING,
            message=(f"{g['row_count']} ad rows in {currency} from {first} to {last} have no exchange rate to "
                     f"{store_currency}: their spend and conversion value are left out of every figure"),
            fix=(f"load rates with `tower fx sync --history` (the daily ECB sync runs at 17:00 UTC); the ECB "
                 f"publishes no {currency} rate if this stays"),
            details={"currency": currency, "store_currency": g.get("store_currency"), "rows": int(g["row_count"]),
                     "first_date": first.isoformat(), "last_date": last.isoformat()},
            now=now,
        )
        out["raised"].append(currency)
    for doc in list_warnings(store, brand_id, FX_MISSING):
        details = doc.get("details") or {}
        currency = str(details.get("currency") or "")
        if currency in found or not details.get("first_date"):
            continue
        if start <= date.fromisoformat(details["first_date"]) and date.fromisoformat(details["last_date"]) < end:
            clear_warning(store, brand_id, str(doc["key"]))
            out["cleared"].append(currency)
    return out


def _day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])
