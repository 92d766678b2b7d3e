"""What every task and scheduled entry point shares: JSON in, JSON out, a named problem when it fails."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tower.adapters.local_secrets import (
    SECRETS_UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    SecretsKeyError,
    log_unavailable,
)
from tower.pipeline import PipelineError
from tower.redact import at_edge, redact, redact_data

log = logging.getLogger("tower.functions")


def json_body(request: Any) -> dict[str, Any]:
    """The request's JSON object body, or PipelineError naming the problem."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # silent= covers malformed JSON, not nesting deep enough to exhaust the parser
        raise PipelineError("request body nests JSON arrays or objects too deeply to read") from None
    if not isinstance(body, dict):
        raise PipelineError("request body must be a JSON object")
    return body


# Headers Cloud Tasks and Cloud Scheduler put on every call they make. Both retry any answer that is
# not 2xx, whatever its status: a 4xx would be retried to max_attempts (and its backoff) for nothing.
_RETRYING_CALLERS = ("X-CloudTasks-TaskName", "X-CloudScheduler")


def _from_retrying_caller() -> bool:
    from flask import has_request_context, request

    return has_request_context() and any(request.headers.get(h) for h in _RETRYING_CALLERS)


def respond(fn: Callable[[], Any]) -> tuple[dict[str, Any], int]:
    """Run fn: its result as 200 JSON; a PipelineError as a permanent failure; anything else as 5xx.

    A PipelineError (a malformed task, an unknown brand or platform) fails the same way on every
    attempt. Cloud Tasks and Cloud Scheduler retry every non-2xx answer, so to them it is answered 200
    with ``{"ok": false, "retry": false, "error": {...}}`` and one ERROR log line ("task refused", with
    the queue's task name) that monitoring counts; any other caller gets the honest 400.

    Any other exception leaves sanitised (:func:`tower.redact.at_edge`): functions-framework logs its
    traceback, which must not carry a chained vendor error and the token in its URL. Bodies are masked.
    """
    try:
        result = at_edge(fn)()
    except PipelineError as e:
        error = {"code": "bad_request", "message": redact(str(e))}
        if not _from_retrying_caller():
            return {"error": error}, 400
        from flask import request

        log.error("task refused", extra={"retry": False, "error": error["message"],
                                         "task_name": request.headers.get("X-CloudTasks-TaskName", "")})
        return {"ok": False, "retry": False, "error": error}, 200
    except SecretsKeyError as e:
        # One log line naming the key file and the fix, and a 5xx, so Cloud Tasks retries the task.
        log_unavailable(e, log)
        return {"error": {"code": SECRETS_UNAVAILABLE, "message": UNAVAILABLE_MESSAGE}}, 503
    return {"ok": True, "result": redact_data(result)}, 200
