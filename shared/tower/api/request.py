"""What a view reads from the request it serves: the runtime, the caller, a validated JSON body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from flask import current_app, g, request
from pydantic import BaseModel, ValidationError

from tower.api.errors import ApiError
from tower.identity.sessions import RUNTIME_EXTENSION as EXTENSION

if TYPE_CHECKING:  # pragma: no cover
    from tower.api.auth import Caller
    from tower.runtime import Runtime

CLOCK = "tower_clock"
READY = "tower_ready"
"""The app's :class:`tower.api.ready.ReadyAnswers` (the function entry asks it before dispatching)."""
Body = TypeVar("Body", bound=BaseModel)


def current_runtime() -> Runtime:
    """The runtime the app was created with."""
    runtime: Runtime = current_app.extensions[EXTENSION]
    return runtime


def current_now() -> datetime:
    """The time now, from the app's clock (tests pin it; the brand's local "today" derives from it)."""
    clock: Callable[[], datetime] | None = current_app.extensions.get(CLOCK)
    return clock() if clock is not None else datetime.now(UTC)


def current_caller() -> Caller:
    """The authenticated caller (set by the app's ``before_request``)."""
    caller: Caller = g.caller
    return caller


def json_body(model: type[Body], *, optional: bool = False) -> Body:
    """The request's JSON object body, validated by a pydantic model.

    Args:
        model: The body's model (unknown fields are refused by the model's config).
        optional: An empty body stands for ``{}`` (every field has a default).

    Raises:
        ApiError: 400 ``invalid_json`` (not JSON, nested too deeply to read, or not an object) or
            ``invalid_body`` (a field is missing or wrong; ``fields`` names each one).
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return model()
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    try:
        # force: accept a JSON body whatever its Content-Type says (curl -d sends form encoding by default)
        data = request.get_json(force=True, silent=True)
    except RecursionError:
        # silent= covers malformed JSON only: arrays in arrays some thousand deep (a few kB) exhaust
        # the parser's recursion instead, and that is bad input too, not a server fault
        raise ApiError(400, "invalid_json",
                       "the request body nests JSON arrays or objects too deeply to read; send a flat JSON object") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        fields = {".".join(str(p) for p in err["loc"]) or "body": err["msg"] for err in e.errors()}
        named = "; ".join(f"{k}: {v}" for k, v in fields.items())
        raise ApiError(400, "invalid_body", f"invalid request body ({named})", fields=fields) from e
