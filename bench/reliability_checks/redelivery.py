"""R2: every bus and task handler delivered twice and out of order ends in the state of one clean run.

The pipeline runs through :class:`Deliveries`, one pool behind both ports the handlers use (the bus
and the task queue), wired with the product's own ``tower.wiring.wire_local``. In the reference run it
delivers each message and task once, first in first out, as ``run_until_idle`` does. In a chaos run
every delivery is made twice (Pub/Sub and Cloud Tasks are at-least-once: the second copy is a
redelivery, attempt 2) and the next delivery is drawn at random from everything pending, so copies
and later messages overtake each other. Causality is kept: a message exists only once a handler
published it, as on GCP.

The script, per run, on fresh sandboxes: the scheduler's ``schedule_syncs`` (twice in a chaos run:
the hour's task ids dedupe it) → the four sync tasks per brand → ``build_models`` → ``recommend``
and ``summarize`` → an Accept of a recommendation with budget changes → its ``apply_budget_change``
task → an Undo → its task. Then the whole state is compared: every warehouse table, every document
of the store, and the daily budgets the ad platforms hold. Fields that differ between two clean runs
as well (wall-clock stamps, random ids) are measured with a second clean run and left out.
"""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reliability_checks import fingerprint as fp
from reliability_checks.world import Platforms, connect_everything, local_settings, start_platforms
from tower.ports import Message, Task
from tower.runtime import Runtime

MAX_ATTEMPTS = 5


@dataclass
class _Pending:
    kind: str  # "message" | "task"
    name: str  # subscription or task handler
    payload: dict[str, Any]
    ident: str
    attempt: int
    topic: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    queue: str = ""


class Deliveries:
    """The bus and the task queue of one run, delivering from one pool (see the module docstring).

    Args:
        rng: Draws the next delivery (None: first in, first out).
        copies: Deliveries per message and task (2: each is redelivered once).
    """

    def __init__(self, rng: random.Random | None, copies: int) -> None:
        self.rng = rng
        self.copies = copies
        self.pending: list[_Pending] = []
        self.subscriptions: dict[str, list[tuple[str, Callable[[Message], Any]]]] = {}
        self.task_handlers: dict[str, Callable[[Task], Any]] = {}
        self.task_ids: set[str] = set()
        self.delivered: dict[str, int] = {}
        self.failures: list[str] = []
        self.dead: list[str] = []

    # -- the Bus port ----------------------------------------------------------------------------------
    def publish(self, topic: str, data: Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> str:
        """Queue ``copies`` deliveries per subscription of the topic (the body round-trips JSON, as on the wire)."""
        body = json.loads(json.dumps(dict(data), separators=(",", ":")))
        message_id = uuid.uuid4().hex
        for subscription, _ in self.subscriptions.get(topic, []):
            for copy in range(self.copies):
                self.pending.append(_Pending("message", subscription, body, message_id, copy + 1, topic=topic,
                                             attributes=dict(attributes or {})))
        return message_id

    def subscribe(self, subscription: str, topic: str, handler: Callable[[Message], Any]) -> None:
        """Wire a handler (what ``tower.wiring.wire_local`` calls)."""
        self.subscriptions.setdefault(topic, []).append((subscription, handler))

    # -- the TaskQueue port ----------------------------------------------------------------------------
    def enqueue(self, queue: str, handler: str, payload: Mapping[str, Any], *, task_id: str | None = None,
                delay_seconds: float = 0) -> str:
        """Queue ``copies`` deliveries of a task; a task id already used is not queued again (Cloud Tasks)."""
        tid = task_id or uuid.uuid4().hex
        if tid in self.task_ids:
            return tid
        self.task_ids.add(tid)
        body = json.loads(json.dumps(dict(payload), separators=(",", ":")))
        for copy in range(self.copies):
            self.pending.append(_Pending("task", handler, body, tid, copy + 1, queue=queue))
        return tid

    def register(self, handler: str, fn: Callable[[Task], Any]) -> None:
        """Register a task handler."""
        self.task_handlers[handler] = fn

    # -- delivering ----------------------------------------------------------------------------------
    def drain(self, max_items: int | None = None) -> int:
        """Deliver until nothing is pending; return how many deliveries returned."""
        done = 0
        while self.pending and (max_items is None or done < max_items):
            i = self.rng.randrange(len(self.pending)) if self.rng is not None else 0
            item = self.pending.pop(i)
            try:
                self._deliver(item)
            except Exception as e:  # noqa: BLE001 - a raising handler is redelivered, as Pub/Sub and Cloud Tasks do
                self.failures.append(f"{item.name}: {type(e).__name__}: {str(e)[:200]}")
                if item.attempt >= MAX_ATTEMPTS + self.copies - 1:
                    self.dead.append(item.name)
                else:
                    item.attempt += 1
                    self.pending.append(item)
                continue
            done += 1
            self.delivered[item.name] = self.delivered.get(item.name, 0) + 1
        return done

    def _deliver(self, item: _Pending) -> None:
        if item.kind == "message":
            handler = dict(self.subscriptions[item.topic])[item.name]
            handler(Message(topic=item.topic, data=item.payload, attributes=item.attributes,
                            message_id=item.ident, attempt=item.attempt))
        else:
            self.task_handlers[item.name](Task(queue=item.queue, handler=item.name, payload=item.payload,
                                               task_id=item.ident, attempt=item.attempt))


@dataclass
class RunState:
    """What one run ends with."""

    rows: dict[str, list[dict[str, Any]]]
    documents: dict[str, Any]
    budgets: dict[str, str]
    deliveries: Deliveries
    accepted: str | None
    notes: list[str]


def _budgets(platforms: Platforms) -> dict[str, str]:
    """Every campaign's daily budget as the ad platforms hold it."""
    out = {}
    for platform in ("meta", "tiktok", "google_ads"):
        for account in platforms.ads.get(platform).registry.accounts.values():
            for cid, c in account.campaigns.items():
                out[f"{platform}/{cid}"] = str(fp.canonical(c.get("daily_budget_amount")))
    return out


def _accepted_candidate(runtime: Runtime, brand_ids: list[str]) -> str | None:
    """The best open recommendation that changes campaign budgets (what a merchant would Accept)."""
    from tower.decisions.store import list_recommendations

    for b in brand_ids:
        for rec in list_recommendations(runtime.store, b):
            if rec.get("campaign_changes") and rec.get("status") in (None, "open"):
                return str(rec["id"])
    return None


def run_pipeline(world: Any, root: Path, *, rng: random.Random | None, copies: int, now: datetime) -> RunState:
    """One run of the scripted pipeline on fresh sandboxes under ``root``."""
    from tower import pipeline
    from tower.decisions import budget_actions
    from tower.wiring import wire_local

    platforms = start_platforms(world)
    notes: list[str] = []
    try:
        runtime = Runtime(local_settings(root, platforms))
        deliveries = Deliveries(rng, copies)
        runtime.__dict__["bus"] = deliveries
        runtime.__dict__["tasks"] = deliveries
        try:
            brand_ids = connect_everything(runtime, platforms, now)
            wire_local(runtime)
            for _ in range(copies):  # Cloud Scheduler may fire twice too
                pipeline.schedule_syncs(runtime, now)
            deliveries.drain()
            rec_id = _accepted_candidate(runtime, brand_ids)
            if rec_id is None:
                notes.append("no recommendation with budget changes: apply_budget_change not exercised")
            else:
                for verb, act in (("accept", budget_actions.accept), ("undo", budget_actions.undo)):
                    try:
                        act(runtime, rec_id, requested_by="api:reliability")
                    except Exception as e:  # noqa: BLE001 - the state comparison shows what it left behind
                        notes.append(f"{verb} {rec_id}: {type(e).__name__}: {str(e)[:200]}")
                    deliveries.drain()
            rows = fp.warehouse_rows(runtime.warehouse)
        finally:
            runtime.close()
        return RunState(rows, fp.store_documents(root / "store.sqlite"), _budgets(platforms), deliveries,
                        rec_id, notes)
    finally:
        platforms.stop()


#: Tables that log each run rather than hold state: ``model_runs`` has a row per window built, and a
#: redelivered sync task re-syncs incrementally and announces its own, smaller window, so a second
#: delivery adds a row by design.
RUN_LOGS = frozenset({"model_runs"})
#: The same for the store: an integration's document reports its last sync (rows written, window read),
#: and a redelivered sync reports its own incremental run. Its status and error still count.
RUN_REPORT_KEYS = frozenset({"rows", "window_start", "window_end"})
#: A sync's live progress (tower.sync.progress) is the report of the latest call too: its stage and counts
#: are that run's; its status and error still count.
PROGRESS_REPORT_KEYS = frozenset({"rows", "done", "total", "stage", "accounts"})


def _documents(run: RunState) -> dict[str, Any]:
    """The run's documents, integrations' last-run reports and syncs' progress reduced to their outcome."""
    def reduced(path: str, doc: Any) -> Any:
        if path.startswith("integrations/"):
            return fp.without(doc, set(RUN_REPORT_KEYS))
        if path.startswith("sync_progress/"):
            return fp.without(doc, set(PROGRESS_REPORT_KEYS))
        return doc

    return {path: reduced(path, doc) for path, doc in run.documents.items()}


def _differences(ref: RunState, got: RunState, ref_rows: dict[str, str], ref_docs: dict[str, Any],
                 volatile_rows: dict[str, set[str]], volatile_keys: set[str]) -> list[str]:
    differs = [t for t, d in fp.rows_digest(got.rows, volatile_rows).items()
               if t not in RUN_LOGS and ref_rows.get(t) != d]
    docs = fp.document_shape(_documents(got), volatile_keys)
    differs += [f"store:{c}" for c in sorted(set(docs) | set(ref_docs)) if docs.get(c) != ref_docs.get(c)]
    differs += [f"budget:{k}" for k in sorted(ref.budgets) if got.budgets.get(k) != ref.budgets[k]]
    if got.deliveries.dead:
        differs.append(f"dead-lettered:{','.join(sorted(set(got.deliveries.dead)))}")
    return differs


def run(world: Any, *, in_order: int, shuffled: list[int], now: datetime | None = None) -> dict[str, Any]:
    """R2's figures.

    One clean reference, a second clean run (to learn what varies anyway), ``in_order`` runs where
    every delivery is followed by its redelivery, and one run per seed of ``shuffled`` where deliveries
    and redeliveries are drawn at random from everything pending.
    """
    now = now or datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="tower-r2-") as tmp:
        root = Path(tmp)
        ref = run_pipeline(world, root / "ref", rng=None, copies=1, now=now)
        twin = run_pipeline(world, root / "twin", rng=None, copies=1, now=now)
        volatile_rows = fp.volatile_fields(ref.rows, twin.rows)
        volatile_keys = fp.volatile_document_keys(_documents(ref), _documents(twin))
        ref_rows = fp.rows_digest(ref.rows, volatile_rows)
        ref_docs = fp.document_shape(_documents(ref), volatile_keys)
        plans = [("twice", None, i) for i in range(in_order)] + [("shuffled", s, s) for s in shuffled]
        mismatches = {"twice": 0, "shuffled": 0}
        details: list[str] = []
        handlers: dict[str, int] = {}
        failures: list[str] = []
        dead = 0
        for mode, seed, n in plans:
            rng = random.Random(seed) if seed is not None else None
            got = run_pipeline(world, root / f"{mode}-{n}", rng=rng, copies=2, now=now)
            for name, count in got.deliveries.delivered.items():
                handlers[name] = handlers.get(name, 0) + count
            dead += len(got.deliveries.dead)
            failures += [f for f in got.deliveries.failures if f not in failures][:3]
            differs = _differences(ref, got, ref_rows, ref_docs, volatile_rows, volatile_keys)
            if differs:
                mismatches[mode] += 1
                details.append(f"{mode} {n}: {', '.join(differs[:8])}")
    return {
        "r2_runs": len(plans),
        "r2_mismatches": sum(mismatches.values()),
        "r2_mismatches_twice_in_order": mismatches["twice"],
        "r2_mismatches_shuffled": mismatches["shuffled"],
        "r2_deliveries": dict(sorted(handlers.items())),
        "r2_dead_letters": dead,
        "r2_handler_failures": failures[:6],
        "r2_budget_handler_exercised": ref.accepted is not None,
        "r2_volatile": sorted({f"{t}.{c}" for t, cs in volatile_rows.items() for c in cs} | volatile_keys),
        "r2_details": details[:10],
        "r2_notes": sorted(set(ref.notes)),
    }
