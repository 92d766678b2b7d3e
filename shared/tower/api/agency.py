"""``GET /api/agency/overview``: the caller's brands, most urgent first, from the cached alerts and cards.

Per brand (no warehouse query for a brand that has its ``brands/{id}`` document, no Claude call):

* ``alerts``: open alerts; ``opportunities``: this week's open growth cards (``increase_spend``,
  ``promotion``).
* ``health_score``: 100 minus a penalty per open alert by severity (critical 30, high 20, medium 10,
  low 5) and 5 per open high-priority ``reduce_spend`` card (money going where it should not),
  never below 0. A reading aid for sorting, not a model.
* ``status``: ``needs_attention`` with any open alert, else ``opportunity`` with any opportunity,
  else ``stable`` (the plan's red, green and grey flags).
* ``top_issue``: the most severe alert's title, else the best opportunity's action, else null.

Sorted by status (needs_attention, opportunity, stable), then health (lowest first), then name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from tower.api.brands import current_recommendations
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_runtime
from tower.decisions.store import list_alerts

if TYPE_CHECKING:  # pragma: no cover
    from tower.runtime import Runtime

bp = Blueprint("agency", __name__, url_prefix="/api/agency")

ALERT_PENALTY = {"critical": 30, "high": 20, "medium": 10, "low": 5}
WASTE_PENALTY = 5
GROWTH_TYPES = ("increase_spend", "promotion")
STATUS_ORDER = {"needs_attention": 0, "opportunity": 1, "stable": 2}


def brand_health(alerts: Sequence[Mapping[str, Any]], cards: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Health score, counts, status and top issue of one brand.

    Args:
        alerts: Its open alerts, most severe first (as ``list_alerts`` returns them).
        cards: This week's recommendations, best first (any status; only open ones count).
    """
    open_cards = [c for c in cards if c.get("status") == "open"]
    growth = [c for c in open_cards if c.get("type") in GROWTH_TYPES]
    waste = [c for c in open_cards if c.get("type") == "reduce_spend" and c.get("priority") == "high"]
    penalty = sum(ALERT_PENALTY.get(str(a.get("severity")), 5) for a in alerts) + WASTE_PENALTY * len(waste)
    if alerts:
        status, top = "needs_attention", str(alerts[0].get("title") or "") or None
    elif growth:
        status, top = "opportunity", str(growth[0].get("action") or "") or None
    else:
        status, top = "stable", None
    return {"health_score": max(0, 100 - penalty), "alerts": len(alerts), "opportunities": len(growth),
            "status": status, "top_issue": top}


def sort_overview(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most urgent first: status, then the lowest health, then the brand's name."""
    return sorted(rows, key=lambda r: (STATUS_ORDER[r["status"]], r["health_score"], str(r["brand_name"]),
                                       r["brand_id"]))


def brand_names(runtime: Runtime, brand_ids: Sequence[str]) -> dict[str, str]:
    """Each brand's display name: its document's, else the ``brands`` table's (one query for the rest)."""
    names: dict[str, str] = {}
    for b in brand_ids:
        doc = runtime.store.get(f"brands/{b}") or {}
        if doc.get("name") or doc.get("brand_name"):
            names[b] = str(doc.get("name") or doc.get("brand_name"))
    missing = [b for b in brand_ids if b not in names]
    if missing:
        rows = runtime.warehouse.rows("SELECT brand_id, brand_name FROM brands WHERE brand_id IN UNNEST(@ids)",
                                      {"ids": missing})
        names.update({r["brand_id"]: r["brand_name"] for r in rows})
    return names


def overview(runtime: Runtime, brand_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The overview rows of these brands, sorted by urgency (brands unknown everywhere are left out)."""

    ids = sorted(set(brand_ids))
    names = brand_names(runtime, ids)
    rows = []
    for b in ids:
        if b not in names:
            continue  # listed by the agency but never registered: nothing to show
        _, cards = current_recommendations(runtime.store, b)
        rows.append({"brand_id": b, "brand_name": names[b], **brand_health(list_alerts(runtime.store, b), cards)})
    return sort_overview(rows)


@bp.get("/overview")
@operation("The caller's brands, most urgent first.", response="AgencyOverview", errors=(403,), tag="agency",
           query={"agency_id": {"schema": {"type": "string"},
                                "description": "Must be the key's own agency when given."}})
def agency_overview() -> ResponseReturnValue:
    """For an agency key, every brand the agency lists; for a brand key, its brands (``agency`` is null)."""
    caller = current_caller()
    asked = request.args.get("agency_id")
    if asked is not None and asked != caller.agency_id:
        raise ApiError(403, "forbidden", f"this API key does not cover agency {asked!r}")
    runtime = current_runtime()
    agency = None
    if caller.agency_id:
        doc = runtime.store.get(f"agencies/{caller.agency_id}") or {}
        agency = {"agency_id": caller.agency_id, "name": doc.get("name") or caller.agency_id}
    return {"agency": agency, "brands": overview(runtime, caller.brand_ids)}
