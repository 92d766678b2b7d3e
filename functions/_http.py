"""What every HTTP-triggered entry point shares: JSON in, JSON out, 4xx with a named problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tower.pipeline import PipelineError


def json_body(request: Any) -> dict[str, Any]:
    """The request's JSON object body, or PipelineError naming the problem."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PipelineError("request body must be a JSON object")
    return body


def respond(fn: Callable[[], Any]) -> tuple[dict[str, Any], int]:
    """Run fn: its result as 200 JSON; a PipelineError as 400 JSON (Cloud Tasks stops after max attempts)."""
    try:
        result = fn()
    except PipelineError as e:
        return {"error": {"code": "bad_request", "message": str(e)}}, 400
    return {"ok": True, "result": result}, 200
