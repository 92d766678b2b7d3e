"""Each integration's document: how its last syncs went and, for a sandbox, where it was connected.

One document per connected account, ``integrations/<brand>~<platform>~<account>`` in the document
store, beside the warehouse's ``integrations`` row (which holds what the syncs need: the secret
reference, status, timezone). The document holds what people and the local host read:

* ``last_sync``: the outcome of the latest sync, whoever ran it (a task, the CLI, the scheduler):
  status, rows, warnings, error, finished_at; ``last_success``: the same of the latest one that
  finished ``ok``;
* ``warnings``: standing warnings on the integration (``[{"code", "message", "fix", "since",
  "updated_at"}]``, one per code), which the loaders and checks that find them raise and clear
  (:func:`raise_warning`, :func:`clear_warning`) and ``tower status`` shows with their fix;
* ``sandbox``: for an account connected to a development sandbox, its origin and the world it
  serves (:mod:`tower.sandboxes`), so the sandbox can be brought back after its process ended.

It lives in the document store, not the warehouse, because the local host reads it before it may
open the warehouse (another process can hold DuckDB's lock) and a restart must find it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tower import names
from tower.ports import DocQuery, DocumentStore, Warehouse
from tower.redact import redact

COLLECTION = "integrations"


def doc_path(brand_id: str, platform: str, account_id: str) -> str:
    """``integrations/<brand>~<platform>~<account>`` (a ``/`` in an id would open a sub-collection)."""
    key = "~".join((brand_id, platform, str(account_id)))
    return f"{COLLECTION}/{key.replace('/', '-')}"


def documents(store: DocumentStore) -> list[dict[str, Any]]:
    """Every integration document, each with its ``brand_id``, ``platform`` and ``account_id``."""
    return [doc for _, doc in store.query(DocQuery(COLLECTION)) if doc.get("brand_id")]


def document(store: DocumentStore, brand_id: str, platform: str, account_id: str) -> dict[str, Any]:
    """One account's document ({} when it has none)."""
    return store.get(doc_path(brand_id, platform, account_id)) or {}


def _ids(brand_id: str, platform: str, account_id: str) -> dict[str, str]:
    return {"brand_id": brand_id, "platform": platform, "account_id": str(account_id)}


def record_sandbox(store: DocumentStore, brand_id: str, platform: str, account_id: str,
                   sandbox: Mapping[str, Any] | None) -> None:
    """Record (or, with None, forget) the sandbox an account was connected to."""
    path = doc_path(brand_id, platform, account_id)
    doc = store.get(path) or {}
    doc.update(_ids(brand_id, platform, account_id))
    if sandbox:
        doc["sandbox"] = dict(sandbox)
    else:
        doc.pop("sandbox", None)
    store.set(path, doc)


def _account_outcomes(platform: str, result: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(account, outcome) of each account a sync result covers."""
    if platform == "shopify":
        account = str(result.get("shop_domain") or "")
        stored = result.get("stored") or {}
        return [(account, {"status": result.get("status"), "rows": stored, "warnings": result.get("warnings") or [],
                           "error": result.get("error"), "window_start": result.get("window_start"),
                           "window_end": result.get("window_end")})] if account else []
    return [(str(a.get("account_id")), {"status": a.get("status"), "rows": {"ad_performance": a.get("rows") or 0},
                                        "warnings": list(a.get("warnings") or []), "error": a.get("error"),
                                        "window_start": a.get("window_start"), "window_end": a.get("window_end")})
            for a in result.get("accounts") or []]


def record_outcome(store: DocumentStore, brand_id: str, platform: str, result: Mapping[str, Any],
                   now: datetime) -> None:
    """Record a finished sync call's outcome on each account it covered.

    Args:
        result: The sync's result as the pipeline receives it (``tower.sync.shopify.SyncResult.as_dict``
            or ``tower.sync.ads.AdSyncResult.as_dict``).
        now: When it finished.
    """
    for account, outcome in _account_outcomes(platform, result):
        outcome["error"] = redact(outcome["error"]) if outcome["error"] else None
        outcome["finished_at"] = now
        path = doc_path(brand_id, platform, account)
        # replaced whole, not merged: a table the last sync did not touch must not keep an older count
        doc = {**(store.get(path) or {}), **_ids(brand_id, platform, account), "last_sync": outcome}
        if outcome["status"] == "ok":
            doc["last_success"] = outcome
        store.set(path, doc)


def raise_warning(store: DocumentStore, brand_id: str, platform: str, account_id: str, *, code: str, message: str,
                  fix: str, now: datetime) -> None:
    """Open (or refresh) the integration's standing warning ``code``; ``since`` stays that of its first time.

    Eight parameters: the store and the account, then the warning's own fields by keyword. No secret and
    no customer data goes in a warning: whoever sees the brand sees it.
    """
    path = doc_path(brand_id, platform, account_id)
    doc = store.get(path) or {}
    doc.update(_ids(brand_id, platform, account_id))
    kept = [w for w in doc.get("warnings") or [] if isinstance(w, dict) and w.get("code") != code]
    previous = next((w for w in doc.get("warnings") or [] if isinstance(w, dict) and w.get("code") == code), {})
    kept.append({"code": code, "message": redact(message), "fix": fix, "since": previous.get("since") or now,
                 "updated_at": now})
    doc["warnings"] = sorted(kept, key=lambda w: str(w.get("code")))
    store.set(path, doc)


def clear_warning(store: DocumentStore, brand_id: str, platform: str, account_id: str, code: str) -> bool:
    """Close the integration's standing warning ``code``; whether there was one."""
    path = doc_path(brand_id, platform, account_id)
    doc = store.get(path)
    if not doc or not any(isinstance(w, dict) and w.get("code") == code for w in doc.get("warnings") or []):
        return False
    doc["warnings"] = [w for w in doc["warnings"] if not (isinstance(w, dict) and w.get("code") == code)]
    store.set(path, doc)
    return True


def standing_warnings(store: DocumentStore, brand_id: str, platform: str, account_id: str) -> list[dict[str, Any]]:
    """The integration's standing warnings (by code)."""
    return [w for w in document(store, brand_id, platform, account_id).get("warnings") or [] if isinstance(w, dict)]

def first_syncs_pending(warehouse: Warehouse, store: DocumentStore, brand_id: str) -> list[str]:
    """The brand's active integrations whose first sync has not finished (``platform/account``).

    Finished means a sync succeeded once (``last_synced_at``) or its last call ended in any other way
    than ``partial`` (a failed one counts: the brand is not held back by an account that keeps failing).
    Until none is pending, the brand's data is half in: ads without their orders read as a ROAS
    collapse, and what the decisions made of it would depend on which sync happened to finish first.
    """
    rows = warehouse.rows(
        "SELECT platform, account_id, last_synced_at FROM integrations "
        "WHERE brand_id = @brand_id AND status = 'active' ORDER BY platform, account_id",
        {"brand_id": brand_id},
    )
    pending = []
    for r in rows:
        if r["platform"] not in names.PLATFORMS or r["last_synced_at"] is not None:
            continue
        last = document(store, brand_id, r["platform"], r["account_id"]).get("last_sync") or {}
        if last.get("status") in (None, "partial"):
            pending.append(f"{r['platform']}/{r['account_id']}")
    return pending
