"""The one retry policy every connector uses (tenacity), fed by each platform's own signals.

A connector never retries by itself. Its client sorts every failure once, in one place per platform,
into one of three kinds and raises it:

* :class:`RetriableError`: rate limits, 5xx, timeouts, dropped connections. Retried with exponential
  backoff and full jitter, or after the wait the platform asked for (``retry_after``), whichever
  is longer.
* :class:`NeedsReauth`: the token is expired or revoked. Never retried: the integration is marked
  for re-authorisation and that brand's sync stops cleanly.
* :class:`FatalError`: anything else the platform rejected (bad request, no permission). Never
  retried.

Sleeping goes through the policy's ``sleep`` so tests inject a recorder and never really sleep.

Whatever leaves :meth:`RetryPolicy.call` is :func:`tower.redact.sanitized`: same class and attributes,
text masked, no chained cause. The cause is the raw SDK or ``requests`` error, and its URL can carry the
token (Meta's ``?access_token=…``); each client already put what matters of it in its own message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from tower.redact import sanitized

T = TypeVar("T")


class ConnectorError(Exception):
    """Base of the errors a connector raises after sorting a platform failure."""

    def __init__(self, message: str, *, platform: str = "", code: str | int | None = None) -> None:
        super().__init__(message)
        self.platform = platform
        self.code = code


class RetriableError(ConnectorError):
    """A failure worth another attempt (throttle, 5xx, timeout, dropped connection)."""

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        code: str | int | None = None,
        retry_after: float | None = None,
        kind: str = "transient",
    ) -> None:
        super().__init__(message, platform=platform, code=code)
        self.retry_after = retry_after
        self.kind = kind  # "throttle" | "transient"


class FatalError(ConnectorError):
    """A failure another attempt will not fix."""


class NeedsReauth(FatalError):
    """The platform rejected the token (expired, revoked, empty): the brand must reconnect."""


class RetriesExhausted(FatalError):
    """A retriable failure that kept failing for every attempt the policy allows."""


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the platform's own wait hints.

    Attributes:
        attempts: Total attempts per call (first try included).
        base_seconds: First backoff ceiling; doubles per attempt.
        max_seconds: Ceiling of one wait (also caps a platform's ``retry_after``).
        sleep: Called with each wait; tests pass a recorder.
        rng: Source of jitter (seeded in tests for reproducible waits).
    """

    attempts: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    waits: list[float] = field(default_factory=list)

    def wait_for(self, state: RetryCallState) -> float:
        """The wait before the next attempt: jittered backoff, at least the platform's hint."""
        exc = state.outcome.exception() if state.outcome else None
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** (state.attempt_number - 1)))
        wait = self.rng.uniform(0, ceiling)
        hint = getattr(exc, "retry_after", None)
        if hint:
            wait = max(wait, min(float(hint), self.max_seconds))
        return wait

    def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn`` until it succeeds, raises a non-retriable error, or attempts run out.

        Raises:
            RetriesExhausted: The last attempt still failed with a :class:`RetriableError`.
            ConnectorError: Any non-retriable error ``fn`` raised, as its sanitised copy (same class
                and attributes, secrets masked, no chained cause).
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.wait_for,
            retry=retry_if_exception_type(RetriableError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(fn, *args, **kwargs)
        except RetriableError as e:
            exhausted = RetriesExhausted(
                f"{e} (still failing after {self.attempts} attempts)", platform=e.platform, code=e.code
            )
            failure = sanitized(exhausted.with_traceback(e.__traceback__))
        except Exception as e:  # noqa: BLE001 - every failure leaves the policy sanitised
            failure = sanitized(e)
        # Raised outside the except blocks and from None: neither a cause nor a context travels on.
        raise failure from None
