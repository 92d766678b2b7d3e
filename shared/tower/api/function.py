"""The api Cloud Function's request path: one Flask app per runtime, each request dispatched to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tower.api.limits import dispatch_environ, read_body
from tower.runtime import Runtime

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask

_built: tuple[Runtime, Flask] | None = None


def app_for(runtime: Runtime) -> Flask:
    """The API app on this runtime, built on its first request and reused by every later one.

    Built then, not at import: ``main.py`` imports every entry point, and the app's routes bring the
    decisions and analytics modules that no other function needs at its cold start.
    """
    global _built
    if _built is None or _built[0] is not runtime:
        from tower.api.app import create_app  # lazy: the routes' modules, for the api function only

        _built = (runtime, create_app(runtime))
    return _built[1]


def handle_request(runtime: Runtime, request: Any) -> Any:
    """Answer one request of the api function (a functions-framework Flask request) with the app's response."""
    from tower.api.ready import OFFER, ReadyAnswers  # lazy: the API's modules load for the api function only
    from tower.api.request import READY  # lazy: as above

    app = app_for(runtime)
    ready: ReadyAnswers = app.extensions[READY]
    kept = ready.answer(request.environ)
    if kept is not None:  # a default view kept ready: every check it needs ran in answer()
        from flask import Response

        status, headers, content = kept
        return Response(content, status=status, headers=headers)
    # The body is read here, never more than the API's limit: a larger one is refused (413) before
    # a byte of it is read, so nobody can make the function buffer 100 MB before it answers 401.
    body = read_body(request.environ, app.config["MAX_CONTENT_LENGTH"])
    environ = dispatch_environ(request.environ, body)
    stamp = ready.callers.stamp()  # before the app reads anything (tower.api.ready)
    started = ready.callers.monotonic()
    with app.request_context(environ):
        response = app.full_dispatch_request()
    offered = environ.get(OFFER)
    if stamp is not None and offered is not None and response.status_code == 200 and environ["REQUEST_METHOD"] == "GET":
        ready.keep(environ, stamp, started, offered, response.status,
                   response.get_wsgi_headers(environ).to_wsgi_list(), response.get_data())
    return response
