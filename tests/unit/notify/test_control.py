"""Alert control: who gets an alert now, who gets it in the next digest, who never does (worked by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tower.notify.control import Decision, decide, in_quiet_hours, local_day, mute_reason

ALERT = {"brand_id": "acme", "alert_id": "a1", "type": "stockout_risk", "severity": "high"}


def recipient(**over: object) -> dict:
    base = {"recipient_id": "r1", "timezone": "Asia/Tokyo", "quiet_hours": {"start": "22:00", "end": "07:00"},
            "daily_budget": 2, "min_severity": "medium", "alerts": True, "digest": True, "unsubscribed": [],
            "mutes": []}
    return {**base, **over}


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("utc", "quiet"), [
    # Tokyo is UTC+9: 13:00 UTC is 22:00 there (quiet starts), 21:59 UTC is 06:59 (still quiet),
    # 22:00 UTC is 07:00 (quiet over), 04:00 UTC is 13:00 (day).
    (at(13, 0), True), (at(12, 59), False), (at(21, 59), True), (at(22, 0), False), (at(4, 0), False),
    (at(17, 30), True),
])
def test_quiet_hours_are_read_on_the_recipients_own_clock(utc: datetime, quiet: bool) -> None:
    assert in_quiet_hours(recipient(), utc) is quiet


def test_a_daytime_window_and_no_window() -> None:
    r = recipient(timezone="Europe/Berlin", quiet_hours={"start": "12:00", "end": "13:30"})
    # Berlin is UTC+1 in December: 11:15 UTC is 12:15 there
    assert in_quiet_hours(r, at(11, 15)) and not in_quiet_hours(r, at(12, 30))
    assert not in_quiet_hours(recipient(quiet_hours=None), at(15))


def test_the_budget_day_is_the_recipients_day() -> None:
    # 20:00 UTC on 1 December is 05:00 on 2 December in Tokyo
    assert local_day(recipient(), at(20)).isoformat() == "2026-12-02"


DAY = at(4)  # 13:00 in Tokyo


def _decide(r: dict, alert: dict = ALERT, now: datetime = DAY, sent_today: int = 0,
            last_sent: datetime | None = None) -> Decision:
    return decide(r, alert, now, sent_today=sent_today, last_sent=last_sent, dedup_days=7)


def test_send_in_the_day_within_budget() -> None:
    assert _decide(recipient()) == Decision("send", "ok")


def test_over_the_daily_budget_the_alert_waits_for_the_digest() -> None:
    assert _decide(recipient(), sent_today=1) == Decision("send", "ok")
    assert _decide(recipient(), sent_today=2) == Decision("hold", "budget")
    assert _decide(recipient(daily_budget=0)) == Decision("hold", "budget")


def test_quiet_hours_hold_all_but_critical() -> None:
    assert _decide(recipient(), now=at(14)) == Decision("hold", "quiet_hours")
    assert _decide(recipient(), {**ALERT, "severity": "critical"}, now=at(14)) == Decision("send", "ok")


def test_below_the_minimum_severity_is_skipped() -> None:
    assert _decide(recipient(), {**ALERT, "severity": "low"}) == Decision("skip", "below_severity")
    assert _decide(recipient(min_severity="critical")) == Decision("skip", "below_severity")


def test_dedup_across_runs_within_the_window_only() -> None:
    now = at(4, day=8)
    assert _decide(recipient(), now=now, last_sent=now - timedelta(days=6, hours=23)) == Decision("skip", "duplicate")
    assert _decide(recipient(), now=now, last_sent=now - timedelta(days=7)) == Decision("send", "ok")


def test_mutes_and_snoozes_by_brand_and_type() -> None:
    now = at(4)
    muted = recipient(mutes=[{"brand_id": "acme", "alert_type": "stockout_risk", "until": None}])
    assert _decide(muted) == Decision("skip", "muted")
    other_type = recipient(mutes=[{"brand_id": "acme", "alert_type": "roas_drop", "until": None}])
    assert _decide(other_type) == Decision("send", "ok")
    every_brand = recipient(mutes=[{"brand_id": "*", "alert_type": "stockout_risk", "until": None}])
    assert _decide(every_brand) == Decision("skip", "muted")
    snoozed = recipient(mutes=[{"brand_id": "acme", "alert_type": "*", "until": (now + timedelta(hours=1)).isoformat()}])
    assert mute_reason(snoozed, "acme", "roas_drop", now) == "snoozed"
    assert mute_reason(snoozed, "acme", "roas_drop", now + timedelta(hours=1)) is None


def test_unsubscribed_or_alerts_off_gets_nothing() -> None:
    assert _decide(recipient(unsubscribed=["alerts"])) == Decision("skip", "unsubscribed")
    assert _decide(recipient(alerts=False)) == Decision("skip", "unsubscribed")
    assert _decide(recipient(unsubscribed=["digest"])) == Decision("send", "ok")
