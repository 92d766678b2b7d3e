"""Time for the sandbox: real in the demo, a shared fake in tests so nothing really sleeps.

A test hands the same :class:`FakeClock` to the sandbox (its leaky bucket restores by the fake
clock) and to the connector (its pacing and retry waits advance the fake clock), so throttling is
real and deterministic and takes no wall time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class RealClock:
    """Wall time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when someone sleeps on it (or a test advances it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._elapsed += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        """Move time forward without counting it as a sleep."""
        with self._lock:
            self._elapsed += max(seconds, 0.0)

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)
