"""The warehouse's cache of Google Ads geo target constants (``geo_targets``).

The Google connector knows the shipped seed (the US and its states) and asks the API's
``geo_target_constant`` resource for any other region id it meets; what it learned is MERGEd here on
``criterion_id`` and handed to the next sync's connector, so each id is asked once per deployment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tower.connectors.geo import GeoTarget
from tower.ports import Warehouse

_SQL = ("SELECT criterion_id, name, canonical_name, country_code, target_type, status FROM geo_targets "
        "ORDER BY criterion_id")


def cached_geo_targets(warehouse: Warehouse) -> dict[int, GeoTarget]:
    """Every geo target resolved by an earlier sync, by id."""
    return {int(r["criterion_id"]): GeoTarget(int(r["criterion_id"]), r["name"] or "", r["canonical_name"] or "",
                                              r["country_code"] or "", r["target_type"] or "", r["status"] or "")
            for r in warehouse.rows(_SQL)}


def store_geo_targets(warehouse: Warehouse, targets: dict[int, GeoTarget], now: datetime) -> int:
    """MERGE resolved geo targets on their id; how many."""
    if targets:
        warehouse.merge("geo_targets", [t.row(now) for t in targets.values()], ["criterion_id"])
    return len(targets)


def prime(connector: Any, warehouse: Warehouse) -> None:
    """Hand a connector that resolves geo targets (Google's) what the warehouse already knows."""
    known = getattr(connector, "geo_targets", None)
    if isinstance(known, dict):
        known.update(cached_geo_targets(warehouse))


def keep(connector: Any, warehouse: Warehouse, now: datetime) -> int:
    """Store what a connector resolved during its run (nothing for connectors that resolve nothing)."""
    resolved = getattr(connector, "resolved", None)
    return store_geo_targets(warehouse, resolved, now) if isinstance(resolved, dict) else 0
