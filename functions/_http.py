"""What every HTTP-triggered entry point shares: JSON in, JSON out, 4xx with a named problem."""

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


def respond(fn: Callable[[], Any]) -> tuple[dict[str, Any], int]:
    """Run fn: its result as 200 JSON; a PipelineError as 400 JSON (Cloud Tasks stops after max attempts).

    Any other exception leaves sanitised (:func:`tower.redact.at_edge`): functions-framework logs its
    traceback, which must not carry a chained vendor error and the token in its URL. Bodies are masked.
    """
    try:
        result = at_edge(fn)()
    except PipelineError as e:
        return {"error": {"code": "bad_request", "message": redact(str(e))}}, 400
    except SecretsKeyError as e:
        # One log line naming the key file and the fix, and a 5xx, so Cloud Tasks retries the task.
        log_unavailable(e, log)
        return {"error": {"code": SECRETS_UNAVAILABLE, "message": UNAVAILABLE_MESSAGE}}, 503
    return {"ok": True, "result": redact_data(result)}, 200
