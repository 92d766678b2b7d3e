"""The functions Pub/Sub pushes messages to: ``build_models``, ``recommend``, ``summarize`` and ``notify``.

Each decodes the CloudEvent (:func:`tower.events.run_event_handler`: stale and malformed events are
dropped, a failure raises so Pub/Sub redelivers) and calls its :mod:`tower.wiring` entry point's
handler with the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import functions_framework

from tower.events import run_event_handler
from tower.runtime import default_runtime
from tower.wiring import entry_point


def event_function(name: str) -> Callable[[Any], None]:
    """The Cloud Function for a ``topic`` entry point, registered with functions-framework as a CloudEvent."""
    entry = entry_point(name, "topic")

    def function(cloud_event: Any) -> None:
        run_event_handler(lambda message: entry.call(default_runtime(), message), cloud_event)

    # functions-framework registers a function's signature type under its __name__: the entry point's.
    function.__name__ = function.__qualname__ = entry.name
    function.__doc__ = entry.handler.__doc__
    return functions_framework.cloud_event(function)


build_models = event_function("build_models")
recommend = event_function("recommend")
summarize = event_function("summarize")
notify = event_function("notify")
