"""Accept, Undo, Dismiss and dry-run: what happens when someone acts on a recommendation.

* **Accept** records a decision and enqueues one ``apply_budget_change`` task (task queue port,
  queue :data:`tower.names.QUEUE_BUDGET`, task id = decision id, so a repeated Accept cannot enqueue
  twice). The task calls the ad issue's :func:`tower.connectors.budgets.set_campaign_budget` for
  each named campaign — within ``TOWER_BUDGET_MAX_CHANGE_PCT`` (it refuses more), idempotent by change
  id, audited in ``budget_changes`` — and records the outcome on the decision and the recommendation.
  A second Accept of an accepted recommendation changes nothing.
* **Undo** enqueues the same task with each applied campaign's previous budget as the target (the
  one-step bound is widened to exactly the step back, since reversing a 40% cut is a 67% raise);
  the original audit rows are then marked ``undone``. A recommendation that was undone may be accepted
  again (new change ids: ``…:apply:2``).
* **Dismiss** hides an open recommendation with a reason (it stays dismissed through rebuilds of
  the week: its id is stable).
* **Dry-run** asks each platform through the same write path with ``dry_run=True``: the current
  budget, the target and whether the bounds allow it; nothing changes on the platform.

A promotion changes no budget: accepting it records the decision (status ``accepted``) for the
merchant to run in Shopify.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tower import names
from tower.decisions.store import find_recommendation, rec_path

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Task
    from tower.runtime import Runtime

log = logging.getLogger("tower.decisions.budget_actions")

HANDLER = "apply_budget_change"
BudgetWriter = Callable[..., Any]
"""``set_campaign_budget(runtime, platform, brand_id, account_id, campaign_id, new_daily_budget, *,
change_id, recommendation_id, requested_by, dry_run)`` → an audit row (the ad issue's write path)."""


class ActionError(ValueError):
    """The action does not apply to the recommendation in its current state (CLI exit 2, HTTP 409/400)."""


def _writer(writer: BudgetWriter | None) -> BudgetWriter:
    if writer is not None:
        return writer
    from tower.connectors.budgets import set_campaign_budget

    return set_campaign_budget


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _row(change: Any) -> dict[str, Any]:
    d = asdict(change) if is_dataclass(change) else dict(change)
    return {k: (float(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, datetime) else v)
            for k, v in d.items()}


def _decision_path(brand_id: str, decision_id: str) -> str:
    return f"brands/{brand_id}/decisions/{decision_id}"


def _changes_for(rec: Mapping[str, Any], rec_id: str, round_no: int) -> list[dict[str, Any]]:
    return [
        {"platform": c["platform"], "account_id": c["account_id"], "campaign_id": c["campaign_id"],
         "campaign_name": c.get("campaign_name") or "", "currency": c.get("currency") or "",
         "current_daily_budget": c["current_daily_budget"], "new_daily_budget": c["proposed_daily_budget"],
         "change_id": f"{rec_id}_{c['platform']}_{c['campaign_id']}_apply_{round_no}"}
        for c in rec.get("campaign_changes") or []
    ]


def preview(runtime: Runtime, rec_id: str, *, writer: BudgetWriter | None = None,
            requested_by: str = "cli") -> dict[str, Any]:
    """What Accept would change, asked of each platform without changing anything.

    Returns:
        ``{"recommendation_id", "brand_id", "changes": [{campaign…, "before", "after", "status", "detail"}]}``.
    """
    from tower.connectors.budgets import BudgetChangeFailed, BudgetRefused

    brand_id, rec = find_recommendation(runtime.store, rec_id)
    write = _writer(writer)
    out = []
    for c in _changes_for(rec, rec_id, 0):
        item = {k: c[k] for k in ("platform", "account_id", "campaign_id", "campaign_name", "currency")}
        try:
            row = _row(write(runtime, c["platform"], brand_id, c["account_id"], c["campaign_id"],
                             c["new_daily_budget"], recommendation_id=rec_id, requested_by=requested_by,
                             dry_run=True))
            item.update(before=_num(row.get("before_amount")), after=_num(row.get("after_amount")),
                        status=row.get("status"), detail=row.get("detail"))
        except (BudgetRefused, BudgetChangeFailed) as e:
            change = getattr(e, "change", None)
            row = _row(change) if change is not None else {}
            item.update(before=_num(row.get("before_amount")), after=c["new_daily_budget"],
                        status=row.get("status") or "refused", detail=str(e))
        out.append(item)
    return {"recommendation_id": rec_id, "brand_id": brand_id, "action": rec.get("action"), "dry_run": True,
            "changes": out}


def accept(runtime: Runtime, rec_id: str, *, dry_run: bool = False, requested_by: str = "cli",
           writer: BudgetWriter | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Accept a recommendation: enqueue its budget changes (or, with ``dry_run``, only show them).

    Raises:
        tower.decisions.store.NotFoundError: Unknown id.
        ActionError: Dismissed, or being undone.
    """
    if dry_run:
        return preview(runtime, rec_id, writer=writer, requested_by=requested_by)
    now = now or datetime.now(UTC)
    store = runtime.store
    brand_id, rec = find_recommendation(store, rec_id)
    status = rec.get("status")
    if status in ("accepting", "applied", "accepted"):
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": status, "changed": False,
                "message": f"already {status}: nothing to do"}
    if status in ("dismissed", "undoing"):
        raise ActionError(f"recommendation {rec_id} is {status}; it cannot be accepted now")
    round_no = int(rec.get("applications") or 0) + 1
    decision_id = f"dec_{rec_id}_accept_{round_no}"
    changes = _changes_for(rec, rec_id, round_no)
    decision = {"id": decision_id, "recommendation_id": rec_id, "action": "accept", "requested_by": requested_by,
                "requested_at": now, "changes": changes, "status": "queued" if changes else "done"}
    if not changes:
        # a promotion (or a row whose campaigns have no budget of their own): recorded, nothing to apply
        store.set(_decision_path(brand_id, decision_id), decision)
        store.merge(rec_path(brand_id, rec_id), {"status": "accepted", "decision_id": decision_id,
                                                 "applications": round_no, "updated_at": now})
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "accepted", "changed": True,
                "decision_id": decision_id, "message": "recorded; this recommendation changes no ad budget"}
    store.set(_decision_path(brand_id, decision_id), decision)
    store.merge(rec_path(brand_id, rec_id), {"status": "accepting", "decision_id": decision_id,
                                             "applications": round_no, "updated_at": now})
    task_id = runtime.tasks.enqueue(names.QUEUE_BUDGET, HANDLER, {
        "brand_id": brand_id, "recommendation_id": rec_id, "decision_id": decision_id, "action": "apply",
        "requested_by": requested_by, "changes": changes,
    }, task_id=decision_id)
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "accepting", "changed": True,
            "decision_id": decision_id, "task_id": task_id, "changes": changes}


def undo(runtime: Runtime, rec_id: str, *, requested_by: str = "cli", now: datetime | None = None) -> dict[str, Any]:
    """Restore the budgets an accepted recommendation changed (through the same task and write path).

    Raises:
        tower.decisions.store.NotFoundError: Unknown id.
        ActionError: Nothing was applied.
    """
    now = now or datetime.now(UTC)
    store = runtime.store
    brand_id, rec = find_recommendation(store, rec_id)
    status = rec.get("status")
    if status in ("undoing", "undone"):
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": status, "changed": False,
                "message": f"already {status}: nothing to do"}
    applied = [r for r in rec.get("applied_changes") or [] if r.get("status") == "applied"]
    if status not in ("applied", "failed") or not applied:
        raise ActionError(f"recommendation {rec_id} is {status}: no budget change of it was applied, nothing to undo")
    round_no = int(rec.get("applications") or 1)
    decision_id = f"dec_{rec_id}_undo_{round_no}"
    changes = [
        {"platform": r["platform"], "account_id": r["account_id"], "campaign_id": r["campaign_id"],
         "campaign_name": r.get("campaign_name") or "", "currency": r.get("currency") or "",
         "current_daily_budget": r.get("after_amount"), "new_daily_budget": r["before_amount"],
         "undoes_change_id": r["change_id"],
         "change_id": f"{rec_id}_{r['platform']}_{r['campaign_id']}_undo_{round_no}"}
        for r in applied
    ]
    store.set(_decision_path(brand_id, decision_id), {
        "id": decision_id, "recommendation_id": rec_id, "action": "undo", "requested_by": requested_by,
        "requested_at": now, "changes": changes, "status": "queued"})
    store.merge(rec_path(brand_id, rec_id), {"status": "undoing", "undo_decision_id": decision_id, "updated_at": now})
    task_id = runtime.tasks.enqueue(names.QUEUE_BUDGET, HANDLER, {
        "brand_id": brand_id, "recommendation_id": rec_id, "decision_id": decision_id, "action": "undo",
        "requested_by": requested_by, "changes": changes,
    }, task_id=decision_id)
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "undoing", "changed": True,
            "decision_id": decision_id, "task_id": task_id, "changes": changes}


def dismiss(runtime: Runtime, rec_id: str, reason: str, *, requested_by: str = "cli",
            now: datetime | None = None) -> dict[str, Any]:
    """Hide a recommendation with a reason.

    Raises:
        tower.decisions.store.NotFoundError: Unknown id.
        ActionError: No reason, or its budget changes are applied or in flight (undo first).
    """
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ActionError("a reason is required to dismiss a recommendation")
    if len(reason) > 500:
        raise ActionError("the reason is longer than 500 characters")
    now = now or datetime.now(UTC)
    store = runtime.store
    brand_id, rec = find_recommendation(store, rec_id)
    status = rec.get("status")
    if status == "dismissed":
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": status, "changed": False,
                "message": "already dismissed"}
    if status in ("accepting", "applied", "undoing"):
        raise ActionError(f"recommendation {rec_id} is {status}; undo it before dismissing")
    decision_id = f"dec_{rec_id}_dismiss"
    store.set(_decision_path(brand_id, decision_id), {
        "id": decision_id, "recommendation_id": rec_id, "action": "dismiss", "requested_by": requested_by,
        "requested_at": now, "reason": reason, "status": "done"})
    store.merge(rec_path(brand_id, rec_id), {"status": "dismissed", "dismiss_reason": reason,
                                             "dismissed_at": now, "updated_at": now})
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "dismissed", "changed": True,
            "decision_id": decision_id}


def apply_budget_change_task(runtime: Runtime, payload: Mapping[str, Any], *, writer: BudgetWriter | None = None,
                             now: datetime | None = None) -> dict[str, Any]:
    """The ``apply_budget_change`` task: set each campaign's budget, record the outcome.

    Safe to run twice (Cloud Tasks delivers at least once): every change has its own change id,
    which the write path uses to skip a change already applied.

    Args:
        runtime: Ports and settings.
        payload: ``{brand_id, recommendation_id, decision_id, action: apply|undo, requested_by, changes[]}``.
        writer: The budget write path (default: the ad issue's ``set_campaign_budget``).
        now: Time of the outcome.

    Returns:
        The outcome recorded on the decision.

    Raises:
        ValueError: A payload that is not an apply_budget_change task (not retried by the queue's caller).
        tower.connectors.retry.RetriesExhausted: A platform kept failing; the task is retried.
    """
    from tower.connectors.budgets import BudgetChangeFailed, BudgetRefused

    missing = [k for k in ("brand_id", "recommendation_id", "decision_id", "action", "changes") if k not in payload]
    if missing or payload.get("action") not in ("apply", "undo"):
        raise ValueError(f"not an apply_budget_change payload (missing {missing} or bad action)")
    brand_id, rec_id = str(payload["brand_id"]), str(payload["recommendation_id"])
    decision_id, action = str(payload["decision_id"]), str(payload["action"])
    write = _writer(writer)
    results = []
    for c in payload["changes"]:
        base = {k: c.get(k) for k in ("platform", "account_id", "campaign_id", "campaign_name", "change_id")}
        extra: dict[str, Any] = {}
        if action == "undo" and c.get("current_daily_budget"):
            # Undo returns to a budget the campaign already had: reversing a 40% cut is a 67% raise,
            # which the one-step bound would refuse, so the bound is widened to exactly that step.
            current = float(c["current_daily_budget"])
            needed = abs(float(c["new_daily_budget"]) - current) / current * 100 + 0.01
            extra["max_change_pct"] = max(runtime.settings.budget_max_change_pct, needed)
        try:
            row = _row(write(runtime, c["platform"], brand_id, c["account_id"], c["campaign_id"],
                             c["new_daily_budget"], change_id=c["change_id"], recommendation_id=rec_id,
                             requested_by=payload.get("requested_by"), **extra))
        except (BudgetRefused, BudgetChangeFailed) as e:
            change = getattr(e, "change", None)
            row = _row(change) if change is not None else {"status": "refused"}
            row["detail"] = str(e)
        results.append({**base, "status": row.get("status"), "before_amount": _num(row.get("before_amount")),
                        "after_amount": _num(row.get("after_amount")), "currency": row.get("currency"),
                        "detail": row.get("detail")})
        if action == "undo" and row.get("status") == "applied" and c.get("undoes_change_id"):
            _mark_undone(runtime, brand_id, str(c["undoes_change_id"]))
    ok = all(r["status"] == "applied" for r in results)
    now = now or datetime.now(UTC)
    if action == "apply":
        rec_status = "applied" if ok else "failed"
        rec_update: dict[str, Any] = {"status": rec_status, "applied_changes": results, "applied_at": now}
    else:
        rec_status = "undone" if ok else "failed"
        rec_update = {"status": rec_status, "undo_results": results, "undone_at": now}
        if ok:
            rec_update["applied_changes"] = []
    runtime.store.merge(_decision_path(brand_id, decision_id), {"status": "done" if ok else "failed",
                                                                "results": results, "completed_at": now})
    runtime.store.merge(rec_path(brand_id, rec_id), {**rec_update, "updated_at": now})
    log.info(json.dumps({"severity": "INFO" if ok else "WARNING", "message": f"budget {action}",
                         "brand_id": brand_id, "recommendation_id": rec_id, "status": rec_status,
                         "campaigns": len(results)}))
    return {"decision_id": decision_id, "recommendation_id": rec_id, "status": rec_status, "results": results}


def _mark_undone(runtime: Runtime, brand_id: str, change_id: str) -> None:
    """Mark the audit row of the change an undo reversed as ``undone`` (whole row, MERGE on its key)."""
    rows = runtime.warehouse.rows(
        "SELECT * FROM budget_changes WHERE brand_id = @brand_id AND change_id = @change_id",
        {"brand_id": brand_id, "change_id": change_id},
    )
    if rows and rows[0].get("status") == "applied":
        row = dict(rows[0])
        row["status"] = "undone"
        runtime.warehouse.merge("budget_changes", [row], ["brand_id", "change_id"])


def register(runtime: Runtime, *, writer: BudgetWriter | None = None) -> None:
    """Wire the ``apply_budget_change`` handler into the runtime's task queue (local runs)."""

    def handle(task: Task) -> None:
        apply_budget_change_task(runtime, task.payload, writer=writer)

    runtime.tasks.register(HANDLER, handle)
