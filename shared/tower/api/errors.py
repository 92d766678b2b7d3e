"""One error type for the API, and the handlers that turn every failure into a JSON body.

Every 4xx and 5xx the API sends is ``{"error": {"code": "...", "message": "..."}}``: an
:class:`ApiError` raised by a view, a werkzeug HTTP error (unknown route, wrong method, a body
Flask could not read), a library exception with a known meaning (unknown brand or recommendation,
an action that does not apply, an unusable question), an unusable local secrets key (503, one log
line) or, last, anything else as a 500 whose details go to the log and not to the caller.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from tower.adapters.local_secrets import (
    SECRETS_UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    SecretsKeyError,
    log_unavailable,
)
from tower.ai.question import AskError
from tower.brands import UnknownBrand
from tower.decisions.budget_actions import ActionError
from tower.decisions.store import NotFoundError
from tower.ports import QueryTimeout
from tower.redact import redact
from tower.sync.oauth_common import OAuthRefused

log = logging.getLogger("tower.api")


class ApiError(Exception):
    """An HTTP error with a stable machine code and a message naming the problem.

    Args:
        status: HTTP status (4xx or 5xx).
        code: Snake-case code a client can branch on (``unknown_brand``, ``invalid_body``, …).
        message: One sentence for a person, naming what was wrong.
        fields: Per-field problems of a request body (``{"question": "…"}``), when there are any.
        headers: Extra response headers (``WWW-Authenticate`` on a 401, ``Allow`` on a 405).
    """

    def __init__(self, status: int, code: str, message: str, *, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON error body, masked: a message may quote a platform's error, and with it a token."""
        err: dict[str, Any] = {"code": self.code, "message": redact(self.message)}
        if self.fields:
            err["fields"] = {k: redact(v) for k, v in self.fields.items()}
        return {"error": err}

    def response(self) -> Response:
        """The JSON response for this error."""
        resp = jsonify(self.body())
        resp.status_code = self.status
        resp.headers.update(self.headers)
        return resp


def refused(e: OAuthRefused) -> ApiError:
    """An OAuth step's refusal (the Shopify install's, an ad platform's) as the API's error."""
    return ApiError(e.status, e.code, e.message)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def from_http_exception(e: HTTPException) -> ApiError:
    """A werkzeug HTTP error as an ApiError whose message names the route or the method."""
    status = e.code or 500
    if isinstance(e, NotFound):
        return ApiError(404, "not_found", f"no route {request.method} {request.path}")
    if isinstance(e, MethodNotAllowed):
        allowed = sorted(m for m in (e.valid_methods or []) if m not in ("HEAD", "OPTIONS"))
        return ApiError(405, "method_not_allowed",
                        f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}",
                        headers={"Allow": ", ".join(e.valid_methods or [])})
    return ApiError(status, _snake(e.name or "error"), e.description or e.name or "error")


def from_library_error(e: Exception) -> ApiError | None:
    """The HTTP meaning of the library's own exceptions (None: not one of them)."""

    if isinstance(e, UnknownBrand):
        return ApiError(404, "unknown_brand", str(e))
    if isinstance(e, NotFoundError):
        return ApiError(404, "unknown_recommendation", str(e))
    if isinstance(e, ActionError):
        # the recommendation is in a state the action does not apply to (dismissed, in flight, …)
        return ApiError(409, "action_not_allowed", str(e))
    if isinstance(e, AskError):
        return ApiError(400, "bad_question", str(e))
    if isinstance(e, QueryTimeout):
        # a read ran past its limit and was stopped (a chosen range's: tower.analytics.ranges.READ_TIMEOUT_S)
        return ApiError(503, "query_timeout", f"the figures took too long to read ({e}); try a shorter range")
    return None


def register_error_handlers(app: Flask) -> None:
    """Route every error the app can raise to one JSON shape, and mask every error body."""

    @app.after_request
    def _mask_error_body(response: Response) -> Response:
        # Every 4xx/5xx JSON body, however a view built it (an ApiError, a hand-made 409 with its
        # conflicts), passes here: a message quoting a platform's error must not quote its token.
        if response.status_code >= 400 and response.is_json and not response.is_streamed:
            text = response.get_data(as_text=True)
            masked = redact(text)
            if masked != text:
                response.set_data(masked)
        return response

    @app.errorhandler(SecretsKeyError)
    def _secrets_unavailable(e: SecretsKeyError) -> Response:
        # A setup problem, not a bug: the operator gets one line naming the key file and the fix
        # (no traceback), the caller a 503 it may retry once the key is back.
        log_unavailable(e, log, path=request.path, method=request.method)
        return ApiError(503, SECRETS_UNAVAILABLE, UNAVAILABLE_MESSAGE).response()

    @app.errorhandler(ApiError)
    def _api_error(e: ApiError) -> Response:
        return e.response()

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> Response:
        return from_http_exception(e).response()

    @app.errorhandler(Exception)
    def _any_error(e: Exception) -> Response:
        known = from_library_error(e)
        if known is not None:
            return known.response()
        # the caller gets a plain 500; the details (never a token: keys are not in the request log) go to the log
        log.exception("unhandled API error",
                      extra={"path": request.path, "method": request.method, "error": type(e).__name__})
        return ApiError(500, "internal", "internal error; it was logged").response()
