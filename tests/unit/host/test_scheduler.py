"""The local scheduler fires Terraform's schedule: due slots once, missed ones on start, across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tower.config import Settings
from tower.host.scheduler import LocalScheduler
from tower.runtime import Runtime
from tower.wiring import EntryPoint, of_kind


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def runtime(tmp_path: Path) -> Any:
    rt = Runtime(Settings(warehouse="duckdb:///:memory:", data_dir=tmp_path))
    yield rt
    rt.close()


def _entries(calls: list[str], fail: bool = False) -> list[EntryPoint]:
    def hourly(runtime: Runtime) -> dict[str, Any]:
        calls.append("hourly")
        if fail:
            raise RuntimeError("token shpat_0123456789abcdef0123 refused")
        return {"ok": True}

    def daily(runtime: Runtime) -> dict[str, Any]:
        calls.append("daily")
        return {"ok": True}

    return [EntryPoint("hourly_job", "schedule:0 * * * *", hourly), EntryPoint("daily_job", "schedule:0 17 * * *", daily)]


def test_on_first_start_every_entry_fires_once_then_each_at_its_slot(runtime: Runtime) -> None:
    calls: list[str] = []
    clock = Clock(datetime(2026, 11, 23, 10, 17, tzinfo=UTC))
    scheduler = LocalScheduler(runtime, _entries(calls), clock=clock)
    assert [f.entry for f in scheduler.run_due()] == ["hourly_job", "daily_job"]  # never fired: catch up
    assert scheduler.run_due() == []  # nothing new in the same hour
    assert scheduler.seconds_to_next() == 60.0  # woken every minute at most
    clock.now = datetime(2026, 11, 23, 11, 0, 5, tzinfo=UTC)
    [firing] = scheduler.run_due()
    assert (firing.entry, firing.slot) == ("hourly_job", datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert calls == ["hourly", "daily", "hourly"]


def test_a_restart_fires_a_missed_slot_once_and_not_a_slot_already_fired(runtime: Runtime) -> None:
    calls: list[str] = []
    clock = Clock(datetime(2026, 11, 23, 10, 17, tzinfo=UTC))
    LocalScheduler(runtime, _entries(calls), clock=clock).run_due()
    # restarted within the same hour: the slot fired by the previous process is not fired again
    assert LocalScheduler(runtime, _entries(calls), clock=clock).run_due() == []
    # restarted after three hours off: the missed hourly slots fire once, for the latest of them
    clock.now += timedelta(hours=3)
    [firing] = LocalScheduler(runtime, _entries(calls), clock=clock).run_due()
    assert firing.slot == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def test_without_catch_up_a_never_fired_entry_waits_for_its_next_slot(runtime: Runtime) -> None:
    calls: list[str] = []
    clock = Clock(datetime(2026, 11, 23, 10, 17, tzinfo=UTC))
    scheduler = LocalScheduler(runtime, _entries(calls), clock=clock, catch_up=False)
    assert scheduler.run_due() == []
    clock.now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert [f.entry for f in scheduler.run_due()] == ["hourly_job"]


def test_a_failing_entry_is_recorded_masked_and_fires_again_at_the_next_slot(runtime: Runtime) -> None:
    calls: list[str] = []
    clock = Clock(datetime(2026, 11, 23, 10, 17, tzinfo=UTC))
    scheduler = LocalScheduler(runtime, _entries(calls, fail=True)[:1], clock=clock)
    [firing] = scheduler.run_due()
    assert firing.error and "shpat_0123456789abcdef0123" not in firing.error
    assert runtime.store.get("local_scheduler/hourly_job")["error"] == firing.error
    assert scheduler.run_due() == []
    clock.now += timedelta(hours=1)
    assert len(scheduler.run_due()) == 1


def test_the_scheduler_fires_the_wirings_own_schedule_by_default(runtime: Runtime) -> None:
    assert [e.name for e in LocalScheduler(runtime).entries] == [e.name for e in of_kind("schedule")]
