"""The pipeline's handlers: what each Cloud Function does, independent of how it was invoked.

:mod:`tower.wiring` names the trigger of each; ``functions/`` decodes an HTTP request, a CloudEvent or
a Cloud Task and calls one of these, and the local bus and task queue call them directly with the
same Message or Task. Each one is idempotent: Pub/Sub and Cloud Tasks deliver at least once.

The stages that cost a cold start are imported inside the handler that runs them, each with its
``# lazy:`` reason: the loaders (pyarrow) and the model runner (sqlglot), 0.2-0.6 s each, and the
recommendations and summaries (the rules and the AI: about 8 % of the API's cold start), which
``main.py`` (it imports every entry point) would otherwise make every function's cold start pay, the
API's first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from tower import names
from tower.brand_warnings import record_fx_gaps
from tower.brands import UnknownBrand, local_today
from tower.decisions.budget_actions import apply_budget_change_task
from tower.logs import current_run, new_run_id, run_fields, run_scope
from tower.ports import Message, Task
from tower.runtime import Runtime
from tower.sync import progress
from tower.sync.outcomes import first_syncs_pending, record_outcome
from tower.sync.run import RunOptions

log = logging.getLogger(__name__)

# platform (names.PLATFORMS) -> the task handler, an entry point of tower.wiring, that syncs it.
SYNC_TASKS = names.SYNC_TASKS


class PipelineError(ValueError):
    """A pipeline message or task is malformed (never retried)."""


class SyncFunction(Protocol):
    """Sync one platform for one brand: a dict with ``status`` and, once done, the touched window."""

    def __call__(self, runtime: Runtime, brand_id: str, *, full: bool = False,
                 since: date | None = None) -> dict[str, Any]: ...


def sync_functions() -> dict[str, SyncFunction]:
    """Each platform's sync function.

    Each returns at least ``window_start`` / ``window_end`` (ISO dates) of the data it touched, and
    ``status`` ``partial`` when its deadline cut it short. Imported on the first sync rather than with
    this module (see the module's docstring): the loaders bring pyarrow and the platform clients.
    """
    from tower.sync.ads import sync_google_ads_brand, sync_meta_brand, sync_tiktok_brand  # lazy: pyarrow
    from tower.sync.shopify import sync_brand as sync_shopify_brand  # lazy: pyarrow

    return {
        "shopify": sync_shopify_brand,
        "meta": sync_meta_brand,
        "tiktok": sync_tiktok_brand,
        "google_ads": sync_google_ads_brand,
    }


def _require(payload: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if not payload.get(k)]
    if missing:
        raise PipelineError(f"payload lacks {', '.join(missing)}")


# --- sync ------------------------------------------------------------------------------------------


def run_sync(
    runtime: Runtime, brand_id: str, platform: str, *, full: bool = False, since: date | None = None
) -> dict[str, Any]:
    """Sync one platform for one brand, then announce the touched window on tower-sync-completed."""
    if platform not in SYNC_TASKS:
        raise PipelineError(f"unknown platform {platform!r}; known: {', '.join(names.PLATFORMS)}")
    try:
        result = dict(sync_functions()[platform](runtime, brand_id, full=full, since=since) or {})
    except Exception as e:
        # the queue retries the task; until then the wizard shows the failure rather than a stalled bar
        progress.failed(runtime.store, brand_id, platform, f"{type(e).__name__}: {e}", datetime.now(UTC))
        raise
    return finish_sync(runtime, brand_id, platform, result, full=full, since=since)


def finish_sync(runtime: Runtime, brand_id: str, platform: str, result: dict[str, Any], *, full: bool = False,
                since: date | None = None) -> dict[str, Any]:
    """What follows one sync call, whoever made it (a task, the CLI): record its outcome on the
    integration, then resume a cut-off sync with a new task or announce the touched window on
    tower-sync-completed.

    Args:
        result: The sync function's result (``status``, ``window_start`` / ``window_end``...).
        full: What the sync was called with (a resumed task repeats it).
        since: Likewise.
    """
    status = result.get("status", "ok")
    record_outcome(runtime.store, brand_id, platform, result, datetime.now(UTC))
    progress.finish(runtime.store, brand_id, platform, result, datetime.now(UTC))
    if status == "partial":
        # The sync stopped at its deadline with a checkpoint (a 9-minute function limit): a new task
        # resumes from it. Models are built once the whole window is in.
        runtime.tasks.enqueue(
            names.QUEUE_SYNC, SYNC_TASKS[platform],
            {"brand_id": brand_id, "platform": platform, "full": full,
             "since": since.isoformat() if since else None, **run_fields()},
        )
    elif status == "ok" and result.get("window_start") and result.get("window_end"):
        runtime.bus.publish(
            names.TOPIC_SYNC_COMPLETED,
            {"brand_id": brand_id, "platform": platform,
             "window_start": str(result["window_start"]), "window_end": str(result["window_end"])},
            {"brand_id": brand_id, "platform": platform, **run_fields()},
        )
    log.info("sync finished", extra={"brand_id": brand_id, "platform": platform, "status": status})
    return result


def handle_sync_task(runtime: Runtime, task: Task) -> dict[str, Any]:
    """A Cloud Task ``{brand_id[, platform, full, since]}`` from schedule_syncs, a resumed sync or the CLI.

    The task handler names the platform (``sync_meta`` syncs Meta): a payload may leave ``platform``
    out, and one naming another platform is refused rather than synced by the wrong function.
    """
    payload = dict(task.payload)
    mine = next((p for p, handler in SYNC_TASKS.items() if handler == task.handler), None)
    if mine is not None:
        payload.setdefault("platform", mine)
        if payload["platform"] != mine:
            raise PipelineError(f"{task.handler} syncs {mine}, not {payload['platform']!r}")
    _require(payload, "brand_id", "platform")
    since = payload.get("since")
    try:
        since_day = date.fromisoformat(since) if since else None
    except (TypeError, ValueError):
        raise PipelineError(f"since must be an ISO date (YYYY-MM-DD), got {since!r}") from None
    return run_sync(runtime, payload["brand_id"], payload["platform"], full=bool(payload.get("full")),
                    since=since_day)


def schedule_syncs(runtime: Runtime, now: datetime | None = None) -> list[str]:
    """Enqueue one sync task per active integration; the hour in the task id dedups reruns.

    The round is one run: its id (the caller's, else a new one) goes in every task's payload, and from
    there onto the events and log lines of the syncs, builds and decisions it leads to.
    """
    now = now or datetime.now(UTC)
    with run_scope(current_run() or new_run_id()):
        return _enqueue_syncs(runtime, now)


def _enqueue_syncs(runtime: Runtime, now: datetime) -> list[str]:
    rows = runtime.warehouse.rows(
        "SELECT DISTINCT brand_id, platform FROM integrations WHERE status = 'active' ORDER BY 1, 2"
    )
    ids = []
    for r in rows:
        if r["platform"] not in SYNC_TASKS:
            continue
        task_id = f"sync-{r['brand_id']}-{r['platform']}-{now:%Y%m%d%H}"
        ids.append(
            runtime.tasks.enqueue(
                names.QUEUE_SYNC, SYNC_TASKS[r["platform"]],
                {"brand_id": r["brand_id"], "platform": r["platform"], **run_fields()}, task_id=task_id,
            )
        )
    log.info("sync tasks enqueued", extra={"tasks": len(ids)})
    return ids


def handle_sync_schedule(runtime: Runtime) -> dict[str, Any]:
    """The scheduler's call (hourly on GCP): ``{"enqueued": [task ids]}``."""
    return {"enqueued": schedule_syncs(runtime)}


def run_fx_sync(runtime: Runtime, *, history: bool | None = None, now: datetime | None = None,
                policy: Any = None) -> dict[str, Any]:
    """Load the ECB's exchange rates, then bring each foreign-currency brand's missing-rate warnings up to date.

    A brand whose ad accounts bill in another currency than its store's gets its models rebuilt over the
    days the new rates cover (``tower-sync-completed`` with ``platform`` ``fx``): converted spend moves
    with them. Its warnings are checked over the ad history the syncs keep (``TOWER_ADS_HISTORY_DAYS``).
    ``now`` pins the clock and ``policy`` the retry policy (tests); ``history`` as :func:`sync_fx_rates`.
    """
    from tower.analytics.runner import brand_fx_gaps  # lazy: sqlglot
    from tower.sync.fx import foreign_currency_brands, sync_fx_rates  # lazy: pyarrow

    now = now or datetime.now(UTC)
    pinned = now
    result = sync_fx_rates(runtime, history=history, options=RunOptions(now=lambda: pinned, policy=policy))
    history_days = timedelta(days=runtime.settings.ads_history_days)
    checked: dict[str, dict[str, list[str]]] = {}
    for brand_id in foreign_currency_brands(runtime, now.date() - history_days - timedelta(days=1)):
        today = local_today(runtime.warehouse, brand_id, now)
        window = (today - history_days, today + timedelta(days=1))
        gaps = brand_fx_gaps(runtime.warehouse, runtime.settings, brand_id, *window)
        checked[brand_id] = record_fx_gaps(runtime.store, brand_id, gaps, window, now)
        if result["rows"] and result["first_date"]:
            start = max(date.fromisoformat(result["first_date"]), window[0])
            runtime.bus.publish(
                names.TOPIC_SYNC_COMPLETED,
                {"brand_id": brand_id, "platform": "fx", "window_start": start.isoformat(),
                 "window_end": window[1].isoformat()},
                {"brand_id": brand_id, "platform": "fx", **run_fields()},
            )
    return {**result, "brands": checked}


def handle_fx_schedule(runtime: Runtime) -> dict[str, Any]:
    """The scheduler's daily call: the ECB's rates (:func:`run_fx_sync`)."""
    return run_fx_sync(runtime)


def handle_shopify_webhook(runtime: Runtime, request: Any) -> tuple[dict[str, Any], int]:
    """One Shopify webhook delivery (an HTTP request: method, headers, raw body) as JSON and a status.

    :class:`tower.sync.webhooks.WebhookHandler` does the work: a bad or missing signature answers
    401, a malformed delivery 400 (both JSON naming the problem); a signed delivery whose body cannot
    be used is acknowledged (200, recorded as ignored with a warning), because Shopify would otherwise
    retry it for days; a failure of the warehouse, the store or the Admin API raises, so the platform
    answers 5xx and Shopify delivers again (handling is idempotent).
    """
    from werkzeug.exceptions import RequestEntityTooLarge

    from tower.identity.teams import forget_brand_people  # lazy: only webhook deliveries need it
    from tower.sync.webhooks import WebhookHandler, app_secret  # lazy: pyarrow

    if request.method != "POST":
        return {"error": "method_not_allowed", "message": "Shopify delivers webhooks with POST"}, 405
    # The signature covers the whole body, so it is checked only once the body is read: without a cap,
    # anyone could make the function buffer 100 MB before it answers 401. A declared length over the cap
    # is refused unread; a chunked body is read only until it passes the cap (werkzeug's limit).
    limit = runtime.settings.webhook_max_body_bytes
    too_large = ({"error": "request_entity_too_large",
                  "message": f"the webhook body is larger than {limit} bytes (TOWER_WEBHOOK_MAX_BODY_BYTES)"}, 413)
    if (request.content_length or 0) > limit:
        _drop_body(request)
        return too_large
    request.max_content_length = limit
    handler = WebhookHandler(
        warehouse=runtime.warehouse, store=runtime.store, secrets=runtime.secrets,
        app_secret=app_secret(runtime.settings, runtime.secrets), settings=runtime.settings,
        forget_people=lambda brand_id: forget_brand_people(runtime.store, brand_id),
    )
    # get_data() before anything parses the body: the HMAC is over the raw bytes as sent.
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        _drop_body(request)
        return too_large
    response = handler.handle(raw, dict(request.headers))
    return response.body, response.status


def _drop_body(request: Any) -> None:
    """Leave nothing of a refused body to read: functions-framework drains the request after the
    response, and would otherwise read the whole of it then."""
    import io

    request.environ["wsgi.input"] = io.BytesIO(b"")
    request.environ["CONTENT_LENGTH"] = "0"
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)
    request.environ.pop("wsgi.input_terminated", None)


# --- models ------------------------------------------------------------------------------------------


def handle_sync_completed(runtime: Runtime, message: Message, *, today: date | None = None,
                          now: datetime | None = None) -> dict[str, Any]:
    """Build the models for the brand over the touched window, then announce tower-models-built.

    Not announced while one of the brand's first syncs has not finished
    (:func:`tower.sync.outcomes.first_syncs_pending`): models of half the brand's data (ads without
    their orders) would raise alerts and recommendations that the next build takes back, and which
    ones would depend on the order the syncs happened to finish in. The build that follows the last
    first sync starts with every sync's data in, and announces.

    Returns:
        ``{brand_id, window_start, window_end}``, with ``built: False`` when there was nothing to build
        and ``announced: False`` when the build was not announced.
    """
    from tower.analytics import dashboard_cache  # lazy: the range figures' modules, for the build only
    from tower.analytics.runner import build_models  # lazy: sqlglot

    _require(message.data, "brand_id")
    brand_id = message.data["brand_id"]
    # The brand's own calendar day, as the decisions read it: in UTC it is already tomorrow for an American
    # store every evening, and a build cut there would model a day still in progress as complete.
    today = today or local_today(runtime.warehouse, brand_id, now)
    start = date.fromisoformat(message.data.get("window_start") or str(today - timedelta(days=90)))
    end = date.fromisoformat(message.data.get("window_end") or str(today + timedelta(days=1)))
    if start >= today:
        # Only today was touched (a quiet hour: no new order, today's stock snapshot). Models end at the
        # last complete day, which this sync did not change: nothing to build before tomorrow, and an
        # error here would only be redelivered until it is dead-lettered.
        log.info("sync touched only today: nothing to build", extra={"brand_id": brand_id})
        return {"brand_id": brand_id, "window_start": start.isoformat(), "window_end": end.isoformat(),
                "built": False}
    # read before building: a first sync that finishes while this build runs is followed by a build of its own
    pending = first_syncs_pending(runtime.warehouse, runtime.store, brand_id)
    result = build_models(runtime.warehouse, brand_id, start, end, runtime.settings, today=today)
    # The default dashboard's figures, replaced on every build so page loads read one document (issue 16)
    dashboard_cache.refresh(runtime, brand_id, today, now=now)
    # Spend in a currency without a rate is left out of every figure: say so on the brand until rates come.
    record_fx_gaps(runtime.store, brand_id, result.fx_gaps, (result.window_start, result.window_end),
                   now or datetime.now(UTC))
    if pending:
        log.info("first syncs not finished: models built, not announced", extra={"brand_id": brand_id,
                                                                                 "pending": pending})
        return {"brand_id": brand_id, "window_start": start.isoformat(), "window_end": end.isoformat(),
                "announced": False}
    runtime.bus.publish(
        names.TOPIC_MODELS_BUILT,
        {"brand_id": brand_id, "window_start": start.isoformat(), "window_end": end.isoformat(),
         "data_version": getattr(result, "data_version", "")},
        {"brand_id": brand_id, **run_fields()},
    )
    return {"brand_id": brand_id, "window_start": start.isoformat(), "window_end": end.isoformat()}


# --- decisions and AI ----------------------------------------------------------------------------------


def on_models_built(runtime: Runtime, message: Message, step: Callable[[str, date], dict[str, Any]],
                    *, now: datetime | None = None) -> dict[str, Any] | None:
    """Run one step of a ``tower-models-built`` event (``{brand_id, window…}``) on the brand's local today.

    Returns None (the event is acknowledged, not retried) when it names no known brand; whatever the
    step raises leaves for a redelivery (each step is idempotent).

    Args:
        runtime: Ports and settings.
        message: The event.
        step: ``(brand_id, today)`` -> the step's result, today being the store-local date.
        now: The time now (default: the clock).
    """

    brand_id = str(message.data.get("brand_id") or "")
    try:
        today = local_today(runtime.warehouse, brand_id, now)
    except UnknownBrand:
        log.error("models-built event for an unknown brand", extra={"brand_id": brand_id})
        return None
    return step(brand_id, today)


def handle_models_built_recommend(runtime: Runtime, message: Message, *,
                                  now: datetime | None = None) -> dict[str, Any] | None:
    """Recommendations and alerts for the brand (new alerts go out on tower-alerts-raised)."""
    from tower.decisions.recommend import run_recommend  # lazy: the rules, only this function needs them

    return on_models_built(
        runtime, message, lambda brand_id, today: run_recommend(runtime, brand_id, today, now=now), now=now,
    )


def handle_models_built_summarize(runtime: Runtime, message: Message, *, now: datetime | None = None,
                                  client: Any = None) -> dict[str, Any] | None:
    """The weekly summary and alert explanations, cached in the document store.

    Claude failures never raise: the narrator's text is stored instead, so a redelivery is only for
    infrastructure errors. ``client`` replaces the Claude client (tests pass the sandbox's).
    """
    from tower.ai.summarize import run_summarize  # lazy: the AI, only this function needs it

    return on_models_built(
        runtime, message,
        lambda brand_id, today: run_summarize(runtime, brand_id, today, client=client, now=now), now=now,
    )


def handle_budget_task(runtime: Runtime, task: Task) -> dict[str, Any]:
    """An Accept or Undo: change the named campaigns' budgets on the ad platforms."""
    try:
        return apply_budget_change_task(runtime, task.payload)
    except ValueError as e:  # a malformed task is never retried
        raise PipelineError(str(e)) from e


# --- the embedded default ---------------------------------------------------------------------------------


def run_until_idle(runtime: Runtime, *, max_rounds: int = 1000) -> dict[str, int]:
    """Drain tasks and messages until neither has work left (local adapters); return the counts.

    The handlers are those :func:`tower.wiring.wire_local` registered on the runtime's bus and queue.
    """
    done = {"tasks": 0, "messages": 0}
    for _ in range(max_rounds):
        tasks = runtime.tasks.drain()
        messages = runtime.bus.drain()
        done["tasks"] += tasks
        done["messages"] += messages
        if not tasks and not messages:
            return done
    raise RuntimeError(f"pipeline still busy after {max_rounds} rounds: {done}")
