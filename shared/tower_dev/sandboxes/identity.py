"""What a running sandbox says about itself: which platform it plays and which world it serves.

Every sandbox serving a synthetic world answers one request beside its platform's API: ``GET
/__sandbox__`` on the HTTP ones (Shopify, Meta, TikTok), the unary gRPC method
``/tower_dev.Sandbox/Describe`` on the Google Ads one. The answer is JSON::

    {"platform": "meta", "world": {"params": {...WorldParams...}, "options": {...}}}

``world`` is null for a sandbox serving hand-made accounts (a focused test's): such a sandbox cannot
be rebuilt, so nothing is recorded for it. The path lies outside every platform's API, so no
connector ever asks for it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

IDENTITY_PATH = "/__sandbox__"
GRPC_SERVICE = "tower_dev.Sandbox"
GRPC_METHOD = "Describe"
PROBE_SECONDS = 2.0


def identity_body(platform: str, world: dict[str, Any] | None) -> bytes:
    """The JSON a sandbox answers with."""
    return json.dumps({"platform": platform, "world": world}).encode()


def world_identity(world: Any, **options: Any) -> dict[str, Any] | None:
    """How a sandbox serving ``world`` (a ``tower_dev.world.World``) describes it: its parameters and
    the sandbox's own options (a Shopify bucket's size, ...), enough to build the same sandbox again."""
    params = getattr(world, "params", None)
    if params is None:
        return None
    return {"params": params.as_dict(), "options": dict(options)}


def grpc_identity_handler(platform: str, identity: Any) -> Any:
    """The generic gRPC handler answering ``Describe`` with ``identity()`` (raw bytes in and out)."""
    import grpc

    def describe(_request: bytes, _context: Any) -> bytes:
        return identity_body(platform, identity())

    return grpc.method_handlers_generic_handler(
        GRPC_SERVICE, {GRPC_METHOD: grpc.unary_unary_rpc_method_handler(describe)})


def _probe_grpc(endpoint: str) -> bytes | None:
    import grpc

    creds = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    with grpc.secure_channel(endpoint, creds) as channel:
        call = channel.unary_unary(f"/{GRPC_SERVICE}/{GRPC_METHOD}")
        try:
            return bytes(call(b"", timeout=PROBE_SECONDS))
        except grpc.RpcError:
            return None


def _probe_http(origin: str) -> bytes | None:
    try:
        with urllib.request.urlopen(origin.rstrip("/") + IDENTITY_PATH, timeout=PROBE_SECONDS) as r:
            return bytes(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def probe(platform: str, origin: str) -> dict[str, Any] | None:
    """The world the sandbox of ``platform`` at ``origin`` serves, or None: nothing answers there, it is
    not a sandbox, it plays another platform, or it serves no world."""
    body = _probe_grpc(origin) if platform == "google_ads" else _probe_http(origin)
    if not body:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("platform") != platform:
        return None
    world = answer.get("world")
    return world if isinstance(world, dict) else None
