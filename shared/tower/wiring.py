"""How the product is wired: every entry point, what triggers it, and the function that handles it.

One table, :data:`ENTRY_POINTS`, read by everything that connects a trigger to a handler:

* ``main.py`` re-exports one Cloud Function per entry point, made in ``functions/`` by trigger kind
  (``functions/web.py``, ``functions/tasks.py``, ``functions/events.py``);
* :func:`wire_local` subscribes the topic handlers to the embedded default's bus and registers the
  task handlers with its queue, as Terraform wires them on GCP;
* ``tests/unit/infra/test_terraform.py`` fails unless Terraform deploys each entry point, and nothing
  else, as a function (:func:`tower.names.function_name`) invoked by the trigger named here.

Triggers, and how the handler is called:

* ``http``: public HTTPS (the API and Shopify's webhook deliveries authenticate requests themselves);
  ``handler(runtime, request)`` returns the response.
* ``topic:<topic>``: a Pub/Sub push subscription named after the entry point (``_`` as ``-``)
  delivers each message; ``handler(runtime, message)``.
* ``queue:<queue>``: Cloud Tasks calls the function with an OIDC token; ``handler(runtime, task)``.
* ``schedule:<cron>``: Cloud Scheduler calls the function with an OIDC token on this cron (the
  default of the job Terraform declares); ``handler(runtime)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from tower import names, pipeline
from tower.api.function import handle_request
from tower.logs import RUN_ID, run_scope
from tower.ports import Message, Task
from tower.redact import at_edge
from tower.runtime import Runtime

TriggerKind = Literal["http", "topic", "queue", "schedule"]
KINDS: tuple[TriggerKind, ...] = get_args(TriggerKind)

SYNC_SCHEDULE = "0 * * * *"
"""Hourly, on the hour: each brand's data is at most an hour and a sync old."""

FX_SCHEDULE = "0 17 * * *"
"""Daily at 17:00 in the scheduler's time zone (UTC by default): after the ECB publishes the day's
reference rates, around 16:00 CET (15:00 UTC in winter, 14:00 in summer)."""

DIGEST_SCHEDULE = "0 13 * * 1"
"""Mondays at 13:00 in the scheduler's time zone (UTC by default): it is Monday from UTC-10 to UTC+10
(05:00 in Los Angeles, 14:00 in Berlin, 23:00 in Sydney), so in every brand's time zone there "last
week" (:mod:`tower.periods`, the 7 days before today) is Monday to Sunday, complete."""


def _notify(runtime: Runtime, message: Any) -> Any:
    """Tell the brand's agency of a raised alert, by e-mail or Slack, or hold it for the weekly digest."""
    from tower.notify.alerts import handle_alert_raised  # lazy: jinja2 and slack-sdk, only this function

    return handle_alert_raised(runtime, message)


def _send_digests(runtime: Runtime) -> Any:
    """The weekly digest of every agency with a recipient taking it, by e-mail and Slack."""
    from tower.digests import handle_digest_schedule  # lazy: the dashboard's reads, only this function

    return handle_digest_schedule(runtime)


@dataclass(frozen=True)
class EntryPoint:
    """One entry point: its name (the Cloud Function's entry point), trigger and handler."""

    name: str
    trigger: str
    handler: Callable[..., Any]

    def __post_init__(self) -> None:
        kind, sep, target = self.trigger.partition(":")
        if kind not in KINDS:
            raise ValueError(f"entry point {self.name!r}: unknown trigger kind {kind!r}; known: {', '.join(KINDS)}")
        if (kind == "http" and sep) or (kind != "http" and not target):
            raise ValueError(f"entry point {self.name!r}: trigger {self.trigger!r} is not http or {kind}:<name>")
        names.function_name(self.name)  # raises on a name no function could be deployed under

    @property
    def kind(self) -> TriggerKind:
        """``http``, ``topic``, ``queue`` or ``schedule``."""
        return cast(TriggerKind, self.trigger.partition(":")[0])

    @property
    def target(self) -> str:
        """The topic, queue or cron the trigger names (``""`` for http)."""
        return self.trigger.partition(":")[2]

    @property
    def function_name(self) -> str:
        """The Cloud Function deployed for it (``tower-`` + the name with ``-`` for ``_``)."""
        return names.function_name(self.name)

    @property
    def subscription(self) -> str:
        """The Pub/Sub subscription that pushes a topic's messages to it (``""`` for other triggers)."""
        return self.name.replace("_", "-") if self.kind == "topic" else ""

    def call(self, runtime: Runtime, *args: Any) -> Any:
        """The handler, called as its trigger calls it, within the run of what triggered it.

        A task's payload and an event's attributes name their run (``run_id``, :func:`tower.logs.run_fields`);
        a scheduler call starts a run; an HTTP request has its trace instead. Every line the handler
        writes then carries the run id, and what it enqueues and publishes passes it on.
        """
        if self.kind == "http":
            return self.handler(runtime, *args)
        given = args[0] if args else None
        run = (given.payload.get(RUN_ID) if isinstance(given, Task)
               else given.attributes.get(RUN_ID) if isinstance(given, Message) else None)
        with run_scope(run):
            return self.handler(runtime, *args)


def _table(*entries: EntryPoint) -> dict[str, EntryPoint]:
    table = {e.name: e for e in entries}
    if len(table) != len(entries):
        raise ValueError("two entry points share a name")
    return table


ENTRY_POINTS: dict[str, EntryPoint] = _table(
    EntryPoint("api", "http", handle_request),
    EntryPoint("shopify_webhooks", "http", pipeline.handle_shopify_webhook),
    EntryPoint("schedule_syncs", f"schedule:{SYNC_SCHEDULE}", pipeline.handle_sync_schedule),
    EntryPoint("sync_fx", f"schedule:{FX_SCHEDULE}", pipeline.handle_fx_schedule),
    EntryPoint("sync_shopify", f"queue:{names.QUEUE_SYNC}", pipeline.handle_sync_task),
    EntryPoint("sync_meta", f"queue:{names.QUEUE_SYNC}", pipeline.handle_sync_task),
    EntryPoint("sync_tiktok", f"queue:{names.QUEUE_SYNC}", pipeline.handle_sync_task),
    EntryPoint("sync_google_ads", f"queue:{names.QUEUE_SYNC}", pipeline.handle_sync_task),
    EntryPoint("build_models", f"topic:{names.TOPIC_SYNC_COMPLETED}", pipeline.handle_sync_completed),
    EntryPoint("recommend", f"topic:{names.TOPIC_MODELS_BUILT}", pipeline.handle_models_built_recommend),
    EntryPoint("summarize", f"topic:{names.TOPIC_MODELS_BUILT}", pipeline.handle_models_built_summarize),
    EntryPoint("apply_budget_change", f"queue:{names.QUEUE_BUDGET}", pipeline.handle_budget_task),
    EntryPoint("notify", f"topic:{names.TOPIC_ALERTS_RAISED}", _notify),
    EntryPoint("send_digests", f"schedule:{DIGEST_SCHEDULE}", _send_digests),
)
"""Every entry point, by name."""


def entry_point(name: str, kind: TriggerKind) -> EntryPoint:
    """The entry point ``name``, which must have a ``kind`` trigger (what ``functions/`` wraps it as).

    Raises:
        KeyError: no such entry point.
        ValueError: it is triggered another way.
    """
    try:
        entry = ENTRY_POINTS[name]
    except KeyError:
        raise KeyError(f"unknown entry point {name!r}; known: {', '.join(sorted(ENTRY_POINTS))}") from None
    if entry.kind != kind:
        raise ValueError(f"entry point {name!r} is triggered by {entry.trigger!r}, not {kind}")
    return entry


def of_kind(*kinds: TriggerKind) -> list[EntryPoint]:
    """The entry points triggered one of these ways, in table order."""
    return [e for e in ENTRY_POINTS.values() if e.kind in kinds]


def subscriptions() -> dict[str, tuple[str, str]]:
    """Pub/Sub subscription -> (topic, entry point), one per topic-triggered entry point."""
    return {e.subscription: (e.target, e.name) for e in of_kind("topic")}


Observer = Callable[[EntryPoint, str, Any], None]
"""Told of each local delivery: ``(entry, "start", message or task)``, then ``(entry, "done", result)`` or
``(entry, "failed", error)`` (the command line draws its progress from it)."""


def wire_local(runtime: Runtime, observe: Observer | None = None) -> None:
    """Subscribe the topic handlers to the runtime's bus and register its task handlers, as on GCP.

    A subscription is declared when it is subscribed, so from then on the local bus keeps every message
    published on its topic until it is handled, in this process or the next. Each handler is an edge
    as a deployed function is (:func:`tower.redact.at_edge`): what the local bus or queue logs and
    stores of a failure is its sanitised copy, with no chained vendor error. ``observe``, when given,
    is told of each delivery (:data:`Observer`).
    """
    for entry in of_kind("topic"):
        runtime.bus.subscribe(entry.subscription, entry.target, _bound(runtime, entry, observe))
    for entry in of_kind("queue"):
        runtime.tasks.register(entry.name, _bound(runtime, entry, observe))


def _bound(runtime: Runtime, entry: EntryPoint, observe: Observer | None = None) -> Callable[[Any], None]:
    """The entry point's handler on this runtime, as the local bus or queue calls it (one argument)."""
    handler = at_edge(entry.call)

    def deliver(message_or_task: Any) -> None:
        if observe is None:
            handler(runtime, message_or_task)
            return
        observe(entry, "start", message_or_task)
        try:
            result = handler(runtime, message_or_task)
        except Exception as e:  # told, then raised on: the bus or queue retries it
            observe(entry, "failed", e)
            raise
        observe(entry, "done", result)

    return deliver
