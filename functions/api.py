"""api (HTTP): the dashboard API, one Flask app per process, each request dispatched to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import functions_framework

from tower.api.limits import dispatch_environ, read_body
from tower.runtime import default_runtime

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask

_app: Flask | None = None


def _get_app() -> Flask:
    # Built on the first request, not at import: a cold start imports only what it must, and the
    # app (routes, error handlers, the runtime's settings) is then reused by every later request.
    global _app
    if _app is None:
        from tower.api.app import create_app

        _app = create_app(default_runtime())
    return _app


@functions_framework.http
def api(request: Any) -> Any:
    app = _get_app()
    # The body is read here, never more than the API's limit: a larger one is refused (413) before
    # a byte of it is read, so nobody can make the function buffer 100 MB before it answers 401.
    body = read_body(request.environ, app.config["MAX_CONTENT_LENGTH"])
    environ = dispatch_environ(request.environ, body)
    with app.request_context(environ):
        return app.full_dispatch_request()
