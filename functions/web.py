"""The HTTP-triggered functions: ``api`` (the dashboard API) and ``shopify_webhooks`` (Shopify's deliveries).

Each is its :mod:`tower.wiring` entry point's handler called with the process's runtime and the
request; the handler answers (both authenticate requests themselves: API keys and sessions, the
webhook's HMAC signature).

Deploy and test through ``main.py`` (``source=main.py``). The module is named ``web``, not ``http``:
functions-framework names a source file's module after the file, and a file ``http.py`` loaded by its
own path would replace the standard library's ``http`` for the whole process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import functions_framework

from tower.runtime import default_runtime
from tower.wiring import entry_point


def http_function(name: str) -> Callable[[Any], Any]:
    """The Cloud Function for an ``http`` entry point, registered with functions-framework as HTTP."""
    entry = entry_point(name, "http")

    def function(request: Any) -> Any:
        return entry.handler(default_runtime(), request)

    # functions-framework registers a function's signature type under its __name__: the entry point's.
    function.__name__ = function.__qualname__ = entry.name
    function.__doc__ = entry.handler.__doc__
    return functions_framework.http(function)


api = http_function("api")
shopify_webhooks = http_function("shopify_webhooks")
