"""Accept, Undo, Dismiss and dry-run: what happens when someone acts on a recommendation.

* **Accept** is a compare-and-set on each named campaign's budget. It first reads the platform's
  current budget (through the connector's SDK) and refuses with :class:`ConflictError` (HTTP 409,
  CLI exit 2, naming the recorded and the current amount) when it is not the budget the
  recommendation was made on: someone changed it on the platform, or another card did. It then
  claims the recommendation in a document-store transaction (``open`` → ``accepting``), so of two
  concurrent Accepts exactly one enqueues; the other answers ``changed: false``. The one
  ``apply_budget_change`` task (task queue port, queue :data:`tower.names.QUEUE_BUDGET`, task id =
  decision id) calls the write path, :func:`tower.decisions.budget_writes.set_campaign_budget`, for each
  campaign with the recorded budget as ``expected_before`` (the same check, again, where the write
  happens) — within ``TOWER_BUDGET_MAX_CHANGE_PCT`` (:mod:`tower.decisions.budget_limits`; it refuses
  more), idempotent by change id,
  audited in ``budget_changes`` — and records the outcome on the decision and the recommendation.
  A second Accept of an accepted recommendation changes nothing.
* **Undo** is the compare-and-set the other way: each campaign's budget must still be the one the
  Accept set, and no later change may be applied on top of it (stacked changes undo only in
  reverse order: undoing an earlier one first would restore a budget decided on a value that no
  longer holds); otherwise :class:`ConflictError` names the amounts or the later change. It
  enqueues the same task with each applied campaign's previous budget as the target (the one-step
  bound is widened to exactly the step back, since reversing a 40% cut is a 67% raise:
  :func:`~tower.decisions.budget_limits.undo_limit`); the
  original audit rows are then marked ``undone``. A recommendation that was undone may be accepted
  again (new change ids: ``…_apply_2``).
* **Dismiss** hides an open recommendation with a reason (it stays dismissed through rebuilds of
  the week: its id is stable).
* **Dry-run** asks each platform through the same write path with ``dry_run=True``: the current
  budget, the target and whether the bounds allow it; nothing changes on the platform.

A promotion changes no budget: accepting it launches an automatic Shopify discount on the product
through the same task (:mod:`tower.decisions.promotions`), and Undo ends it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tower import names
from tower.decisions.budget_changes import (
    HANDLER,
    ActionError,
    BudgetChangeFailed,
    BudgetConflict,
    BudgetRefused,
    BudgetRequest,
    ConflictError,
)
from tower.decisions.budget_limits import undo_limit
from tower.decisions.store import find_recommendation, rec_path
from tower.runtime import Runtime

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Task, Transaction

log = logging.getLogger("tower.decisions.budget_actions")

BudgetWriter = Callable[[Runtime, BudgetRequest], Any]
"""``set_campaign_budget(runtime, request)`` → an audit row (:mod:`tower.decisions.budget_writes`)."""
BudgetReader = Callable[..., Any]
"""``read_campaign_budget(runtime, platform, brand_id, account_id, campaign_id)`` → the platform's
daily budget now (a Decimal to the currency's minor unit, or None)."""

_UNDO_CHANGE = re.compile(r"_undo_\d+$")


# The write path is imported when it is first needed: it brings the platform connectors and pyarrow,
# which the API's cold start (Accept is one request among many) should not pay for.
def _writer(writer: BudgetWriter | None) -> BudgetWriter:
    if writer is not None:
        return writer
    from tower.decisions.budget_writes import set_campaign_budget  # lazy: connectors, pyarrow

    return set_campaign_budget


def _reader(reader: BudgetReader | None) -> BudgetReader:
    if reader is not None:
        return reader
    from tower.decisions.budget_writes import read_campaign_budget  # lazy: connectors, pyarrow

    return read_campaign_budget


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _row(change: Any) -> dict[str, Any]:
    d = asdict(change) if is_dataclass(change) and not isinstance(change, type) else dict(change)
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


def _same(recorded: Any, current: Decimal) -> bool:
    """Whether a recorded budget is the platform's ``current`` one, to the currency's minor unit.

    ``current`` comes from the connector quantized to the minor unit, so its exponent is that unit.
    """
    return Decimal(str(recorded)).quantize(current) == current


def _where(c: Mapping[str, Any]) -> str:
    return f"{c['platform']} campaign {c['campaign_id']}"


def _check_current(runtime: Runtime, brand_id: str, rec_id: str, verb: str, changes: Sequence[Mapping[str, Any]],
                   reader: BudgetReader | None) -> None:
    """Refuse unless every campaign's budget on its platform is still its ``current_daily_budget``.

    A campaign whose budget cannot be read here (account not connected, no budget of its own, a
    platform refusing the read) is left to the task: the write path refuses it there, audited,
    and the outcome shows why.

    Raises:
        ConflictError: ``budget_changed``, naming each campaign's recorded and current amounts.
        tower.connectors.retry.RetriesExhausted: A platform kept failing.
    """
    read = _reader(reader)
    conflicts = []
    for c in changes:
        recorded = c.get("current_daily_budget")
        if recorded is None:
            continue
        try:
            current = read(runtime, c["platform"], brand_id, c["account_id"], c["campaign_id"])
        except (BudgetRefused, BudgetChangeFailed):
            continue
        if current is None or _same(recorded, current):
            continue
        conflicts.append({"platform": c["platform"], "account_id": c["account_id"], "campaign_id": c["campaign_id"],
                          "currency": c.get("currency") or "", "recorded": float(recorded),
                          "current": float(current)})
    if conflicts:
        said = "; ".join(f"{_where(k)} is {k['current']:.2f} on the platform, not the recorded {k['recorded']:.2f}"
                         for k in conflicts)
        raise ConflictError(
            f"recommendation {rec_id} cannot be {verb}: {said} (changed since, on the platform or by another "
            "change); nothing was changed", "budget_changed", conflicts)


def _audit_rows(runtime: Runtime, brand_id: str, change_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The ``budget_changes`` rows of these change ids, by id."""
    out = {}
    for change_id in change_ids:
        rows = runtime.warehouse.rows(
            "SELECT * FROM budget_changes WHERE brand_id = @brand_id AND change_id = @change_id",
            {"brand_id": brand_id, "change_id": change_id})
        if rows:
            out[change_id] = rows[0]
    return out


def _check_order(runtime: Runtime, brand_id: str, rec_id: str, applied: Sequence[Mapping[str, Any]],
                 audit: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse to undo a change while a later change on the same campaign is still applied.

    A later change is any applied row of ``budget_changes`` on the campaign created after this
    one (another card's, or one set by hand through ``tower budgets``) except an Undo's own row,
    which reverses a change rather than stacking on it.

    Raises:
        ConflictError: ``later_change_applied``, naming the latest such change of each campaign.
    """
    conflicts = []
    for r in applied:
        mine = audit.get(str(r["change_id"]))
        if mine is None:
            continue
        later = [row for row in runtime.warehouse.rows(
            "SELECT * FROM budget_changes WHERE brand_id = @brand_id AND platform = @platform "
            "AND account_id = @account_id AND campaign_id = @campaign_id AND status = 'applied' "
            "AND created_at > @created_at ORDER BY created_at DESC, change_id DESC",
            {"brand_id": brand_id, "platform": r["platform"], "account_id": r["account_id"],
             "campaign_id": r["campaign_id"], "created_at": mine["created_at"]},
        ) if not _UNDO_CHANGE.search(str(row["change_id"]))]
        if later:
            top = later[0]
            conflicts.append({
                "platform": r["platform"], "account_id": r["account_id"], "campaign_id": r["campaign_id"],
                "currency": r.get("currency") or "", "recorded": _num(r.get("after_amount")),
                "current": _num(top["after_amount"]), "later_change_id": top["change_id"],
                "later_recommendation_id": top["recommendation_id"]})
    if conflicts:
        said = "; ".join(
            f"{_where(k)} has a later change applied ({k['later_change_id']}"
            + (f" of recommendation {k['later_recommendation_id']}" if k["later_recommendation_id"] else "")
            + f", {k['recorded']:.2f} → {k['current']:.2f})" for k in conflicts)
        raise ConflictError(
            f"recommendation {rec_id} cannot be undone yet: {said}; undo that first (stacked changes undo only "
            "in reverse order)", "later_change_applied", conflicts)


def _enqueue(runtime: Runtime, brand_id: str, rec_id: str, decision: Mapping[str, Any], action: str) -> str:
    return runtime.tasks.enqueue(names.QUEUE_BUDGET, HANDLER, {
        "brand_id": brand_id, "recommendation_id": rec_id, "decision_id": decision["id"], "action": action,
        "requested_by": decision["requested_by"], "changes": decision["changes"],
    }, task_id=decision["id"])


def preview(runtime: Runtime, rec_id: str, *, writer: BudgetWriter | None = None,
            requested_by: str = "cli") -> dict[str, Any]:
    """What Accept would change, asked of each platform without changing anything.

    Returns:
        ``{"recommendation_id", "brand_id", "changes": [{campaign…, "before", "after", "status", "detail"}]}``;
        a campaign whose budget is no longer the recorded one has status ``conflict``.
    """
    brand_id, rec = find_recommendation(runtime.store, rec_id)
    if rec.get("type") == "promotion":
        from tower.decisions import promotions  # lazy: the Shopify connector, for promotion cards only

        return promotions.preview(runtime, rec_id, brand_id, rec, datetime.now(UTC))
    write = _writer(writer)
    out = []
    for c in _changes_for(rec, rec_id, 0):
        item = {k: c[k] for k in ("platform", "account_id", "campaign_id", "campaign_name", "currency")}
        try:
            row = _row(write(runtime, BudgetRequest(
                c["platform"], brand_id, c["account_id"], c["campaign_id"], c["new_daily_budget"],
                recommendation_id=rec_id, requested_by=requested_by, expected_before=c["current_daily_budget"],
                dry_run=True)))
            item.update(before=_num(row.get("before_amount")), after=_num(row.get("after_amount")),
                        status=row.get("status"), detail=row.get("detail"))
        except (BudgetRefused, BudgetChangeFailed) as e:
            change = getattr(e, "change", None)
            row = _row(change) if change is not None else {}
            item.update(before=_num(row.get("before_amount")), after=c["new_daily_budget"],
                        status="conflict" if isinstance(e, BudgetConflict) else row.get("status") or "refused",
                        detail=str(e))
        out.append(item)
    return {"recommendation_id": rec_id, "brand_id": brand_id, "action": rec.get("action"), "dry_run": True,
            "changes": out}


def accept(runtime: Runtime, rec_id: str, *, dry_run: bool = False, requested_by: str = "cli",
           writer: BudgetWriter | None = None, reader: BudgetReader | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """Accept a recommendation: enqueue its budget changes (or, with ``dry_run``, only show them).

    Seven parameters: the runtime and the recommendation, then keywords with defaults: the dry run, who
    asked (for the audit row), and the platform write and read, the clock (tests pass theirs).

    Args:
        reader: The platform budget read (default: :func:`~tower.decisions.budget_writes.read_campaign_budget`).

    Raises:
        tower.decisions.store.NotFoundError: Unknown id.
        ConflictError: A campaign's budget on its platform is not the one the recommendation was made on.
        ActionError: Dismissed, or being undone.
        tower.connectors.retry.RetriesExhausted: A platform kept failing the read.
    """
    if dry_run:
        return preview(runtime, rec_id, writer=writer, requested_by=requested_by)
    now = now or datetime.now(UTC)
    store = runtime.store
    brand_id, rec = find_recommendation(store, rec_id)
    status = rec.get("status")
    if status in ("accepting", "applied", "accepted"):
        return _unchanged(brand_id, rec_id, str(status))
    if status in ("dismissed", "undoing"):
        raise ActionError(f"recommendation {rec_id} is {status}; it cannot be accepted now")
    if rec.get("type") == "promotion":
        from tower.decisions import promotions  # lazy: the Shopify connector, for promotion cards only

        return promotions.accept(runtime, rec_id, brand_id, requested_by=requested_by, now=now)
    _check_current(runtime, brand_id, rec_id, "accepted", _changes_for(rec, rec_id, 0), reader)

    def claim(txn: Transaction) -> tuple[dict[str, Any] | None, str]:
        # re-read inside the transaction: of two Accepts that both got this far, one sees the other's claim
        doc = txn.get(rec_path(brand_id, rec_id)) or {}
        seen = str(doc.get("status"))
        if seen in ("accepting", "applied", "accepted"):
            return None, seen
        if seen in ("dismissed", "undoing"):
            raise ActionError(f"recommendation {rec_id} is {seen}; it cannot be accepted now")
        round_no = int(doc.get("applications") or 0) + 1
        decision_id = f"dec_{rec_id}_accept_{round_no}"
        changes = _changes_for(doc, rec_id, round_no)
        decision = {"id": decision_id, "recommendation_id": rec_id, "action": "accept",
                    "requested_by": requested_by, "requested_at": now, "changes": changes,
                    "status": "queued" if changes else "done"}
        txn.set(_decision_path(brand_id, decision_id), decision)
        # a promotion (or a row whose campaigns have no budget of their own): recorded, nothing to apply
        txn.merge(rec_path(brand_id, rec_id), {"status": "accepting" if changes else "accepted",
                                               "decision_id": decision_id, "applications": round_no,
                                               "undo_attempts": 0, "updated_at": now})
        return decision, seen

    decision, seen = store.transaction(claim)
    if decision is None:
        return _unchanged(brand_id, rec_id, seen)
    if not decision["changes"]:
        return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "accepted", "changed": True,
                "decision_id": decision["id"], "message": "recorded; this recommendation changes no ad budget"}
    task_id = _enqueue(runtime, brand_id, rec_id, decision, "apply")
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "accepting", "changed": True,
            "decision_id": decision["id"], "task_id": task_id, "changes": decision["changes"]}


def _unchanged(brand_id: str, rec_id: str, status: str) -> dict[str, Any]:
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": status, "changed": False,
            "message": f"already {status}: nothing to do"}


def _undo_changes(rec_id: str, round_no: int, applied: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The reverse of each applied change: expected now at its after-amount, back to its before-amount."""
    return [
        {"platform": r["platform"], "account_id": r["account_id"], "campaign_id": r["campaign_id"],
         "campaign_name": r.get("campaign_name") or "", "currency": r.get("currency") or "",
         "current_daily_budget": r.get("after_amount"), "new_daily_budget": r["before_amount"],
         "undoes_change_id": r["change_id"],
         "change_id": f"{rec_id}_{r['platform']}_{r['campaign_id']}_undo_{round_no}"}
        for r in applied
    ]


def undo(runtime: Runtime, rec_id: str, *, requested_by: str = "cli", reader: BudgetReader | None = None,
         now: datetime | None = None) -> dict[str, Any]:
    """Restore the budgets an accepted recommendation changed (through the same task and write path).

    Args:
        reader: The platform budget read (default: :func:`~tower.decisions.budget_writes.read_campaign_budget`).

    Raises:
        tower.decisions.store.NotFoundError: Unknown id.
        ConflictError: A later change on one of its campaigns is still applied, or a campaign's
            budget is no longer the one this recommendation set.
        ActionError: Nothing was applied.
        tower.connectors.retry.RetriesExhausted: A platform kept failing the read.
    """
    now = now or datetime.now(UTC)
    store = runtime.store
    brand_id, rec = find_recommendation(store, rec_id)
    status = rec.get("status")
    if rec.get("type") == "promotion":
        from tower.decisions import promotions  # lazy: the Shopify connector, for promotion cards only

        return promotions.undo(runtime, rec_id, brand_id, rec, requested_by=requested_by, now=now)
    if status in ("undoing", "undone"):
        return _unchanged(brand_id, rec_id, str(status))
    applied = [r for r in rec.get("applied_changes") or [] if r.get("status") == "applied"]
    audit = _audit_rows(runtime, brand_id, [str(r["change_id"]) for r in applied])
    # a change an earlier, partly failed Undo already reversed is not reversed twice
    applied = [r for r in applied if audit.get(str(r["change_id"]), {}).get("status") != "undone"]
    if status not in ("applied", "failed") or not applied:
        raise ActionError(f"recommendation {rec_id} is {status}: no budget change of it was applied, nothing to undo")
    round_no = int(rec.get("applications") or 1)
    _check_order(runtime, brand_id, rec_id, applied, audit)
    _check_current(runtime, brand_id, rec_id, "undone", _undo_changes(rec_id, round_no, applied), reader)

    def claim(txn: Transaction) -> tuple[dict[str, Any] | None, str]:
        doc = txn.get(rec_path(brand_id, rec_id)) or {}
        seen = str(doc.get("status"))
        if seen in ("undoing", "undone"):
            return None, seen
        if seen not in ("applied", "failed") or int(doc.get("applications") or 1) != round_no:
            raise ActionError(f"recommendation {rec_id} is {seen}: it changed while being undone; try again")
        attempt = int(doc.get("undo_attempts") or 0) + 1
        # a retry after a failed Undo needs a new task id (the queue never runs one id twice)
        decision_id = f"dec_{rec_id}_undo_{round_no}" + (f"_{attempt}" if attempt > 1 else "")
        decision = {"id": decision_id, "recommendation_id": rec_id, "action": "undo", "requested_by": requested_by,
                    "requested_at": now, "changes": _undo_changes(rec_id, round_no, applied),
                    "status": "queued"}
        txn.set(_decision_path(brand_id, decision_id), decision)
        txn.merge(rec_path(brand_id, rec_id), {"status": "undoing", "undo_decision_id": decision_id,
                                               "undo_attempts": attempt, "updated_at": now})
        return decision, seen

    decision, seen = store.transaction(claim)
    if decision is None:
        return _unchanged(brand_id, rec_id, seen)
    task_id = _enqueue(runtime, brand_id, rec_id, decision, "undo")
    return {"recommendation_id": rec_id, "brand_id": brand_id, "status": "undoing", "changed": True,
            "decision_id": decision["id"], "task_id": task_id, "changes": decision["changes"]}


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
    which the write path uses to skip a change already applied. Each write is a compare-and-set:
    the campaign's ``current_daily_budget`` (the recorded budget for an Accept, the budget the
    Accept set for an Undo) is passed as ``expected_before``, so a budget moved between the action
    and this task is not overwritten; that campaign's result is ``conflict``.

    Args:
        runtime: Ports and settings.
        payload: ``{brand_id, recommendation_id, decision_id, action: apply|undo, requested_by, changes[]}``.
        writer: The budget write path (default: :func:`~tower.decisions.budget_writes.set_campaign_budget`).
        now: Time of the outcome.

    Returns:
        The outcome recorded on the decision.

    Raises:
        ValueError: A payload that is not an apply_budget_change task (not retried by the queue's caller).
        tower.connectors.retry.RetriesExhausted: A platform kept failing; the task is retried.
    """
    missing = [k for k in ("brand_id", "recommendation_id", "decision_id", "action", "changes") if k not in payload]
    if missing or payload.get("action") not in ("apply", "undo"):
        raise ValueError(f"not an apply_budget_change payload (missing {missing} or bad action)")
    if payload.get("kind") == "discount":  # an accepted promotion card: its Shopify discount
        from tower.decisions import promotions  # lazy: the Shopify connector, for promotion cards only

        return promotions.apply_task(runtime, payload, now=now)
    brand_id, rec_id = str(payload["brand_id"]), str(payload["recommendation_id"])
    decision_id, action = str(payload["decision_id"]), str(payload["action"])
    write = _writer(writer)
    results = [_apply_change(runtime, write, payload, c) for c in payload["changes"]]
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
    log.log(logging.INFO if ok else logging.WARNING, f"budget {action}", extra={
        "brand_id": brand_id, "recommendation_id": rec_id, "status": rec_status, "campaigns": len(results)})
    return {"decision_id": decision_id, "recommendation_id": rec_id, "status": rec_status, "results": results}


def _apply_change(runtime: Runtime, write: BudgetWriter, payload: Mapping[str, Any],
                  c: Mapping[str, Any]) -> dict[str, Any]:
    """One campaign's change of an ``apply_budget_change`` task, through the write path: its result."""
    brand_id, action = str(payload["brand_id"]), str(payload["action"])
    limit = None
    if action == "undo" and c.get("current_daily_budget"):
        limit = undo_limit(float(c["current_daily_budget"]), float(c["new_daily_budget"]),
                           runtime.settings.budget_max_change_pct)
    try:
        row = _row(write(runtime, BudgetRequest(
            c["platform"], brand_id, c["account_id"], c["campaign_id"], c["new_daily_budget"],
            change_id=c["change_id"], recommendation_id=str(payload["recommendation_id"]),
            requested_by=payload.get("requested_by"), max_change_pct=limit,
            expected_before=c.get("current_daily_budget"))))
    except (BudgetRefused, BudgetChangeFailed) as e:
        change = getattr(e, "change", None)
        row = _row(change) if change is not None else {"status": "refused"}
        row["detail"] = str(e)
        if isinstance(e, BudgetConflict):
            row["status"] = "conflict"
    if action == "undo" and row.get("status") == "applied" and c.get("undoes_change_id"):
        _mark_undone(runtime, brand_id, str(c["undoes_change_id"]))
    base = {k: c.get(k) for k in ("platform", "account_id", "campaign_id", "campaign_name", "change_id")}
    return {**base, "status": row.get("status"), "before_amount": _num(row.get("before_amount")),
            "after_amount": _num(row.get("after_amount")), "currency": row.get("currency"),
            "detail": row.get("detail")}


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
