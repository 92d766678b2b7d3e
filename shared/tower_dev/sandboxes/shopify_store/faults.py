"""Faults the sandbox store can inject, per shop, at chosen requests.

Kinds:
    ``throttle``: the bucket is drained, so the request is THROTTLED for real (HTTP 200).
    ``internal_error``: HTTP 200 with ``errors[].extensions.code = INTERNAL_SERVER_ERROR``.
    ``http_500`` / ``http_502`` / ``http_503``: that HTTP status.
    ``drop``: headers and half the body are sent, then the connection is closed mid-page.
    ``reset``: the connection is closed before any answer.
    ``expired_token``: the token stops working from this request on (HTTP 401).
    ``download_drop``: a bulk JSONL download is cut off halfway (the client must resume).

Request numbers count GraphQL requests to one shop from 1; ``download_drop`` counts downloads.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Faults a client can recover from by retrying (the randomized runs draw from these).
RECOVERABLE: tuple[str, ...] = (
    "throttle",
    "internal_error",
    "http_500",
    "http_502",
    "http_503",
    "drop",
    "reset",
)
KINDS: tuple[str, ...] = (*RECOVERABLE, "expired_token", "download_drop")


@dataclass(frozen=True)
class Fault:
    kind: str
    at: int  # the n-th GraphQL request (or n-th download for download_drop), from 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.at < 1:
            raise ValueError("fault request numbers start at 1")


@dataclass
class FaultPlan:
    """The faults of one shop and the counters they fire on."""

    faults: list[Fault] = field(default_factory=list)
    requests: int = 0
    downloads: int = 0
    fired: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, faults: Iterable[Fault | tuple[str, int]]) -> FaultPlan:
        return cls([f if isinstance(f, Fault) else Fault(*f) for f in faults])

    @classmethod
    def random(cls, seed: int, *, requests: int, count: int, kinds: Iterable[str] = RECOVERABLE) -> FaultPlan:
        """``count`` faults of random recoverable kinds at random requests in ``[1, requests]``."""
        rng = random.Random(seed)
        pool = list(kinds)
        return cls([Fault(rng.choice(pool), rng.randint(1, max(requests, 1))) for _ in range(count)])

    def next_request(self) -> list[Fault]:
        """Count one GraphQL request; return the faults that fire on it."""
        with self._lock:
            self.requests += 1
            hit = [f for f in self.faults if f.kind != "download_drop" and f.at == self.requests]
            self.fired.extend(hit)
            return hit

    def next_download(self) -> bool:
        """Count one bulk download; return whether it is cut off."""
        with self._lock:
            self.downloads += 1
            hit = [f for f in self.faults if f.kind == "download_drop" and f.at == self.downloads]
            self.fired.extend(hit)
            return bool(hit)
