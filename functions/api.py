"""api (HTTP): the dashboard API, one Flask app per process, each request dispatched to it."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import functions_framework

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
    # The framework reads the body again after the response (to drain the connection), so the API's
    # request gets its own copy of the body instead of consuming the shared input stream.
    body = request.get_data()
    environ = {**request.environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    with app.request_context(environ):
        return app.full_dispatch_request()
