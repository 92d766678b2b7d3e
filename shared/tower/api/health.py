"""``GET /health``: the process is up (no key, no I/O: a load balancer or uptime check may call it often)."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from tower.api.openapi import operation

bp = Blueprint("health", __name__)


@bp.get("/health")
@operation("Liveness check.", response="Health", public=True, tag="meta")
def health() -> ResponseReturnValue:
    """Answers ``{"status": "ok"}`` without touching the warehouse or the store."""
    return {"status": "ok"}
