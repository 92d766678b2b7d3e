"""What happened to a brand's connections and decisions: ``GET …/integrations`` and ``GET …/decisions``.

``integrations``: each connected platform account and how its syncs went. Two sources, joined on (platform, account): the warehouse's ``integrations`` rows (the connection's
state, read through the read path: a slow query elsewhere cannot hold it) and the document store's
integration documents (:mod:`tower.sync.outcomes`: the last sync's outcome, its error already masked,
and the last success). Never the secret reference or a token. ``status`` is the page's word for the
connection: ``connected`` (active), ``needs_reconnect`` (with ``reconnect_reason``: the platform rejected the token
or the grant; the merchant must connect again) or
``disconnected`` (uninstalled, disconnected); ``state`` keeps the stored value.

``decisions``: every Accept, Undo and Dismiss across the weeks, newest first, as the actions wrote
them (:mod:`tower.decisions.budget_actions`): who asked and when, the changes and their results.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from tower.api.auth import check_scope
from tower.api.brands import brand_info
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.ranges import refuse_unknown
from tower.api.request import current_caller, current_now, current_runtime
from tower.ports import DocQuery, Where
from tower.sync.health import RECONNECT_STATUSES, reconnect_reason

bp = Blueprint("brand_records", __name__, url_prefix="/api/brands/<brand_id>")

STATUS = {"active": "connected", "needs_reauth": "needs_reconnect"}
"""Stored state → the page's status (anything else, e.g. uninstalled or disconnected: ``disconnected``)."""

INTEGRATIONS_SQL = """
SELECT platform, account_id, status, account_timezone, account_currency, connected_at, last_synced_at
FROM integrations
WHERE brand_id = @brand_id
ORDER BY platform, account_id
"""


@bp.before_request
def _brand_in_scope() -> None:
    """403 when the key does not cover the brand, 404 when the brand does not exist."""
    if request.method != "OPTIONS":
        brand_id = str((request.view_args or {}).get("brand_id") or "")
        check_scope(current_caller(), brand_id)
        brand_info(current_runtime(), brand_id, current_now())


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


def integration_rows(runtime: Any, brand_id: str) -> list[dict[str, Any]]:
    """The brand's integrations as the route answers them (see the module's docstring)."""
    docs = {(str(d.get("platform")), str(d.get("account_id"))): d
            for _, d in runtime.store.query(DocQuery("integrations", [Where("brand_id", "==", brand_id)]))}
    out = []
    for row in runtime.warehouse.read(INTEGRATIONS_SQL, {"brand_id": brand_id}):
        doc = docs.get((str(row["platform"]), str(row["account_id"]))) or {}
        last = doc.get("last_sync") or {}
        success = doc.get("last_success") or {}
        reconnect = str(row["status"]) in RECONNECT_STATUSES or last.get("status") == "needs_reauth"
        out.append({
            "platform": row["platform"], "account_id": row["account_id"],
            "status": "needs_reconnect" if reconnect and row["status"] in ("active", "revoked")
            else STATUS.get(str(row["status"]), "disconnected"), "state": row["status"],
            "needs_reconnect": reconnect,
            "reconnect_reason": reconnect_reason(str(row["status"]), last.get("error")) if reconnect else None,
            "account_timezone": row["account_timezone"], "account_currency": row["account_currency"],
            "connected_at": _iso(row["connected_at"]),
            "last_sync_at": _iso(last.get("finished_at") or row["last_synced_at"]),
            "last_sync_status": last.get("status"), "last_success_at": _iso(success.get("finished_at")),
            "error": last.get("error"),
            "warnings": [{"code": w.get("code"), "message": w.get("message")} for w in doc.get("warnings") or []
                         if isinstance(w, dict)],
        })
    return out


@bp.get("/integrations")
@operation("The brand's connected platform accounts and how their last syncs went.", response="Integrations",
           errors=(400, 404))
def integrations(brand_id: str) -> ResponseReturnValue:
    """One entry per connected account: the connection's status, the last sync's time, outcome and
    (masked) error, the last success, and standing warnings. No secret is ever part of it."""
    refuse_unknown(request.args.keys(), ())
    return {"integrations": integration_rows(current_runtime(), brand_id)}


DECISION_LIMIT = 200
"""The most decisions one answer lists."""


def _decision(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc.get("id"), "recommendation_id": doc.get("recommendation_id"), "action": doc.get("action"),
            "requested_by": doc.get("requested_by"), "requested_at": _iso(doc.get("requested_at")),
            "status": doc.get("status"), "completed_at": _iso(doc.get("completed_at")), "reason": doc.get("reason"),
            "changes": list(doc.get("changes") or []), "results": list(doc.get("results") or [])}


@bp.get("/decisions")
@operation("The brand's decision history: every Accept, Undo and Dismiss, newest first.", response="Decisions",
           errors=(400, 404),
           query={"limit": {"schema": {"type": "integer", "minimum": 1, "maximum": DECISION_LIMIT}, "example": 50,
                            "description": f"How many (default 50, at most {DECISION_LIMIT})."}})
def decisions(brand_id: str) -> ResponseReturnValue:
    """Across every week; each with who asked, when, its status, the budget changes it asked for and
    their results (a Dismiss carries its reason)."""
    refuse_unknown(request.args.keys(), ("limit",))
    raw = request.args.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= DECISION_LIMIT:
        raise ApiError(400, "bad_parameter", f"limit must be a whole number from 1 to {DECISION_LIMIT}, not {raw!r}")
    docs = [d for _, d in current_runtime().store.query(DocQuery(f"brands/{brand_id}/decisions"))]
    docs.sort(key=lambda d: (str(_iso(d.get("requested_at")) or ""), str(d.get("id"))), reverse=True)
    return {"decisions": [_decision(d) for d in docs[: int(raw)]]}
