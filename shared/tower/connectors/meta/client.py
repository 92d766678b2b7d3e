"""The facebook-business SDK session: auth, Graph origin, paging, usage headers and error sorting.

The SDK is imported here, inside the constructor, so importing the connector costs nothing.
Every SDK call goes through :meth:`MetaClient.call`, which (1) pauses first when Meta's usage
headers say we are close to a limit, and (2) sorts failures once, for Meta, into the shared
retry kinds (``tower.connectors.retry``):

* throttling: error codes 4, 17, 32, 613 and 80000-80014 → retriable, after Meta's own
  ``estimated_time_to_regain_access`` when a usage header gives it;
* code 1 ("Please reduce the amount of data you're asking for") → :class:`ReduceData` (the
  caller splits the date range);
* code 2, ``is_transient``, HTTP 5xx, dropped connections, timeouts → retriable;
* code 190 (invalid or expired token), 102, 10 and 200-299 (permission) → needs re-authorisation;
* anything else → fatal.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tower.connectors.retry import ConnectorError, FatalError, NeedsReauth, RetriableError, RetryPolicy
from tower.redact import describe

log = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORM = "meta"
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
REAUTH_CODES = frozenset({190, 102, 10, *range(200, 300)})
USAGE_HEADERS = (
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "x-fb-ads-insights-throttle",
    "x-app-usage",
)


class ReduceData(ConnectorError):
    """Meta error 1: the request asks for too much data; split the range and ask again."""


def parse_usage_header(value: str) -> Any:
    """A usage header's JSON. Tolerates the ``//`` comments and single quotes of Meta's doc samples."""
    try:
        return json.loads(value)
    except ValueError:
        cleaned = re.sub(r"//[^\n]*", "", value).replace("'", '"')
        cleaned = re.sub(r",\s*([}\]])", r"\1", cleaned)
        try:
            return json.loads(cleaned)
        except ValueError:
            return None


def usage_from_headers(headers: Mapping[str, str]) -> tuple[float, float]:
    """The highest utilisation (%) in Meta's usage headers and the wait Meta asks for (seconds).

    Reads ``x-business-use-case-usage`` (``call_count`` / ``total_cputime`` / ``total_time`` and
    ``estimated_time_to_regain_access`` in minutes per business object), ``x-ad-account-usage``
    (``acc_id_util_pct``), ``x-fb-ads-insights-throttle`` (``app_id_util_pct``, ``acc_id_util_pct``)
    and ``x-app-usage``.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    pct = 0.0
    regain = 0.0
    buc = (
        parse_usage_header(lower.get("x-business-use-case-usage", ""))
        if "x-business-use-case-usage" in lower
        else None
    )
    if isinstance(buc, dict):
        for entries in buc.values():
            for e in entries if isinstance(entries, list) else []:
                if not isinstance(e, dict):
                    continue
                for k in ("call_count", "total_cputime", "total_time"):
                    pct = max(pct, _num(e.get(k)))
                regain = max(regain, 60.0 * _num(e.get("estimated_time_to_regain_access")))
    for name, keys in (
        ("x-ad-account-usage", ("acc_id_util_pct",)),
        ("x-fb-ads-insights-throttle", ("app_id_util_pct", "acc_id_util_pct")),
        ("x-app-usage", ("call_count", "total_cputime", "total_time")),
    ):
        if name in lower:
            data = parse_usage_header(lower[name])
            if isinstance(data, dict):
                for k in keys:
                    pct = max(pct, _num(data.get(k)))
    return pct, regain


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def classify(exc: BaseException) -> BaseException:
    """Sort a facebook-business / requests failure into the shared retry kinds."""
    import requests
    from facebook_business.exceptions import FacebookRequestError

    if isinstance(exc, FacebookRequestError):
        code = exc.api_error_code()
        status = exc.http_status() or 0
        message = f"Meta error {code}/{exc.api_error_subcode()}: {exc.api_error_message()}"
        if code in REAUTH_CODES:
            return NeedsReauth(message, platform=PLATFORM, code=code)
        if code in THROTTLE_CODES:
            _, regain = usage_from_headers(exc.http_headers() or {})
            return RetriableError(
                message, platform=PLATFORM, code=code, retry_after=regain or 60.0, kind="throttle"
            )
        if code == 1:
            return ReduceData(message, platform=PLATFORM, code=code)
        if code == 2 or exc.api_transient_error() or status >= 500 or status == 429:
            return RetriableError(message, platform=PLATFORM, code=code)
        return FatalError(message, platform=PLATFORM, code=code)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        # The SDK puts the token in the query string, so the error's text (its URL) is masked here:
        # the message keeps host, path and reason once the retry policy drops the raw cause.
        return RetriableError(f"Meta connection failed: {describe(exc)}", platform=PLATFORM, kind="transient")
    if isinstance(exc, ConnectorError):
        return exc
    return FatalError(f"Meta call failed: {describe(exc)}", platform=PLATFORM)


class MetaClient:
    """One ad account's SDK session, pointed at ``origin`` (Meta, or the sandbox)."""

    def __init__(
        self,
        token: str,
        account_id: str,
        *,
        origin: str,
        api_version: str,
        policy: RetryPolicy,
        usage_threshold_pct: float = 75.0,
        timeout: float = 60.0,
    ) -> None:
        """Initialise the SDK's session for the account, pointed at ``origin``.

        Seven parameters: the token and account, the address, API version and retry policy, then the
        usage threshold and timeout as keywords with their defaults.
        """
        from facebook_business.api import FacebookAdsApi

        # crash_log=False: otherwise the SDK reports our crashes to Meta.
        self.api = FacebookAdsApi.init(
            access_token=token, crash_log=False, api_version=api_version, timeout=timeout
        )
        # The Graph origin is the session's GRAPH attribute (APIS.md): the sandbox in dev and tests.
        self.api._session.GRAPH = origin.rstrip("/")
        self.api._session.requests.hooks["response"].append(self._observe)
        self.account_id = account_id.removeprefix("act_")
        self.policy = policy
        self.usage_threshold_pct = usage_threshold_pct
        self.pauses: list[float] = []
        self._pause_next = 0.0
        self.last_usage_pct = 0.0

    @property
    def node(self) -> str:
        """The ad account's Graph node id (``act_<id>``)."""
        return f"act_{self.account_id}"

    def _observe(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """A requests response hook: read the usage headers of every Graph response."""
        pct, regain = usage_from_headers(response.headers)
        self.last_usage_pct = pct
        if pct >= self.usage_threshold_pct:
            # Back off before the limit: the closer to 100 %, the longer; Meta's own estimate wins.
            span = max(1.0, 100.0 - self.usage_threshold_pct)
            self._pause_next = max(regain, 5.0 + 55.0 * min(1.0, (pct - self.usage_threshold_pct) / span))

    def _pace(self) -> None:
        if self._pause_next > 0:
            wait, self._pause_next = self._pause_next, 0.0
            log.info("meta usage pause", extra={
                "platform": PLATFORM, "seconds": round(wait, 1), "usage_pct": self.last_usage_pct})
            self.pauses.append(wait)
            self.policy.sleep(wait)

    def call(self, fn: Callable[[], T]) -> T:
        """Run one SDK call with pacing, sorting and the shared retry policy."""

        def attempt() -> T:
            self._pace()
            try:
                return fn()
            except Exception as e:  # sorted right here, once, for Meta
                raise classify(e) from e

        return self.policy.call(attempt)

    def pages(self, first: Callable[[], Any]) -> list[dict[str, Any]]:
        """Every item of an SDK Cursor, each page fetched (and retried) on its own.

        A Cursor keeps its ``after`` cursor until a page succeeds, so retrying ``load_next_page``
        re-asks for the same page.
        """
        cursor = self.call(first)
        out: list[dict[str, Any]] = []
        while True:
            out.extend(cursor[i].export_all_data() for i in range(len(cursor)))
            if not self.call(cursor.load_next_page):
                return out

    def sleep(self, seconds: float) -> None:
        """Wait (through the policy's injectable sleep)."""
        self.policy.sleep(seconds)

    @staticmethod
    def monotonic() -> float:
        """A clock for polling limits."""
        return time.monotonic()
