"""tower.retry: the one backoff policy behind the connectors' and Claude's retries."""

from __future__ import annotations

import random

import pytest

from tower.retry import RetryPolicy


class Throttled(Exception):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("throttled")
        self.retry_after = retry_after


def _failing(errors: list[Exception]) -> object:
    def call() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    return call


def test_without_jitter_the_waits_double_and_a_longer_hint_wins() -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=5, base_seconds=1.0, max_seconds=5.0, jitter=False, sleep=slept.append)
    call = _failing([Throttled(), Throttled(3.0), Throttled(0.5), Throttled(60.0)])
    assert policy.run(call, retry_on=lambda e: isinstance(e, Throttled)) == "ok"
    # 1, then the hint 3 over the backoff 2, then the backoff 4 over the hint 0.5, then both capped at 5
    assert slept == policy.waits == [1.0, 3.0, 4.0, 5.0]


def test_full_jitter_stays_under_the_ceiling() -> None:
    policy = RetryPolicy(attempts=4, base_seconds=2.0, sleep=lambda _s: None, rng=random.Random(7))
    assert policy.run(_failing([Throttled()] * 3), retry_on=lambda e: True) == "ok"
    assert [w <= c for w, c in zip(policy.waits, (2.0, 4.0, 8.0), strict=True)] == [True] * 3


def test_a_refused_failure_is_raised_at_once_and_the_last_one_when_attempts_run_out() -> None:
    policy = RetryPolicy(attempts=3, sleep=lambda _s: None)
    with pytest.raises(ValueError):
        policy.run(_failing([ValueError("bad request")]), retry_on=lambda e: isinstance(e, Throttled))
    assert policy.waits == []
    last = Throttled(0.1)
    with pytest.raises(Throttled) as raised:
        policy.run(_failing([Throttled(), Throttled(), last]), retry_on=lambda e: isinstance(e, Throttled))
    assert raised.value is last and len(policy.waits) == 2
