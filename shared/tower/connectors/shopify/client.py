"""The Shopify Admin GraphQL session: the ShopifyAPI package's client, pacing and error sorting.

``shopify.GraphQL().execute`` posts to ``{site}/graphql.json`` with ``X-Shopify-Access-Token``
and has no retry, no pacing and no timeout of its own, so those live here:

* **Pacing.** Every response carries ``extensions.cost`` (requested and actual cost, and the
  leaky bucket's ``throttleStatus``). Before a request the client estimates what the bucket holds
  now (last ``currentlyAvailable`` plus ``restoreRate`` × elapsed) and waits until it covers the
  cost this document asked for last time.
* **Sorting errors, once.** Shopify answers almost every error with HTTP 200 and
  ``errors[].extensions.code``: THROTTLED and INTERNAL_SERVER_ERROR are retriable (THROTTLED with
  the wait the bucket implies), ACCESS_DENIED means a scope is missing (the merchant must
  re-authorise), anything else is a bug in our document (fatal). ``actualQueryCost: null`` alone
  is *not* a throttle: validation errors carry it too. HTTP 401/403 → re-authorise; 5xx, 429,
  timeouts and dropped connections → retriable.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import logging
import socket
import threading
import time
import urllib.error
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tower.connectors.retry import FatalError, NeedsReauth, RetriableError, RetryPolicy
from tower.redact import describe

log = logging.getLogger(__name__)

PLATFORM = "shopify"
RETRIABLE_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR"})
REAUTH_CODES = frozenset({"ACCESS_DENIED"})
PACING_MARGIN_POINTS = 1.0


@dataclass(frozen=True)
class ThrottleStatus:
    """The cost leaky bucket as Shopify reported it in one response."""

    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    """``extensions.cost`` of one response (``actual`` is None on throttled or invalid requests)."""

    requested: float | None
    actual: float | None
    throttle: ThrottleStatus | None

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any] | None) -> QueryCost | None:
        cost = (extensions or {}).get("cost")
        if not isinstance(cost, Mapping):
            return None
        ts = cost.get("throttleStatus")
        throttle = None
        if isinstance(ts, Mapping):
            throttle = ThrottleStatus(
                float(ts["maximumAvailable"]), float(ts["currentlyAvailable"]), float(ts["restoreRate"])
            )
        requested = cost.get("requestedQueryCost")
        actual = cost.get("actualQueryCost")
        return cls(
            None if requested is None else float(requested),
            None if actual is None else float(actual),
            throttle,
        )


@dataclass(frozen=True)
class GraphQLResult:
    """A successful response: ``data`` and the cost it took."""

    data: dict[str, Any]
    cost: QueryCost | None


def classify_response(body: Mapping[str, Any]) -> GraphQLResult:
    """Sort one decoded GraphQL response (HTTP 200) into a result or the right error.

    Raises:
        RetriableError: THROTTLED (``retry_after`` = the wait the bucket implies) or
            INTERNAL_SERVER_ERROR.
        NeedsReauth: ACCESS_DENIED (a scope is missing; reconnecting with it fixes that).
        FatalError: Any other error (parse, validation, cost limit): our document is wrong.
    """
    cost = QueryCost.from_extensions(body.get("extensions"))
    errors = body.get("errors")
    if errors:
        if isinstance(errors, str):  # REST-style {"errors": "..."} bodies
            raise FatalError(f"Shopify error: {errors}", platform=PLATFORM)
        codes = [str(((e or {}).get("extensions") or {}).get("code") or "") for e in errors]
        messages = "; ".join(str((e or {}).get("message", "")) for e in errors)[:500]
        if "THROTTLED" in codes:
            raise RetriableError(
                f"Shopify throttled the request: {messages}", platform=PLATFORM, code="THROTTLED",
                retry_after=throttle_wait(cost), kind="throttle",
            )
        if any(c in RETRIABLE_CODES for c in codes):
            raise RetriableError(f"Shopify error: {messages}", platform=PLATFORM, code=codes[0])
        if any(c in REAUTH_CODES for c in codes):
            raise NeedsReauth(f"Shopify denied access: {messages}", platform=PLATFORM, code="ACCESS_DENIED")
        raise FatalError(f"Shopify rejected the query: {messages}", platform=PLATFORM, code=codes[0] or None)
    data = body.get("data")
    if not isinstance(data, dict):
        raise RetriableError("Shopify answered without data or errors", platform=PLATFORM)
    return GraphQLResult(data, cost)


def throttle_wait(cost: QueryCost | None, default: float = 1.0) -> float:
    """Seconds until the bucket holds the requested cost again (what a THROTTLED answer implies)."""
    if cost is None or cost.throttle is None or not cost.throttle.restore_rate:
        return default
    need = (cost.requested or 0.0) - cost.throttle.currently_available
    return max(need / cost.throttle.restore_rate, 0.0) or default / 10


def http_error(status: int, retry_after: str | None = None) -> Exception:
    """The error for a non-200 HTTP status from the Admin API."""
    if status in (401, 403):
        return NeedsReauth(
            f"Shopify rejected the access token (HTTP {status}): the merchant must reconnect the store",
            platform=PLATFORM, code=status,
        )
    if status == 429 or status >= 500:
        wait = None
        if retry_after:
            with contextlib.suppress(ValueError):
                wait = float(retry_after)
        return RetriableError(f"Shopify HTTP {status}", platform=PLATFORM, code=status, retry_after=wait)
    # 402 (shop frozen), 404 (no such shop), 423 (shop locked) and other 4xx: no retry helps.
    return FatalError(f"Shopify HTTP {status}", platform=PLATFORM, code=status)


_timeout_lock = threading.Lock()


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Give urllib a timeout: the SDK calls ``urlopen`` without one (so: the process default)."""
    with _timeout_lock:
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(seconds)
        try:
            yield
        finally:
            socket.setdefaulttimeout(previous)


@dataclass
class ShopifyClient:
    """One shop's Admin GraphQL session with pacing and the shared retry policy.

    Attributes:
        shop_domain: ``NAME.myshopify.com``.
        token: The Admin API access token (never logged).
        api_version: The pinned API version, e.g. ``2026-04``.
        origin: ``scheme://host:port`` of the API; empty = ``https://{shop_domain}``.
        timeout: Socket timeout per request, seconds.
        policy: The shared retry policy (its ``sleep`` is also used for pacing).
        clock: Monotonic clock (tests share a fake one with the sandbox's bucket).
    """

    shop_domain: str
    token: str = field(repr=False)
    api_version: str
    origin: str = ""
    timeout: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    throttled: int = 0
    paced_seconds: float = 0.0
    _bucket: ThrottleStatus | None = None
    _bucket_at: float = 0.0
    _last_cost: dict[int, float] = field(default_factory=dict)

    @property
    def site(self) -> str:
        """``{origin}/admin/api/{version}``: what the SDK posts ``/graphql.json`` under."""
        origin = (self.origin or f"https://{self.shop_domain}").rstrip("/")
        return f"{origin}/admin/api/{self.api_version}"

    # -- the call ----------------------------------------------------------------------------------
    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> GraphQLResult:
        """Run one document with pacing and retries; return its data.

        Raises:
            NeedsReauth: The token or a scope was rejected.
            FatalError: The document was rejected (or retries ran out: RetriesExhausted).
        """
        return self.policy.call(self._execute_once, document, dict(variables or {}))

    def _execute_once(self, document: str, variables: dict[str, Any]) -> GraphQLResult:
        key = hash(document)
        self._pace(self._last_cost.get(key, 0.0))
        self.requests += 1
        raw = self._post(document, variables)
        try:
            body = json.loads(raw)
        except ValueError as e:
            raise RetriableError(f"Shopify answered with a body that is not JSON: {e}", platform=PLATFORM) from e
        cost = QueryCost.from_extensions(body.get("extensions") if isinstance(body, dict) else None)
        if cost is not None:
            self._observe(cost)
            if cost.requested is not None:
                self._last_cost[key] = cost.requested
        try:
            return classify_response(body if isinstance(body, dict) else {"errors": str(body)})
        except RetriableError as e:
            if e.kind == "throttle":
                self.throttled += 1
            raise

    def _post(self, document: str, variables: dict[str, Any]) -> str:
        import shopify  # the vendor SDK, imported where it is used

        session = shopify.Session(self.shop_domain, self.api_version, self.token)
        shopify.ShopifyResource.activate_session(session)
        # The session's site is always https://{shop}; the origin setting points it elsewhere
        # (the sandbox) while the path stays Shopify's /admin/api/<version>.
        shopify.ShopifyResource.site = self.site
        try:
            # The SDK prints error bodies to stdout on HTTP errors; keep stdout for the CLI's output.
            with _socket_timeout(self.timeout), contextlib.redirect_stdout(io.StringIO()):
                return shopify.GraphQL().execute(document, variables)
        except urllib.error.HTTPError as e:
            raise http_error(e.code, e.headers.get("Retry-After") if e.headers else None) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            # Refused or dropped connections, truncated bodies and timeouts (socket.timeout is an
            # OSError) are all worth another attempt.
            raise RetriableError(
                f"Shopify connection failed: {describe(e)}", platform=PLATFORM, code="network"
            ) from e
        finally:
            shopify.ShopifyResource.clear_session()

    # -- pacing ------------------------------------------------------------------------------------
    def _observe(self, cost: QueryCost) -> None:
        if cost.throttle is not None:
            self._bucket = cost.throttle
            self._bucket_at = self.clock()

    def bucket_maximum(self) -> float | None:
        """The bucket's size as Shopify last reported it (plans differ; None before a response)."""
        return None if self._bucket is None else self._bucket.maximum_available

    def restore_rate(self) -> float | None:
        """Points the bucket restores a second, as Shopify last reported it (None before a response)."""
        return None if self._bucket is None else self._bucket.restore_rate

    def available_now(self) -> float | None:
        """The bucket's estimated content now (None before the first response)."""
        if self._bucket is None:
            return None
        elapsed = max(self.clock() - self._bucket_at, 0.0)
        return min(
            self._bucket.maximum_available,
            self._bucket.currently_available + elapsed * self._bucket.restore_rate,
        )

    def _pace(self, expected_cost: float) -> None:
        available = self.available_now()
        # One point of margin: the bucket is reported rounded, and our clock is not Shopify's.
        needed = expected_cost + PACING_MARGIN_POINTS
        if available is None or self._bucket is None or needed <= available:
            return
        wait = (needed - available) / max(self._bucket.restore_rate, 1e-9)
        self.paced_seconds += wait
        log.debug("shopify pacing", extra={"platform": PLATFORM, "wait_s": round(wait, 3)})
        self.policy.sleep(wait)
