"""The dashboard API as a Flask app: :func:`create_app` builds it, :func:`serve` hosts it locally.

On GCP the ``api`` Cloud Function (:func:`tower.api.function.handle_request`) dispatches each request
to an app built once per process; locally the demo calls :func:`serve`, which also plays the part
Cloud Tasks and Pub/Sub play on GCP (runs queued tasks and messages), so an Accept on the page
changes the sandbox platform's budget.

Every route but ``/health``, ``/api/openapi.json`` and the Shopify install routes
(:mod:`tower.api.shopify_install`, which authenticate requests themselves) needs ``Authorization: Bearer <api key>``
(:mod:`tower.api.auth`); every error is ``{"error": {"code", "message"}}`` (:mod:`tower.api.errors`).
Before any of that, a body over ``TOWER_API_MAX_BODY_BYTES`` is refused unread (413) and a client
address that failed to authenticate too often is told to wait (429, :mod:`tower.api.limits`);
every response carries the security headers of :mod:`tower.api.headers`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider

from tower.api import (
    access,
    ad_oauth,
    agencies,
    agency,
    brand_records,
    brand_settings,
    brands,
    embedded,
    health,
    members,
    notify,
    onboarding,
    openapi,
    page,
    session,
    shopify_install,
)
from tower.api.auth import LIMITER, action_of, authenticate_request, check_action
from tower.api.errors import ApiError, register_error_handlers
from tower.api.etag import add_etag
from tower.api.headers import add_security_headers, quiet_request_handler
from tower.api.limits import BODY_TOO_LARGE, AuthFailureLimiter, BodyLimit, client_address
from tower.api.ready import CallerMemo, ReadyAnswers
from tower.api.request import CLOCK, EXTENSION, READY, current_now
from tower.config import Settings, parse_adapter_url
from tower.logs import bind_trace, reset_trace
from tower.runtime import Runtime, default_runtime

log = logging.getLogger("tower.api")


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 dates and timestamps (Flask's default is an HTTP date), Decimals as numbers, keys in order."""

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        if isinstance(o, Decimal):
            return float(o)
        return DefaultJSONProvider.default(o)


def create_app(runtime_or_settings: Runtime | Settings | None = None, *,
               clock: Callable[[], datetime] | None = None,
               auth_failures: AuthFailureLimiter | None = None) -> Flask:
    """The API app on a runtime (its ports open on first use, so creating the app does no I/O).

    Args:
        runtime_or_settings: A runtime, settings to build one from, or None for the process's
            default runtime (:func:`tower.runtime.default_runtime`).
        clock: The time now (default: the system clock); each brand's local "today" comes from it.
        auth_failures: The failed-authentication limiter (default: one allowing
            ``TOWER_API_AUTH_FAILURES_PER_MINUTE`` on the monotonic clock; tests pass their clock).
    """
    runtime = _runtime_of(runtime_or_settings)
    settings = runtime.settings
    limiter = auth_failures or AuthFailureLimiter(settings.api_auth_failures_per_minute)
    app = Flask("tower.api", static_folder=None)
    app.json = JSONProvider(app)
    # The API's bodies are a question or a reason: anything near the limit is a mistake. BodyLimit
    # reads at most this much before the app runs (the function entry does the same itself);
    # Flask's own limit stays as a second guard.
    limit = settings.api_max_body_bytes
    app.config["MAX_CONTENT_LENGTH"] = limit
    callers = CallerMemo(lambda: runtime.store, settings.api_memo_seconds)
    # Outermost: a kept default answer goes out before anything else runs (tower.api.ready says which
    # checks it applies itself); every other request meets the body limit, then the app.
    app.wsgi_app = ReadyAnswers(BodyLimit(app.wsgi_app, limit), callers, limiter,  # type: ignore[method-assign]
                                trusted_proxies=settings.api_trusted_proxies, clock=clock)
    app.extensions[READY] = app.wsgi_app
    app.extensions[EXTENSION] = runtime
    if settings.page_dir:
        app.config[page.PAGE_DIR_CONFIG] = settings.page_dir
    app.extensions[CLOCK] = clock
    app.extensions[LIMITER] = limiter
    register_error_handlers(app)
    _add_request_hooks(app, runtime, limiter, limit, callers)
    for bp in (health.bp, openapi.bp, brands.bp, brand_settings.bp, brand_records.bp, agency.bp, agencies.bp,
               notify.bp, shopify_install.bp, ad_oauth.bp, onboarding.bp, session.bp, access.bp, members.bp, page.bp):
        app.register_blueprint(bp)
    return app


def _runtime_of(runtime_or_settings: Runtime | Settings | None) -> Runtime:
    if isinstance(runtime_or_settings, Runtime):
        return runtime_or_settings
    if isinstance(runtime_or_settings, Settings):
        return Runtime(runtime_or_settings)
    return default_runtime()


def _add_request_hooks(app: Flask, runtime: Runtime, limiter: AuthFailureLimiter, limit: int,
                       callers: CallerMemo) -> None:
    """Around every request: its trace, the body limit, authentication (with its limiter), the headers."""
    settings = runtime.settings

    @app.before_request
    def _bind_trace() -> None:
        # First, so every line of the request, a refusal's included, carries its trace.
        g.trace_token = bind_trace(request.headers)

    @app.teardown_request
    def _unbind_trace(_error: BaseException | None) -> None:
        token = g.pop("trace_token", None)
        if token is not None:
            reset_trace(token)

    @app.before_request
    def _refuse_large_body() -> None:
        if request.environ.get(BODY_TOO_LARGE):
            raise ApiError(413, "request_entity_too_large",
                           f"the request body is larger than {limit} bytes (TOWER_API_MAX_BODY_BYTES)")

    @app.before_request
    def _authenticate() -> None:
        # 404, 405 and OPTIONS answer whoever asks (a CORS preflight never carries Authorization)
        if request.routing_exception is not None or request.method == "OPTIONS":
            return
        op = openapi.operation_of(app.view_functions.get(request.endpoint or ""))
        if op is not None and op.public:
            return
        client = client_address(request.environ, settings.api_trusted_proxies)
        wait = limiter.retry_after(client)
        if wait is not None:
            raise ApiError(429, "too_many_failed_authentications",
                           f"too many failed authentications from this address; try again in {wait} s",
                           headers={"Retry-After": str(wait)})
        try:
            if embedded.is_session_token(request.headers.get("Authorization")):  # the embedded page's
                g.caller = embedded.session_token_caller(runtime, request.headers.get("Authorization"))
            elif request.headers.get("Authorization"):  # an API key: its lookup may be reused (tower.api.ready)
                g.caller = callers.authenticate(request.headers.get("Authorization"), now=current_now())
            else:  # a session cookie (with its CSRF rule), or no credential at all
                g.caller = authenticate_request(runtime.store, request.headers, request.cookies, request.method,
                                                now=current_now())
        except ApiError as e:
            if e.status == 401:
                limiter.failed(client)
            raise
        brand_id = (request.view_args or {}).get("brand_id")
        if brand_id:  # a person's own role on the brand, where they hold it directly (tower.identity.roles)
            g.caller = g.caller.for_brand(str(brand_id))
        check_action(g.caller, action_of(request.endpoint or "", request.method))

    policy = embedded.page_policy(settings, session.identity_toolkit(settings)[1])

    @app.after_request
    def _secure(response: Response) -> Response:
        return add_security_headers(add_etag(response, request), request, policy)


# --- the local host -----------------------------------------------------------------------------------


def _is_local(settings: Settings) -> bool:
    """Whether tasks and messages wait in this machine's queues (nobody else will run them)."""
    tasks = parse_adapter_url(settings.tasks, ("local", "cloudtasks"), "TOWER_TASKS").scheme
    bus = parse_adapter_url(settings.bus, ("local", "pubsub"), "TOWER_BUS").scheme
    return tasks == "local" and bus == "local"


@dataclass
class LocalServer:
    """A running local API: its URL, and ``stop()``."""

    url: str
    host: str
    port: int
    _server: Any
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Stop serving and pumping; wait for both threads."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        for t in self._threads:
            t.join(timeout=10)


def pump_once(runtime: Runtime) -> dict[str, int]:
    """Run the tasks and messages due now on the local queues (what Cloud Tasks and Pub/Sub do on GCP)."""
    return {"tasks": runtime.tasks.drain(), "messages": runtime.bus.drain()}


def _pump(runtime: Runtime, stopping: threading.Event, every_seconds: float) -> None:
    while not stopping.wait(every_seconds):
        try:
            pump_once(runtime)
        except Exception:  # a failing handler is retried by the queue; the host keeps serving
            log.exception("local task or message handler failed")


def serve(runtime: Runtime, host: str = "127.0.0.1", port: int = 8080, *,
          pump_seconds: float | None = 1.0) -> LocalServer:
    """Serve the API on ``host:port`` from a background thread (port 0: any free port).

    Args:
        runtime: The runtime the app reads and writes.
        host: Address to bind.
        port: Port to bind (0 picks a free one; the handle's ``url`` says which).
        pump_seconds: With local task and bus adapters, run due tasks and messages this often (an
            Accept's budget task, for one); None never does. Cloud adapters are never pumped here.

    Returns:
        The running server: ``.url`` and ``.stop()``.
    """
    from werkzeug.serving import make_server

    server = make_server(host, port, create_app(runtime), threaded=True, request_handler=quiet_request_handler())
    bound_port = int(server.server_port)
    url_host = f"[{host}]" if ":" in host else host
    handle = LocalServer(url=f"http://{url_host}:{bound_port}", host=host, port=bound_port, _server=server)
    serving = threading.Thread(target=server.serve_forever, name="tower-api", daemon=True)
    handle._threads.append(serving)
    if pump_seconds is not None and _is_local(runtime.settings):
        handle._threads.append(threading.Thread(target=_pump, args=(runtime, handle._stopping, pump_seconds),
                                                name="tower-api-pump", daemon=True))
    for t in handle._threads:
        t.start()
    return handle
