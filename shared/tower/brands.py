"""Brands: registering one (``tower brands add``) and looking one up (its name, timezone, currency, today).

The ``brands`` row is what every platform integration hangs off. Its lookups sit at the bottom of the
library because every layer asks them: the pipeline and the event handlers turn "now" into the brand's
store-local today, decisions read the brand's currency, the API and Q&A its name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tower.ports import Warehouse

_BRAND_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


_BRAND_ROW = "SELECT brand_id, brand_name, currency, timezone FROM brands WHERE brand_id = @brand_id"


class BadBrand(ValueError):
    """A brand field the product cannot use (the message names it)."""


class UnknownBrand(LookupError):
    """No brand with this id in the warehouse."""


def brand_row(warehouse: Warehouse, brand_id: str) -> dict[str, Any]:
    """The brand's ``brand_id``, ``brand_name``, ``currency`` and ``timezone``.

    Raises:
        UnknownBrand: No such brand.
    """
    rows = warehouse.rows(_BRAND_ROW, {"brand_id": brand_id})
    if not rows:
        raise UnknownBrand(f"unknown brand {brand_id!r}")
    return rows[0]


def local_date(timezone: str, now: datetime | None = None) -> date:
    """The date in ``timezone`` at ``now`` (default: the clock)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def local_today(warehouse: Warehouse, brand_id: str, now: datetime | None = None) -> date:
    """The brand's store-local date now (entry points read the clock here, then pass ``today`` in).

    Raises:
        UnknownBrand: No such brand.
    """
    return local_date(brand_row(warehouse, brand_id)["timezone"], now)


def check_brand(brand_id: str, name: str, timezone: str, currency: str) -> None:
    """Validate a brand's fields.

    Raises:
        BadBrand: Naming the first field that is wrong.
    """
    if not _BRAND_ID.match(brand_id or ""):
        raise BadBrand(f"brand id {brand_id!r}: use 1-63 lower-case letters, digits, '-' or '_'")
    if not (name or "").strip():
        raise BadBrand("brand name must not be empty")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise BadBrand(f"timezone {timezone!r} is not an IANA time zone (e.g. America/Chicago)") from e
    if not _CURRENCY.match(currency or ""):
        raise BadBrand(f"currency {currency!r} must be an ISO 4217 code like USD")


def add_brand(warehouse: Warehouse, *, brand_id: str, name: str, timezone: str, currency: str,
              now: datetime, shop_domain: str | None = None, agency_id: str | None = None) -> dict[str, Any]:
    """Register (or update) a brand; idempotent (MERGE on brand_id). Returns the row.

    Seven parameters: the warehouse, then one keyword per column of the ``brands`` row.
    """
    check_brand(brand_id, name, timezone, currency)
    existing = warehouse.rows("SELECT created_at FROM brands WHERE brand_id = @brand_id", {"brand_id": brand_id})
    row: dict[str, Any] = {"brand_id": brand_id, "brand_name": name.strip(), "timezone": timezone,
                           "currency": currency, "created_at": existing[0]["created_at"] if existing else now,
                           "updated_at": now}
    # Optional fields are only written when given, so re-adding a brand keeps what it had.
    if shop_domain is not None:
        row["shop_domain"] = shop_domain
    if agency_id is not None:
        row["agency_id"] = agency_id
    warehouse.merge("brands", [row], ["brand_id"])
    return row


# --- what only the merchant knows (``tower brands set``) ------------------------------------------------

_SETTINGS_SQL = "SELECT setting, value FROM brand_settings WHERE brand_id = @brand_id"


def brand_settings(warehouse: Warehouse, brand_id: str) -> dict[str, Any]:
    """The brand's stored model settings (``brand_settings``), name -> value; empty when it set none."""
    return {r["setting"]: json.loads(r["value"]) for r in warehouse.rows(_SETTINGS_SQL, {"brand_id": brand_id})}


def save_brand_settings(warehouse: Warehouse, brand_id: str, values: Mapping[str, Any], now: datetime) -> None:
    """Store model settings of a brand (MERGE on brand × setting), values as JSON; callers validate first."""
    rows = [{"brand_id": brand_id, "setting": name, "value": json.dumps(value), "updated_at": now}
            for name, value in sorted(values.items())]
    if rows:
        warehouse.merge("brand_settings", rows, ["brand_id", "setting"])


def delete_brand_settings(warehouse: Warehouse, brand_id: str, names: Iterable[str]) -> None:
    """Remove stored settings: the brand falls back to the deployment's defaults for them."""
    for name in sorted(set(names)):
        warehouse.execute("DELETE FROM brand_settings WHERE brand_id = @brand_id AND setting = @setting",
                          {"brand_id": brand_id, "setting": name})
