"""Local days as UTC instants: the only place the world turns store / account dates into timestamps.

Vectorised work stays in numpy: for each zone we compute the UTC instants of local midnights once
(a short Python loop over days, never over orders) and then map any number of timestamps to local
dates with ``searchsorted``. DST days are 23 or 25 hours long and come out right.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

EPOCH = date(1970, 1, 1)


def epoch_day(d: date) -> int:
    """Days since 1970-01-01 (Arrow's date32 value)."""
    return (d - EPOCH).days


@lru_cache(maxsize=64)
def _midnights(tz: str, first: date, n: int) -> tuple[int, ...]:
    zone = ZoneInfo(tz)
    out = []
    for i in range(n):
        d = first + timedelta(days=i)
        out.append(int(datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()))
    return tuple(out)


def day_starts(tz: str, first: date, n_days: int) -> np.ndarray:
    """UTC epoch seconds of local midnight for ``n_days + 1`` consecutive dates from ``first``.

    Element ``i`` starts local day ``first + i``; element ``n_days`` ends the last day.
    """
    return np.array(_midnights(tz, first, n_days + 1), dtype=np.int64)


def local_day_index(seconds: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of the local day (as in :func:`day_starts`) holding each UTC instant."""
    return np.searchsorted(starts, seconds, side="right").astype(np.int64) - 1


def local_seconds_of_day(seconds: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Seconds since local midnight for each UTC instant."""
    idx = local_day_index(seconds, starts)
    return seconds - starts[idx]
