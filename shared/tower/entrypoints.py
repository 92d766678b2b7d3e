"""Every Cloud Function entry point, how it is triggered, and the name it is deployed under.

One home for the list: ``main.py`` re-exports these names, Terraform (``infra/``) deploys one 2nd-gen
function per entry point with the trigger named here, and ``tests/unit/infra/test_terraform.py`` fails
when the two drift. Triggers:

* ``http``: public HTTPS (the API and Shopify's webhook deliveries; both authenticate requests themselves).
* ``topic:<topic>``: a Pub/Sub push subscription (``names.SUBSCRIPTIONS``) delivers each message.
* ``queue:<queue>``: Cloud Tasks calls the function with an OIDC token (``task_url``).
* ``schedule``: Cloud Scheduler calls the function with an OIDC token.
"""

from __future__ import annotations

from typing import Literal, TypedDict, cast

from tower import names


class EntryPoint(TypedDict):
    """How one entry point is invoked: ``http``, ``topic:<name>``, ``queue:<name>`` or ``schedule``."""

    trigger: str


TriggerKind = Literal["http", "topic", "queue", "schedule"]

# Deployed function names carry this prefix so a shared project shows whose functions they are.
FUNCTION_PREFIX = "tower-"

ENTRY_POINTS: dict[str, EntryPoint] = {
    "api": {"trigger": "http"},
    "shopify_webhooks": {"trigger": "http"},
    "schedule_syncs": {"trigger": "schedule"},
    "sync_shopify": {"trigger": f"queue:{names.QUEUE_SYNC}"},
    "sync_meta": {"trigger": f"queue:{names.QUEUE_SYNC}"},
    "sync_tiktok": {"trigger": f"queue:{names.QUEUE_SYNC}"},
    "sync_google_ads": {"trigger": f"queue:{names.QUEUE_SYNC}"},
    "build_models": {"trigger": f"topic:{names.TOPIC_SYNC_COMPLETED}"},
    "recommend": {"trigger": f"topic:{names.TOPIC_MODELS_BUILT}"},
    "summarize": {"trigger": f"topic:{names.TOPIC_MODELS_BUILT}"},
    "apply_budget_change": {"trigger": f"queue:{names.QUEUE_BUDGET}"},
}

# The task handler that syncs each platform (schedule_syncs enqueues one task per brand × platform).
SYNC_ENTRY_POINTS: dict[str, str] = {
    "shopify": "sync_shopify",
    "meta": "sync_meta",
    "tiktok": "sync_tiktok",
    "google_ads": "sync_google_ads",
}


def trigger_of(entry_point: str) -> tuple[TriggerKind, str]:
    """The trigger kind and its target (topic or queue name; ``""`` for http and schedule).

    Raises:
        KeyError: the entry point is not in ``ENTRY_POINTS``.
    """
    kind, _, target = ENTRY_POINTS[entry_point]["trigger"].partition(":")
    if kind not in ("http", "topic", "queue", "schedule"):
        raise ValueError(f"entry point {entry_point!r} has an unknown trigger kind {kind!r}")
    return cast(TriggerKind, kind), target


def function_name(entry_point: str) -> str:
    """The deployed function's name: 2nd-gen function ids allow lowercase letters, digits and ``-``."""
    if entry_point not in ENTRY_POINTS:
        raise KeyError(f"unknown entry point {entry_point!r}; known: {', '.join(sorted(ENTRY_POINTS))}")
    return FUNCTION_PREFIX + entry_point.replace("_", "-")


def task_url(target_url: str, entry_point: str) -> str:
    """The HTTPS URL Cloud Tasks calls for a task handler.

    ``target_url`` is ``TOWER_TASKS_TARGET_URL``, which Terraform sets to the functions' base URL
    ``https://REGION-PROJECT.cloudfunctions.net``; each function answers at ``/<function name>`` below it,
    and that full URL is also the OIDC audience the function accepts.
    """
    kind, _ = trigger_of(entry_point)
    if kind != "queue":
        raise ValueError(f"entry point {entry_point!r} is not a task handler (trigger {kind!r})")
    if not target_url:
        raise ValueError("TOWER_TASKS_TARGET_URL is empty: set it to the deployed functions' base URL")
    return f"{target_url.rstrip('/')}/{function_name(entry_point)}"
