"""Fetching the ECB's reference-rate feeds, with the connectors' retry policy.

The feeds are static files on the ECB's web server (``/stats/eurofxref/eurofxref-daily.xml`` and
``…/eurofxref-hist-90d.xml``), refreshed around 16:00 CET on TARGET working days. They need no key,
so nothing here is secret. Failures are sorted once: a dropped connection, a timeout, 429 or 5xx is
worth another attempt; any other status or a document that is not the feed is not.
"""

from __future__ import annotations

from tower.connectors.ecb.records import EcbRate, FeedError, parse_reference_rates
from tower.connectors.retry import FatalError, RetriableError, RetryPolicy

PLATFORM = "ecb"
DAILY_PATH = "/stats/eurofxref/eurofxref-daily.xml"
HISTORY_90D_PATH = "/stats/eurofxref/eurofxref-hist-90d.xml"
MAX_BYTES = 4 * 1024 * 1024  # the 90-day feed is ~90 kB; anything near this is not it


class EcbClient:
    """The feeds of one origin (the ECB's, or the sandbox's)."""

    def __init__(self, origin: str, *, policy: RetryPolicy, timeout: float = 30.0) -> None:
        self.origin = origin.rstrip("/")
        self.policy = policy
        self.timeout = timeout

    def daily(self) -> list[EcbRate]:
        """The latest working day's rates."""
        return self.policy.call(self._fetch, DAILY_PATH)

    def history_90d(self) -> list[EcbRate]:
        """The last 90 days' rates (working days only), oldest first."""
        return self.policy.call(self._fetch, HISTORY_90D_PATH)

    def _fetch(self, path: str) -> list[EcbRate]:
        import requests

        url = f"{self.origin}{path}"
        try:
            resp = requests.get(url, timeout=self.timeout, headers={"Accept": "application/xml, text/xml"})
        except (requests.ConnectionError, requests.Timeout) as e:
            raise RetriableError(f"ECB rates at {url}: connection failed ({type(e).__name__})",
                                 platform=PLATFORM) from e
        if resp.status_code == 429 or resp.status_code >= 500:
            raise RetriableError(f"ECB rates at {url}: HTTP {resp.status_code}", platform=PLATFORM,
                                 code=resp.status_code)
        if resp.status_code != 200:
            raise FatalError(f"ECB rates at {url}: HTTP {resp.status_code}", platform=PLATFORM,
                             code=resp.status_code)
        body = resp.content
        if len(body) > MAX_BYTES:
            raise FatalError(f"ECB rates at {url}: {len(body)} bytes is not the rates feed", platform=PLATFORM)
        try:
            return parse_reference_rates(body)
        except FeedError as e:
            raise FatalError(f"ECB rates at {url}: {e}", platform=PLATFORM) from None
