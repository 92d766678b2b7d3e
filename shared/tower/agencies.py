"""Agencies: registering one and attaching brands to it (``tower agencies``, ``POST /api/agencies``).

An agency is ``agencies/{agency_id}`` in the document store, ``{name, brand_ids, created_at,
updated_at}``: what an agency-scoped API key sees is read from it on every request
(:mod:`tower.api.auth`). Attaching a brand also records the agency on the brand (the ``brands`` row's
``agency_id`` and the ``brands/{id}`` document the page reads), and takes the brand off the agency it
was attached to before: a brand has one agency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tower.brands import UnknownBrand, brand_row
from tower.ports import DocQuery, DocumentStore, Warehouse

COLLECTION = "agencies"
_AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class BadAgency(ValueError):
    """An agency request the product cannot carry out (the message names the problem)."""


def agency_path(agency_id: str) -> str:
    """``agencies/{agency_id}``."""
    return f"{COLLECTION}/{agency_id}"


def check_agency_id(agency_id: str) -> str:
    """The id, or BadAgency naming what is wrong with it."""
    if not _AGENCY_ID.match(agency_id or ""):
        raise BadAgency(f"agency id {agency_id!r}: use 1-63 lower-case letters, digits, '-' or '_'")
    return agency_id


def add_agency(store: DocumentStore, agency_id: str, name: str, now: datetime) -> tuple[dict[str, Any], bool]:
    """Register an agency, or rename it (idempotent); the document and whether it was created.

    Raises:
        BadAgency: A bad id or an empty name.
    """
    check_agency_id(agency_id)
    if not (name or "").strip():
        raise BadAgency("the agency needs a name")
    existing = store.get(agency_path(agency_id))
    doc = {"agency_id": agency_id, "name": name.strip(), "brand_ids": list((existing or {}).get("brand_ids") or []),
           "created_at": (existing or {}).get("created_at") or now, "updated_at": now}
    store.set(agency_path(agency_id), doc)
    return doc, existing is None


def get_agency(store: DocumentStore, agency_id: str) -> dict[str, Any]:
    """The agency's document.

    Raises:
        BadAgency: No such agency.
    """
    doc = store.get(agency_path(check_agency_id(agency_id)))
    if doc is None:
        raise BadAgency(f"unknown agency {agency_id!r}: add it first (tower agencies add --id {agency_id} --name ...)")
    return {"agency_id": agency_id, **doc}


def list_agencies(store: DocumentStore) -> list[dict[str, Any]]:
    """Every agency, by id."""
    docs = [{"agency_id": path.rsplit("/", 1)[-1], **doc} for path, doc in store.query(DocQuery(COLLECTION))]
    return sorted(docs, key=lambda d: d["agency_id"])


def attach_brands(warehouse: Warehouse, store: DocumentStore, agency_id: str, brand_ids: Iterable[str],
                  now: datetime) -> dict[str, Any]:
    """Attach registered brands to an agency (idempotent); the agency's document afterwards.

    Raises:
        BadAgency: Unknown agency, no brand named, or a brand that is not registered.
    """
    agency = get_agency(store, agency_id)
    wanted = sorted({b.strip() for b in brand_ids if b and b.strip()})
    if not wanted:
        raise BadAgency("name at least one brand to attach")
    rows = {}
    for b in wanted:
        try:
            rows[b] = brand_row(warehouse, b)
        except UnknownBrand:
            raise BadAgency(f"unknown brand {b!r}: register it first (tower brands add --id {b} ...)") from None
    previous = {r["brand_id"]: r["agency_id"] for r in warehouse.rows(
        "SELECT brand_id, agency_id FROM brands WHERE brand_id IN UNNEST(@ids)", {"ids": wanted})}
    for b, other in sorted(previous.items()):
        if other and other != agency_id:
            _detach(store, other, b, now)
    warehouse.execute("UPDATE brands SET agency_id = @agency_id, updated_at = @now WHERE brand_id IN UNNEST(@ids)",
                      {"agency_id": agency_id, "now": now, "ids": wanted})
    for b, row in rows.items():
        store.merge(f"brands/{b}", {"name": row["brand_name"], "agency_id": agency_id, "timezone": row["timezone"],
                                    "currency": row["currency"]})
    brand_list = sorted(set(agency.get("brand_ids") or []) | set(wanted))
    store.merge(agency_path(agency_id), {"brand_ids": brand_list, "updated_at": now})
    return {**agency, "brand_ids": brand_list, "updated_at": now}


def _detach(store: DocumentStore, agency_id: str, brand_id: str, now: datetime) -> None:
    doc = store.get(agency_path(agency_id))
    if doc is not None and brand_id in (doc.get("brand_ids") or []):
        store.merge(agency_path(agency_id), {"brand_ids": [b for b in doc["brand_ids"] if b != brand_id],
                                             "updated_at": now})
