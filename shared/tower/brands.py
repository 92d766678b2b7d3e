"""Registering a brand: the row every platform integration hangs off (``tower brands add``)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tower.ports import Warehouse

_BRAND_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class BadBrand(ValueError):
    """A brand field the product cannot use (the message names it)."""


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
    """Register (or update) a brand; idempotent (MERGE on brand_id). Returns the row."""
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
