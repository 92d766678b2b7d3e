"""What only the merchant knows, set per brand (``tower brands set``, ``PUT /api/brands/{id}/settings``).

Three kinds of setting, each stored where the code that uses it reads it:

* **model settings** (the names of :class:`~tower.analytics.parameters.ModelParameters`:
  ``fulfillment_cost_per_order``, ``cover_low_days``, ``attribution_model``...) in the warehouse's
  ``brand_settings`` table, which the model runner reads for every build;
* **rule thresholds** (``rules.<name>`` of :class:`~tower.decisions.thresholds.RuleThresholds`) and
  **alert thresholds** (``alerts.<name>`` of :class:`~tower.decisions.thresholds.AlertThresholds`)
  on the brand's document (``brands/{id}`` → ``thresholds``), which the recommend step reads.

Anything not set falls back to the deployment's settings (``TOWER_*``, ``TOWER_MODEL_BRAND_OVERRIDES``).
Every value is checked by the very classes that use it, with the brand's other values, before anything
is written: a bad one is refused with a message naming it, and nothing changes.

**Region → location rules** (``location_regions``): which stock location serves a shipping region, and
optionally that region's fulfilment cost per order. An override: without one, days of cover place an
order where Shopify fulfils it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tower.analytics.parameters import ModelConfigError, ModelParameters
from tower.brands import UnknownBrand, brand_row, brand_settings, delete_brand_settings, save_brand_settings
from tower.config import Settings
from tower.connectors import geo
from tower.decisions.thresholds import AlertThresholds, RuleThresholds, ThresholdError
from tower.ports import DocumentStore, Warehouse

MODEL_SETTINGS = tuple(f.name for f in fields(ModelParameters))
# The rules' window is the alignment model's window (alignment_window_days), never set on its own.
RULE_SETTINGS = tuple(f"rules.{f.name}" for f in fields(RuleThresholds) if f.name != "window_days")
ALERT_SETTINGS = tuple(f"alerts.{f.name}" for f in fields(AlertThresholds))
ALL_SETTINGS = MODEL_SETTINGS + RULE_SETTINGS + ALERT_SETTINGS
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


class BadSetting(ValueError):
    """A setting or rule the product cannot use (the message names it); nothing was written."""


def parse_value(text: str) -> Any:
    """A value typed on the command line: an integer, a number, or else the text itself."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text.strip()


def brand_settings_view(warehouse: Warehouse, store: DocumentStore, settings: Settings,
                        brand_id: str) -> dict[str, Any]:
    """The brand's settings: ``stored`` (what it set) and ``effective`` (what the models and rules use).

    Raises:
        BadSetting: Unknown brand.
    """
    _require_brand(warehouse, brand_id)
    stored_models = brand_settings(warehouse, brand_id)
    thresholds = (store.get(f"brands/{brand_id}") or {}).get("thresholds") or {}
    stored = {**stored_models,
              **{f"rules.{k}": v for k, v in (thresholds.get("rules") or {}).items()},
              **{f"alerts.{k}": v for k, v in (thresholds.get("alerts") or {}).items()}}
    models = ModelParameters.for_brand(settings, brand_id, stored=stored_models)
    rules = RuleThresholds.from_settings(settings, thresholds.get("rules"))
    alerts = AlertThresholds.from_settings(settings, thresholds.get("alerts"))
    effective = {**models.as_dict(),
                 **{f"rules.{k}": v for k, v in asdict(rules).items() if k != "window_days"},
                 **{f"alerts.{k}": v for k, v in asdict(alerts).items()}}
    return {"brand_id": brand_id, "stored": dict(sorted(stored.items())), "effective": effective}


def apply_settings(warehouse: Warehouse, store: DocumentStore, settings: Settings, brand_id: str, *,
                   values: Mapping[str, Any], unset: Sequence[str] = (), now: datetime) -> dict[str, Any]:
    """Set and unset a brand's settings, all checked together first; the settings afterwards.

    Seven parameters: the ports and settings, the brand, then what to change by keyword.

    Raises:
        BadSetting: Unknown brand or name, a value of the wrong type or out of range, a name both set and
            unset, or a combination the models refuse (e.g. cover_low_days above cover_overstock_days).
    """
    _require_brand(warehouse, brand_id)
    unknown = sorted((set(values) | set(unset)) - set(ALL_SETTINGS))
    if unknown:
        raise BadSetting(f"unknown setting {unknown[0]!r}; known: {', '.join(ALL_SETTINGS)}")
    both = sorted(set(values) & set(unset))
    if both:
        raise BadSetting(f"{both[0]!r} is both set and unset")
    if not values and not unset:
        raise BadSetting("name at least one setting to set (NAME=VALUE) or unset")
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise BadSetting(f"{name}={value!r}: must be a finite number")

    models = {k: v for k, v in {**brand_settings(warehouse, brand_id), **values}.items()
              if k in MODEL_SETTINGS and k not in unset}
    doc = store.get(f"brands/{brand_id}") or {}
    thresholds = {kind: dict((doc.get("thresholds") or {}).get(kind) or {}) for kind in ("rules", "alerts")}
    for name, value in values.items():
        kind, _, field = name.partition(".")
        if field:
            thresholds[kind][field] = value
    for name in unset:
        kind, _, field = name.partition(".")
        if field:
            thresholds[kind].pop(field, None)
    _check(settings, brand_id, models, thresholds)

    save_brand_settings(warehouse, brand_id, {k: v for k, v in values.items() if k in MODEL_SETTINGS}, now)
    delete_brand_settings(warehouse, brand_id, [k for k in unset if k in MODEL_SETTINGS])
    if any("." in k for k in [*values, *unset]):
        store.merge(f"brands/{brand_id}", {"thresholds": thresholds, "updated_at": now})
    return brand_settings_view(warehouse, store, settings, brand_id)


def _check(settings: Settings, brand_id: str, models: Mapping[str, Any],
           thresholds: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise BadSetting unless the models and the rules accept every value together."""
    try:
        ModelParameters.for_brand(settings, brand_id, stored=models)
    except ModelConfigError as e:
        raise BadSetting(str(e).replace("brand settings for brand", "brand")) from None
    for kind, cls in (("rules", RuleThresholds), ("alerts", AlertThresholds)):
        for field, value in thresholds[kind].items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise BadSetting(f"{kind}.{field}={value!r}: must be a number, zero or more")
        try:
            cls.from_settings(settings, thresholds[kind])
        except ThresholdError as e:
            raise BadSetting(f"{kind}: {e}") from None


def _require_brand(warehouse: Warehouse, brand_id: str) -> dict[str, Any]:
    try:
        return brand_row(warehouse, brand_id)
    except UnknownBrand:
        raise BadSetting(f"unknown brand {brand_id!r}: register it first (tower brands add --id {brand_id} ...)") from None


# --- region → location rules (location_regions) --------------------------------------------------------

_RULES_SQL = ("SELECT country_code, region_code, location_id, fulfillment_cost_amount, updated_at "
              "FROM location_regions WHERE brand_id = @brand_id ORDER BY region_code")


def region_rules(warehouse: Warehouse, brand_id: str) -> list[dict[str, Any]]:
    """The brand's region → location rules, by region."""
    _require_brand(warehouse, brand_id)
    return warehouse.rows(_RULES_SQL, {"brand_id": brand_id})


def check_region(region_code: str) -> str:
    """An ISO 3166-2 code (upper-cased), or BadSetting."""
    code = (region_code or "").strip().upper()
    if not _REGION.match(code):
        raise BadSetting(f"region {region_code!r} must be an ISO 3166-2 code such as US-TX or CA-ON")
    if geo.region_country(code) in {s.country_code for s in geo.subdivisions().values()} \
            and code not in geo.subdivisions():
        raise BadSetting(f"region {code!r} is not a subdivision of {geo.region_country(code)}")
    return code


def set_region_rule(warehouse: Warehouse, brand_id: str, region_code: str, location_id: str, *,
                    fulfillment_cost: str | float | Decimal | None, now: datetime) -> dict[str, Any]:
    """Say which location serves a region (and, optionally, its fulfilment cost per order); the rule.

    Six parameters: the warehouse and the brand, then the rule's own fields.

    Raises:
        BadSetting: Unknown brand, a region that is no ISO 3166-2 subdivision, a location the brand's
            store does not have, or a cost that is not a number of zero or more.
    """
    _require_brand(warehouse, brand_id)
    code = check_region(region_code)
    locations = {r["location_id"]: r for r in warehouse.rows(
        "SELECT location_id, location_name FROM locations WHERE brand_id = @brand_id", {"brand_id": brand_id})}
    location = _location_id(location_id, locations)
    cost = None
    if fulfillment_cost is not None and str(fulfillment_cost).strip() != "":
        try:
            cost = Decimal(str(fulfillment_cost)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise BadSetting(f"fulfilment cost {fulfillment_cost!r} must be a number") from None
        if not cost.is_finite() or cost < 0:
            raise BadSetting(f"fulfilment cost {fulfillment_cost!r} must be zero or more")
    row = {"brand_id": brand_id, "country_code": geo.region_country(code), "region_code": code,
           "location_id": location, "fulfillment_cost_amount": cost, "updated_at": now}
    warehouse.merge("location_regions", [row], ["brand_id", "country_code", "region_code"])
    return row


def remove_region_rule(warehouse: Warehouse, brand_id: str, region_code: str) -> bool:
    """Remove a region's rule; whether there was one."""
    _require_brand(warehouse, brand_id)
    code = check_region(region_code)
    params = {"brand_id": brand_id, "region_code": code}
    found = warehouse.rows("SELECT COUNT(*) AS n FROM location_regions WHERE brand_id = @brand_id "
                           "AND region_code = @region_code", params)[0]["n"]
    warehouse.execute("DELETE FROM location_regions WHERE brand_id = @brand_id AND region_code = @region_code", params)
    return bool(found)


def _location_id(given: str, locations: Mapping[str, Mapping[str, Any]]) -> str:
    """The stored id of a location given by its id, its number or its name."""
    text = (given or "").strip()
    if not locations:
        raise BadSetting("the brand has no locations yet: sync its store first (tower sync shopify --brand ...)")
    candidates = [lid for lid, r in locations.items()
                  if text in (lid, lid.rsplit("/", 1)[-1]) or text.casefold() == str(r["location_name"] or "").casefold()]
    if len(candidates) != 1:
        known = ", ".join(f"{lid} ({r['location_name']})" for lid, r in sorted(locations.items()))
        raise BadSetting(f"location {given!r} is not one of the brand's: {known}")
    return candidates[0]
