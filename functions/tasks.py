"""The functions Cloud Tasks and Cloud Scheduler call: the syncs, ``apply_budget_change``, ``schedule_syncs``,
``sync_fx``, ``send_digests``.

Each decodes the task (its JSON body and task name) and calls its :mod:`tower.wiring` entry point's
handler. The answer is JSON: 200 with the result; 200 with ``"ok": false, "retry": false`` for a task
that can never succeed (a malformed task: Cloud Tasks retries any non-2xx, see ``_http.respond``); 5xx
for anything else, which it retries (every handler is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import functions_framework

from functions._http import json_body, respond
from tower.ports import Task
from tower.runtime import default_runtime
from tower.wiring import EntryPoint, entry_point

TaskFunction = Callable[[Any], tuple[dict[str, Any], int]]


def _register(entry: EntryPoint, function: TaskFunction) -> Callable[[Any], Any]:
    # functions-framework registers a function's signature type under its __name__: the entry point's.
    function.__name__ = function.__qualname__ = entry.name
    function.__doc__ = entry.handler.__doc__
    return functions_framework.http(function)


def task_function(name: str) -> Callable[[Any], Any]:
    """The Cloud Function for a ``queue`` entry point: the request's body is the task's payload."""
    entry = entry_point(name, "queue")

    def function(request: Any) -> tuple[dict[str, Any], int]:
        def run() -> Any:
            task = Task(queue=entry.target, handler=entry.name, payload=json_body(request),
                        task_id=request.headers.get("X-CloudTasks-TaskName", ""))
            return entry.call(default_runtime(), task)

        return respond(run)

    return _register(entry, function)


def scheduled_function(name: str) -> Callable[[Any], Any]:
    """The Cloud Function for a ``schedule`` entry point (the scheduler's body carries nothing it needs)."""
    entry = entry_point(name, "schedule")

    def function(request: Any) -> tuple[dict[str, Any], int]:
        return respond(lambda: entry.call(default_runtime()))

    return _register(entry, function)


schedule_syncs = scheduled_function("schedule_syncs")
sync_fx = scheduled_function("sync_fx")
send_digests = scheduled_function("send_digests")
sync_shopify = task_function("sync_shopify")
sync_meta = task_function("sync_meta")
sync_tiktok = task_function("sync_tiktok")
sync_google_ads = task_function("sync_google_ads")
apply_budget_change = task_function("apply_budget_change")
