"""The pipeline's handlers: what each Cloud Function does, independent of how it was invoked.

``functions/`` decodes an HTTP request, a CloudEvent or a Cloud Task and calls one of these; the
local bus and task queue call them directly with the same Message or Task. Each one is idempotent:
Pub/Sub and Cloud Tasks deliver at least once.

Platform code is resolved lazily from dotted names so a function imports only the SDK it uses.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tower import names
from tower.entrypoints import SYNC_ENTRY_POINTS
from tower.ports import Message, Task
from tower.redact import at_edge
from tower.runtime import Runtime

log = logging.getLogger("tower.pipeline")

PLATFORMS: tuple[str, ...] = tuple(SYNC_ENTRY_POINTS)

# platform -> "module:function" taking (runtime, brand_id, *, full, since) and returning a dict with
# at least window_start / window_end (ISO dates) of the data it touched.
SYNC_FUNCTIONS: dict[str, str] = {
    "shopify": "tower.sync.shopify:sync_brand",
    "meta": "tower.sync.ads:sync_meta_brand",
    "tiktok": "tower.sync.ads:sync_tiktok_brand",
    "google_ads": "tower.sync.ads:sync_google_ads_brand",
}


class PipelineError(ValueError):
    """A pipeline message or task is malformed (never retried)."""


def resolve(dotted: str) -> Callable[..., Any]:
    """Import ``module:function`` lazily."""
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def _log(severity: str, message: str, **fields: Any) -> None:
    log.log(logging.INFO if severity == "INFO" else logging.WARNING,
            json.dumps({"severity": severity, "message": message, **fields}, default=str))


def _require(payload: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if not payload.get(k)]
    if missing:
        raise PipelineError(f"payload lacks {', '.join(missing)}")


# --- sync ------------------------------------------------------------------------------------------


def run_sync(
    runtime: Runtime, brand_id: str, platform: str, *, full: bool = False, since: date | None = None
) -> dict[str, Any]:
    """Sync one platform for one brand, then announce the touched window on tower-sync-completed."""
    if platform not in SYNC_FUNCTIONS:
        raise PipelineError(f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
    result = dict(resolve(SYNC_FUNCTIONS[platform])(runtime, brand_id, full=full, since=since) or {})
    status = result.get("status", "ok")
    if status == "partial":
        # The sync stopped at its deadline with a checkpoint (a 9-minute function limit): a new task
        # resumes from it. Models are built once the whole window is in.
        runtime.tasks.enqueue(
            names.QUEUE_SYNC, SYNC_ENTRY_POINTS[platform],
            {"brand_id": brand_id, "platform": platform, "full": full,
             "since": since.isoformat() if since else None},
        )
    elif status == "ok" and result.get("window_start") and result.get("window_end"):
        runtime.bus.publish(
            names.TOPIC_SYNC_COMPLETED,
            {"brand_id": brand_id, "platform": platform,
             "window_start": str(result["window_start"]), "window_end": str(result["window_end"])},
            {"brand_id": brand_id, "platform": platform},
        )
    _log("INFO", "sync finished", brand_id=brand_id, platform=platform, status=status)
    return result


def handle_sync_task(runtime: Runtime, task: Task) -> dict[str, Any]:
    """A Cloud Task ``{brand_id, platform[, full, since]}`` from schedule_syncs or the CLI."""
    _require(task.payload, "brand_id", "platform")
    since = task.payload.get("since")
    return run_sync(
        runtime, task.payload["brand_id"], task.payload["platform"],
        full=bool(task.payload.get("full")), since=date.fromisoformat(since) if since else None,
    )


def schedule_syncs(runtime: Runtime, now: datetime | None = None) -> list[str]:
    """Enqueue one sync task per active integration; the hour in the task id dedups reruns."""
    now = now or datetime.now(UTC)
    rows = runtime.warehouse.rows(
        "SELECT DISTINCT brand_id, platform FROM integrations WHERE status = 'active' ORDER BY 1, 2"
    )
    ids = []
    for r in rows:
        if r["platform"] not in SYNC_ENTRY_POINTS:
            continue
        task_id = f"sync-{r['brand_id']}-{r['platform']}-{now:%Y%m%d%H}"
        ids.append(
            runtime.tasks.enqueue(
                names.QUEUE_SYNC, SYNC_ENTRY_POINTS[r["platform"]],
                {"brand_id": r["brand_id"], "platform": r["platform"]}, task_id=task_id,
            )
        )
    return ids


# --- models ------------------------------------------------------------------------------------------


def handle_sync_completed(runtime: Runtime, message: Message, *, today: date | None = None,
                          now: datetime | None = None) -> dict[str, Any]:
    """Build the models for the brand over the touched window, then announce tower-models-built."""
    from tower.analytics.runner import build_models
    from tower.decisions.sources import local_today

    _require(message.data, "brand_id")
    brand_id = message.data["brand_id"]
    # The brand's own calendar day, as the decisions read it: in UTC it is already tomorrow for an American
    # store every evening, and a build cut there would model a day still in progress as complete.
    today = today or local_today(runtime.warehouse, brand_id, now)
    start = date.fromisoformat(message.data.get("window_start") or str(today - timedelta(days=90)))
    end = date.fromisoformat(message.data.get("window_end") or str(today + timedelta(days=1)))
    result = build_models(runtime.warehouse, brand_id, start, end, runtime.settings, today=today)
    runtime.bus.publish(
        names.TOPIC_MODELS_BUILT,
        {"brand_id": brand_id, "window_start": start.isoformat(), "window_end": end.isoformat(),
         "data_version": getattr(result, "data_version", "")},
        {"brand_id": brand_id},
    )
    return {"brand_id": brand_id, "window_start": start.isoformat(), "window_end": end.isoformat()}


# --- decisions and AI ----------------------------------------------------------------------------------


def handle_models_built_recommend(runtime: Runtime, message: Message) -> dict[str, Any] | None:
    """Recommendations and alerts for the brand (new alerts go out on tower-alerts-raised)."""
    from tower.decisions.recommend import on_models_built

    return on_models_built(runtime, message.data)


def handle_models_built_summarize(runtime: Runtime, message: Message) -> dict[str, Any] | None:
    """The weekly summary and alert explanations, cached in the document store."""
    from tower.ai.summarize import on_models_built

    return on_models_built(runtime, message.data)


def handle_budget_task(runtime: Runtime, task: Task) -> dict[str, Any]:
    """An Accept or Undo: change the named campaigns' budgets on the ad platforms."""
    from tower.decisions.budget_actions import apply_budget_change_task

    try:
        return apply_budget_change_task(runtime, task.payload)
    except ValueError as e:  # a malformed task is never retried
        raise PipelineError(str(e)) from e


# --- wiring for the embedded default --------------------------------------------------------------------

BUS_HANDLERS: dict[str, Callable[[Runtime, Message], Any]] = {
    "build_models": handle_sync_completed,
    "recommend": handle_models_built_recommend,
    "summarize": handle_models_built_summarize,
}

TASK_HANDLERS: dict[str, Callable[[Runtime, Task], Any]] = {
    **{entry: handle_sync_task for entry in SYNC_ENTRY_POINTS.values()},
    "apply_budget_change": handle_budget_task,
}


def wire_local(runtime: Runtime) -> None:
    """Subscribe the handlers to the bus and register the task handlers, as Terraform wires them on GCP.

    Each is an edge as a deployed function is (:func:`tower.redact.at_edge`): what the local bus or
    queue logs and stores of a failure is its sanitised copy, with no chained vendor error.
    """
    for subscription, (topic, entry_point) in names.SUBSCRIPTIONS.items():
        handler = at_edge(BUS_HANDLERS[entry_point])
        runtime.bus.subscribe(subscription, topic, lambda m, h=handler: h(runtime, m))
    for entry_point, task_handler in TASK_HANDLERS.items():
        guarded = at_edge(task_handler)
        runtime.tasks.register(entry_point, lambda t, h=guarded: h(runtime, t))


def run_until_idle(runtime: Runtime, *, max_rounds: int = 1000) -> dict[str, int]:
    """Drain tasks and messages until neither has work left (local adapters); return the counts."""
    done = {"tasks": 0, "messages": 0}
    for _ in range(max_rounds):
        tasks = runtime.tasks.drain()
        messages = runtime.bus.drain()
        done["tasks"] += tasks
        done["messages"] += messages
        if not tasks and not messages:
            return done
    raise RuntimeError(f"pipeline still busy after {max_rounds} rounds: {done}")
