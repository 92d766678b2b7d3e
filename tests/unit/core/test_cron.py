"""The five-field cron parser the local scheduler reads Terraform's schedules with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tower.cron import Cron, CronError
from tower.wiring import of_kind

T = datetime(2026, 11, 23, 10, 17, 42, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(("expression", "after", "expected"), [
    ("0 * * * *", T, datetime(2026, 11, 23, 11, 0, tzinfo=UTC)),
    ("*/15 * * * *", T, datetime(2026, 11, 23, 10, 30, tzinfo=UTC)),
    ("5/20 * * * *", T, datetime(2026, 11, 23, 10, 25, tzinfo=UTC)),
    ("0 6 * * *", T, datetime(2026, 11, 24, 6, 0, tzinfo=UTC)),
    ("0 7 * * mon", T, datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
    ("0 7 * * 0", T, datetime(2026, 11, 29, 7, 0, tzinfo=UTC)),
    ("0 7 * * 7", T, datetime(2026, 11, 29, 7, 0, tzinfo=UTC)),  # 7 is Sunday too
    ("30 2 1 jan *", T, datetime(2027, 1, 1, 2, 30, tzinfo=UTC)),
    ("0 0 29 2 *", T, datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
    ("0 9-17/4 * * 1-5", T, datetime(2026, 11, 23, 13, 0, tzinfo=UTC)),
    ("0,45 10 * * *", T, datetime(2026, 11, 23, 10, 45, tzinfo=UTC)),
    # both day fields restricted: either matches (the 1st, or any Friday)
    ("0 0 1 * fri", T, datetime(2026, 11, 27, 0, 0, tzinfo=UTC)),
])
def test_next_firing(expression: str, after: datetime, expected: datetime) -> None:
    cron = Cron.parse(expression)
    assert cron.next_after(after) == expected
    assert cron.matches(expected)
    assert cron.last_at_or_before(expected) == expected


def test_the_next_firing_is_strictly_after_and_the_last_at_or_before() -> None:
    hourly = Cron.parse("0 * * * *")
    on_the_hour = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert hourly.next_after(on_the_hour) == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert hourly.last_at_or_before(on_the_hour) == on_the_hour
    assert hourly.last_at_or_before(T) == on_the_hour
    assert Cron.parse("0 7 * * mon").last_at_or_before(T) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "problem"), [
    ("0 * * *", "5 fields"),
    ("60 * * * *", "minute: 60 is outside 0-59"),
    ("0 24 * * *", "hour: 24"),
    ("0 0 0 * *", "day of month: 0"),
    ("0 0 * 13 *", "month: 13"),
    ("0 0 * * 8", "day of week: 8"),
    ("*/0 * * * *", "step"),
    ("5-1 * * * *", "backwards"),
    ("x * * * *", "not a number"),
    ("0 0 * foo *", "not a number or one of jan"),
    ("1,,2 * * * *", "empty item"),
])
def test_bad_expressions_name_the_field(expression: str, problem: str) -> None:
    with pytest.raises(CronError, match=problem):
        Cron.parse(expression)


def test_an_expression_that_never_fires_is_refused_when_searched() -> None:
    never = Cron.parse("0 0 30 2 *")
    with pytest.raises(CronError, match="never fires"):
        never.next_after(T)


def test_every_schedule_the_wiring_declares_parses_and_fires_within_a_week() -> None:
    entries = of_kind("schedule")
    assert entries
    for entry in entries:
        nxt = Cron.parse(entry.target).next_after(T)
        assert (nxt - T).days < 7, entry.name
