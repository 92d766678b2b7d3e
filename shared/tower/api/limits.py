"""Two limits the API applies before it does any work: the size of a request body, and how often
one client address may fail to authenticate.

**Body size.** :func:`read_body` reads a body from the WSGI input without ever holding more than
the limit: a ``Content-Length`` over it is refused before a byte is read, and a chunked body is
read only until it passes the limit. :class:`BodyLimit` applies it in front of the app (the test
client and the local server); the Cloud Function entry point calls :func:`read_body` and
:func:`dispatch_environ` itself, since it dispatches into the app below the WSGI layer. A body over the limit reaches the app as an
empty body with :data:`BODY_TOO_LARGE` set, and the app answers 413 JSON before routing or
authentication.

**Failed authentication.** :class:`AuthFailureLimiter` is a token bucket per client address that
only failed authentications spend: ``per_minute`` may fail in a burst, then one more every
``60 / per_minute`` seconds. While a client's bucket is empty every request of it that needs a key
gets 429 with ``Retry-After``, whatever key it sends (otherwise a guesser would be told when a
guess is right); other clients, and requests that need no key, are not affected. The count is per
process: each function instance and the local server keep their own.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wsgi import get_content_length

BODY_TOO_LARGE = "tower.body_too_large"
_CHUNK = 64 * 1024

WSGIEnviron = dict[str, Any]
WSGIApp = Callable[[WSGIEnviron, Callable[..., Any]], Iterable[bytes]]


def read_body(environ: WSGIEnviron, limit: int) -> bytes | None:
    """The request body, read from ``wsgi.input`` up to ``limit`` bytes; None when it is larger.

    Args:
        environ: The WSGI environ (its input is consumed; hand it back with :func:`hand_over`).
        limit: The largest body taken, in bytes.

    Returns:
        The body; ``b""`` when there is none, or when it has no length and the server does not end
        the stream (reading it could wait for ever, so werkzeug reads nothing either); None when
        the body is larger than ``limit``.
    """
    length = get_content_length(environ)
    if length is not None and length > limit:
        return None  # refused on its declared length: nothing is read
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    stream = environ["wsgi.input"]
    # With a declared length read exactly that; a chunked body is read until it ends or passes the limit.
    want = limit + 1 if length is None else length
    chunks: list[bytes] = []
    total = 0
    while total < want:
        chunk = stream.read(min(_CHUNK, want - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        return None
    return b"".join(chunks)


def hand_over(environ: WSGIEnviron, body: bytes | None) -> None:
    """Point the environ's input at a body read already (an empty one, flagged, when it was too large)."""
    if body is None:
        environ[BODY_TOO_LARGE] = True
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    # the body is no longer chunked: it is these bytes, of this length
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)


def dispatch_environ(environ: WSGIEnviron, body: bytes | None) -> WSGIEnviron:
    """A copy of the environ whose input is a body :func:`read_body` took from it (for an app
    dispatched below the WSGI layer, as the Cloud Function entry point does).

    The original's input is pointed at the same bytes (none when the body was too large):
    functions-framework reads the request again after the response, to drain the connection,
    and must find nothing more to take from the client.
    """
    inner = dict(environ)
    hand_over(inner, body)
    hand_over(environ, b"" if body is None else body)
    return inner


class BodyLimit:
    """WSGI middleware: the app sees the body read by :func:`read_body`, never more than ``limit``."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: WSGIEnviron, start_response: Callable[..., Any]) -> Iterable[bytes]:
        hand_over(environ, read_body(environ, self.limit))
        return self.app(environ, start_response)


def client_address(environ: WSGIEnviron, trusted_proxies: int) -> str:
    """The caller's address, as the rate limit keys it.

    Args:
        environ: The request's WSGI environ.
        trusted_proxies: Proxies in front of the app that each append the address they saw to
            ``X-Forwarded-For``. With n of them the caller is the n-th address from the right:
            anything further left was written by the caller and proves nothing. 0: the address
            of the connection.
    """
    if trusted_proxies:
        hops = [h.strip() for h in str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
        if len(hops) >= trusted_proxies:
            return hops[-trusted_proxies]
    return str(environ.get("REMOTE_ADDR") or "unknown")


class AuthFailureLimiter:
    """Failed authentications per client address, as a token bucket (see the module docstring).

    Args:
        per_minute: Failures a client may make at once, and per minute after that.
        clock: Seconds on a monotonic scale (tests pass their own).
        max_clients: Buckets kept; past it the least recently failing client's is dropped, so a
            caller rotating addresses cannot grow the process without bound.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.rate)

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until the client may try to authenticate again; None when it may now."""
        with self._lock:
            tokens = self._tokens(client, self._clock())
        if tokens >= 1:
            return None
        return max(1, math.ceil((1 - tokens) / self.rate - 1e-9))  # float noise must not add a second

    def failed(self, client: str) -> None:
        """Count one failed authentication of the client."""
        with self._lock:
            now = self._clock()
            tokens = self._tokens(client, now)
            self._buckets.pop(client, None)
            self._buckets[client] = (max(0.0, tokens - 1), now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
