"""Accepting a promotion card launches it: an automatic Shopify discount on the product, time-boxed.

A promotion card (rule 3: a product's stock covers far more days than the threshold) changes no ad
budget; what it asks for is a discount. Accept (through :mod:`tower.decisions.budget_actions`, which
hands promotion cards here) plans ``TOWER_PROMOTION_DISCOUNT_PCT`` off the product for
``TOWER_PROMOTION_DAYS`` from now, claims the card (``open`` → ``accepting``, one winner of two
concurrent Accepts) and enqueues the same ``apply_budget_change`` task as a budget change, whose
payload says ``kind: discount``. The task creates the discount through the Admin API
(:mod:`tower.connectors.shopify.discounts`) and records it in ``discount_changes``, the promotion's
audit trail beside ``budget_changes``. The dry run shows the exact discount without creating it.

Undo is a compare-and-set like a budget's: it reads the discount back and refuses (409) when it was
deleted or its dates were changed in the Shopify admin since; otherwise it deactivates it (Shopify
ends it now; it stays in the admin's history). A discount that already ended by itself needs no
Undo: the card is marked undone without a call.

Idempotent: the task records ``applying`` before calling Shopify and ``applied`` with the discount's
id after, by change id. A redelivered task whose change is ``applied`` does nothing; one whose change
is still ``applying`` (the process died between Shopify's answer and the record) does not create a
second discount: the change fails, naming the discount's title to look for in the admin.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tower import names, periods
from tower.decisions.budget_changes import HANDLER, ConflictError
from tower.decisions.store import rec_path

if TYPE_CHECKING:  # pragma: no cover
    from tower.connectors.shopify.client import ShopifyClient
    from tower.ports import Transaction
    from tower.runtime import Runtime

log = logging.getLogger("tower.decisions.promotions")

KIND = "discount"
TABLE = "discount_changes"


class PromotionError(ConflictError):
    """The promotion cannot be launched or ended now (HTTP 409, CLI exit 2); the message says why."""

    def __init__(self, message: str, code: str = "promotion_refused",
                 conflicts: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, code, conflicts or [])


def is_promotion(rec: Mapping[str, Any]) -> bool:
    return rec.get("type") == "promotion"


def _decision_path(brand_id: str, decision_id: str) -> str:
    return f"brands/{brand_id}/decisions/{decision_id}"


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plan(runtime: Runtime, rec: Mapping[str, Any], rec_id: str, round_no: int, now: datetime) -> dict[str, Any]:
    """The discount an Accept would create: product, percentage, title and dates."""
    pct = float(runtime.settings.promotion_discount_pct)
    days = int(runtime.settings.promotion_days)
    product = str(rec.get("product") or rec.get("product_id"))
    start = now.astimezone(UTC).replace(microsecond=0)
    return {
        "kind": KIND, "platform": "shopify", "product_id": rec["product_id"], "product": product,
        # the title shows to the merchant in the admin and to customers in the cart
        "title": f"{pct:g}% off {product}"[:255], "percentage": pct,  # percent, as the page shows it
        "starts_at": _iso(start), "ends_at": _iso(start + timedelta(days=days)), "days": days,
        "change_id": f"{rec_id}_shopify_discount_apply_{round_no}",
    }


def _describe(c: Mapping[str, Any], shop: str) -> str:
    return (f"an automatic discount “{c['title']}” on {shop}: {c['percentage']:g}% off {c['product']} from "
            f"{periods.day_words(c['starts_at'][:10])} to {periods.day_words(c['ends_at'][:10])} ({c['days']} days), then it ends by itself")


def _shop(runtime: Runtime, brand_id: str) -> dict[str, Any]:
    """The brand's Shopify integration, checked for the write_discounts scope when scopes were recorded."""
    from tower.sync.connect import NotConnected, shopify_integration  # lazy: the sync layer

    try:
        integ = shopify_integration(runtime.warehouse, brand_id)
    except NotConnected as e:
        raise PromotionError(f"{e}; connect the store to launch a promotion", "not_connected") from e
    scopes = [s.strip() for s in str(integ.get("scopes") or "").split(",") if s.strip()]
    if scopes and "write_discounts" not in scopes:
        raise PromotionError(
            f"the Shopify connection of brand {brand_id} lacks the write_discounts scope: reconnect the store "
            "granting it (`tower connect shopify … --scopes …,write_discounts`)", "missing_scope")
    return {**integ, "brand_id": brand_id}


def _client(runtime: Runtime, integ: Mapping[str, Any]) -> ShopifyClient:
    from tower.connectors.shopify.client import ShopifyClient  # lazy: the SDK
    from tower.sync.run import default_policy  # lazy: with the SDK above
    from tower.sync.shopify_tokens import TokenRefreshFailed, fresh_token  # lazy: with the SDK above

    s = runtime.settings
    try:
        token = fresh_token(s, runtime.secrets, str(integ["brand_id"]), integ["secret_ref"])  # refreshed if expiring
    except TokenRefreshFailed as e:
        raise PromotionError(str(e), "not_connected") from e
    return ShopifyClient(integ["account_id"], token, api_version=s.shopify_api_version, origin=s.shopify_api_origin,
                         timeout=s.shopify_timeout_seconds, policy=default_policy())


def preview(runtime: Runtime, rec_id: str, brand_id: str, rec: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What Accept would create, without creating it."""
    c = plan(runtime, rec, rec_id, 0, now)
    try:
        integ = _shop(runtime, brand_id)
        item = {**c, "status": "would_create", "detail": "Accept creates " + _describe(c, integ["account_id"])}
    except PromotionError as e:
        item = {**c, "status": "refused", "detail": str(e)}
    return {"recommendation_id": rec_id, "brand_id": brand_id, "action": rec.get("action"), "dry_run": True,
            "changes": [item]}


def accept(runtime: Runtime, rec_id: str, brand_id: str, *, requested_by: str, now: datetime) -> dict[str, Any]:
    """Claim the card and enqueue the discount's creation (a second Accept changes nothing)."""
    integ = _shop(runtime, brand_id)

    def claim(txn: Transaction) -> tuple[dict[str, Any] | None, str]:
        doc = txn.get(rec_path(brand_id, rec_id)) or {}
        seen = str(doc.get("status"))
        if seen in ("accepting", "applied", "accepted"):
            return None, seen
        if seen in ("dismissed", "undoing"):
            raise PromotionError(f"recommendation {rec_id} is {seen}; it cannot be accepted now", "bad_state")
        round_no = int(doc.get("applications") or 0) + 1
        decision = {"id": f"dec_{rec_id}_accept_{round_no}", "recommendation_id": rec_id, "action": "accept",
                    "requested_by": requested_by, "requested_at": now, "status": "queued",
                    "changes": [plan(runtime, doc, rec_id, round_no, now)]}
        txn.set(_decision_path(brand_id, str(decision["id"])), decision)
        txn.merge(rec_path(brand_id, rec_id), {"status": "accepting", "decision_id": decision["id"],
                                               "applications": round_no, "updated_at": now})
        return decision, seen

    decision, seen = runtime.store.transaction(claim)
    if decision is None:
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": seen, "changed": False,
                "message": f"already {seen}: nothing to do"}
    task_id = _enqueue(runtime, brand_id, rec_id, decision, "apply")
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "accepting", "changed": True,
            "decision_id": decision["id"], "task_id": task_id, "changes": decision["changes"],
            "message": "launching " + _describe(decision["changes"][0], integ["account_id"])}


def undo(runtime: Runtime, rec_id: str, brand_id: str, rec: Mapping[str, Any], *, requested_by: str,
         now: datetime) -> dict[str, Any]:
    """End the discount the Accept created, if it is still the one we created and still running."""
    status = rec.get("status")
    if status in ("undoing", "undone"):
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": status, "changed": False,
                "message": f"already {status}: nothing to do"}
    applied = [c for c in rec.get("applied_changes") or [] if c.get("status") == "applied" and c.get("discount_id")]
    if status != "applied" or not applied:
        raise PromotionError(f"recommendation {rec_id} is {status}: no discount of it was created, nothing to undo",
                             "bad_state")
    c = applied[0]
    from tower.connectors.shopify import discounts  # lazy: the connector

    current = discounts.read(_client(runtime, _shop(runtime, brand_id)), c["discount_id"])
    if current is None or current.ends_at is None or current.ends_at[:19] != str(c["ends_at"])[:19]:
        said = "deleted" if current is None else f"changed (it now ends {current.ends_at or 'never'})"
        raise PromotionError(
            f"recommendation {rec_id} cannot be undone: its discount {c['discount_id']} was {said} in the Shopify "
            "admin since it was launched; nothing was changed",
            "discount_changed", [{"platform": "shopify", "discount_id": c["discount_id"], "recorded": c["ends_at"],
                                  "current": None if current is None else current.ends_at}])
    round_no = int(rec.get("applications") or 1)
    change = {**c, "action": "deactivate", "undoes_change_id": c["change_id"],
              "change_id": f"{rec_id}_shopify_discount_undo_{round_no}"}
    if current.status == "EXPIRED":  # it ended by itself: nothing left to end on Shopify
        runtime.store.merge(rec_path(brand_id, rec_id), {"status": "undone", "applied_changes": [],
                                                         "undone_at": now, "updated_at": now})
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "undone", "changed": True,
                "message": f"the discount had already ended ({current.ends_at}); nothing to end on Shopify"}
    decision = {"id": f"dec_{rec_id}_undo_{round_no}", "recommendation_id": rec_id, "action": "undo",
                "requested_by": requested_by, "requested_at": now, "status": "queued", "changes": [change]}

    def claim(txn: Transaction) -> bool:
        doc = txn.get(rec_path(brand_id, rec_id)) or {}
        if doc.get("status") != "applied":
            return False
        txn.set(_decision_path(brand_id, str(decision["id"])), decision)
        txn.merge(rec_path(brand_id, rec_id), {"status": "undoing", "undo_decision_id": decision["id"],
                                               "updated_at": now})
        return True

    if not runtime.store.transaction(claim):
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "undoing", "changed": False,
                "message": "already being undone"}
    task_id = _enqueue(runtime, brand_id, rec_id, decision, "undo")
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "undoing", "changed": True,
            "decision_id": decision["id"], "task_id": task_id, "changes": [change]}


def _enqueue(runtime: Runtime, brand_id: str, rec_id: str, decision: Mapping[str, Any], action: str) -> str:
    return runtime.tasks.enqueue(names.QUEUE_BUDGET, HANDLER, {
        "kind": KIND, "brand_id": brand_id, "recommendation_id": rec_id, "decision_id": decision["id"],
        "action": action, "requested_by": decision["requested_by"], "changes": decision["changes"],
    }, task_id=decision["id"])


def _audit(runtime: Runtime, brand_id: str, change_id: str) -> dict[str, Any] | None:
    rows = runtime.warehouse.rows(f"SELECT * FROM {TABLE} WHERE brand_id = @brand_id AND change_id = @change_id",
                                  {"brand_id": brand_id, "change_id": change_id})
    return dict(rows[0]) if rows else None


def _record(runtime: Runtime, row: Mapping[str, Any]) -> None:
    runtime.warehouse.merge(TABLE, [dict(row)], ["brand_id", "change_id"])


def _ts(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _run_change(runtime: Runtime, payload: Mapping[str, Any], c: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """One create or deactivate, audited by change id; its outcome."""
    from tower.connectors.retry import FatalError  # lazy: the connectors load only when a discount is made
    from tower.connectors.shopify import discounts  # lazy: likewise

    brand_id = str(payload["brand_id"])
    seen = _audit(runtime, brand_id, str(c["change_id"]))
    if seen and seen["status"] == "applied":
        return {**c, "status": "applied", "discount_id": seen["discount_id"]}
    if seen and seen["status"] == "applying":
        return {**c, "status": "failed", "detail": (
            f"an earlier attempt stopped after asking Shopify; look in the Shopify admin for the discount "
            f"“{c['title']}” before accepting again")}
    integ = _shop(runtime, brand_id)
    row = {"brand_id": brand_id, "change_id": c["change_id"], "shop_domain": integ["account_id"],
           "product_id": c["product_id"], "discount_id": c.get("discount_id"),
           "percentage": round(float(c["percentage"]) / 100.0, 4),
           "action": "create" if payload["action"] == "apply" else "deactivate",
           "starts_at": _ts(c["starts_at"]), "ends_at": _ts(c["ends_at"]),
           "recommendation_id": payload["recommendation_id"], "requested_by": payload.get("requested_by"),
           "status": "applying", "detail": None, "created_at": now}
    _record(runtime, row)
    client = _client(runtime, integ)
    try:
        if payload["action"] == "apply":
            made = discounts.create(client, product_id=c["product_id"], title=c["title"],
                                    percentage=float(c["percentage"]) / 100.0,
                                    starts_at=_ts(c["starts_at"]) or now, ends_at=_ts(c["ends_at"]) or now)
        else:
            made = discounts.deactivate(client, str(c["discount_id"]))
    except FatalError as e:
        _record(runtime, {**row, "status": "failed", "detail": str(e)[:500]})
        return {**c, "status": "failed", "detail": str(e)}
    _record(runtime, {**row, "status": "applied", "discount_id": made.id, "detail": made.status})
    if payload["action"] == "undo" and c.get("undoes_change_id"):
        earlier = _audit(runtime, brand_id, str(c["undoes_change_id"]))
        if earlier and earlier["status"] == "applied":
            _record(runtime, {**earlier, "status": "undone"})
    return {**c, "status": "applied", "discount_id": made.id, "discount_status": made.status}


def apply_task(runtime: Runtime, payload: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """The ``apply_budget_change`` task of a promotion card: create or end its discount, record the outcome.

    Raises:
        tower.connectors.retry.RetriesExhausted: Shopify kept failing; the task is retried.
    """
    now = now or datetime.now(UTC)
    brand_id, rec_id = str(payload["brand_id"]), str(payload["recommendation_id"])
    results = [_run_change(runtime, payload, c, now) for c in payload["changes"]]
    ok = all(r["status"] == "applied" for r in results)
    if payload["action"] == "apply":
        update: dict[str, Any] = {"status": "applied" if ok else "failed", "applied_changes": results,
                                  "applied_at": now}
    else:
        update = {"status": "undone" if ok else "failed", "undo_results": results, "undone_at": now}
        if ok:
            update["applied_changes"] = []
    runtime.store.merge(_decision_path(brand_id, str(payload["decision_id"])),
                        {"status": "done" if ok else "failed", "results": results, "completed_at": now})
    runtime.store.merge(rec_path(brand_id, rec_id), {**update, "updated_at": now})
    log.log(logging.INFO if ok else logging.WARNING, f"promotion {payload['action']}",
            extra={"brand_id": brand_id, "recommendation_id": rec_id, "status": update["status"]})
    return {"decision_id": payload["decision_id"], "recommendation_id": rec_id, "status": update["status"],
            "results": results}

