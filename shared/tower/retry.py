"""The one retry policy of the product (tenacity): exponential backoff that honours the remote's wait hint.

Whatever calls another service (a platform's API through its connector, Claude through the Anthropic
SDK) retries through :class:`RetryPolicy` and never with a loop of its own. What differs per caller is
only its signals, passed in: which failures are worth another attempt (``retry_on``) and how long the
remote asked us to wait (``hint``, e.g. a ``Retry-After`` header). The connectors' error classes and
their sanitising wrapper live in :mod:`tower.connectors.retry`.

The wait before attempt ``n + 1`` is drawn from ``[0, min(max_seconds, base_seconds × 2^(n-1))]``
(full jitter, so many callers throttled at once do not come back together) or, with ``jitter=False``,
is that ceiling itself; a hint makes it at least the hint (capped at ``max_seconds``). Sleeping goes
through ``sleep``, so tests pass a recorder and never really wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

T = TypeVar("T")


def retry_after_attribute(exc: BaseException) -> float | None:
    """The wait an error carries as its ``retry_after`` attribute, in seconds (None: none)."""
    hint = getattr(exc, "retry_after", None)
    return float(hint) if hint else None


@dataclass
class RetryPolicy:
    """Exponential backoff, full jitter by default, at least the remote's own wait hint.

    Attributes:
        attempts: Total attempts per call (first try included).
        base_seconds: First backoff ceiling; doubles per attempt.
        max_seconds: Ceiling of one wait (also caps a hint).
        sleep: Called with each wait; tests pass a recorder.
        rng: Source of jitter (seeded in tests for reproducible waits).
        jitter: Full jitter (True) or the ceiling itself (False).
        hint: The wait a failure asks for, in seconds, or None.
        waits: Every wait slept so far, in order.
    """

    attempts: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    jitter: bool = True
    hint: Callable[[BaseException], float | None] = retry_after_attribute
    waits: list[float] = field(default_factory=list)

    def wait_for(self, state: RetryCallState) -> float:
        """The wait before the next attempt: the backoff, at least the failure's hint."""
        exc = state.outcome.exception() if state.outcome else None
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** (state.attempt_number - 1)))
        wait = self.rng.uniform(0, ceiling) if self.jitter else ceiling
        hinted = self.hint(exc) if exc is not None else None
        if hinted is not None:
            wait = max(wait, min(max(float(hinted), 0.0), self.max_seconds))
        return wait

    def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)

    def run(self, fn: Callable[..., T], *args: Any, retry_on: Callable[[BaseException], bool],
            **kwargs: Any) -> T:
        """Call ``fn`` until it succeeds, raises what ``retry_on`` refuses, or attempts run out.

        Raises:
            Exception: Whatever ``fn`` raised last, as it was (callers sort and sanitise it).
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.wait_for,
            retry=retry_if_exception(retry_on),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(fn, *args, **kwargs)
