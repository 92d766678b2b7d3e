"""Whether one raised alert goes to one recipient now, waits for the next digest, or is not sent.

Checked in this order, the first that applies deciding (:func:`decide`):

1. ``skip``, ``unsubscribed``: the recipient does not take alerts (chose not to, or unsubscribed);
2. ``skip``, ``below_severity``: the alert is less severe than the recipient's minimum;
3. ``skip``, ``muted`` / ``snoozed``: a mute or a running snooze covers its brand and type;
4. ``skip``, ``duplicate``: the same alert (same brand, same id) was sent to the recipient within the
   last ``dedup_days``, by an earlier run or a redelivery of this one;
5. ``hold``, ``quiet_hours``: it is within the recipient's quiet hours in the recipient's own time zone
   (a ``critical`` alert is sent anyway: a stock-out does not wait for morning);
6. ``hold``, ``budget``: the recipient was already sent ``daily_budget`` alerts on this local day;
7. ``send``.

Held alerts are listed in the recipient's next digest ("held back since the last digest"); skipped ones
are only logged. Nothing here reads the clock or a store: the caller passes what it found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from tower.notify.recipients import ANY, SEVERITIES, parse_clock, wants

Action = Literal["send", "hold", "skip"]


@dataclass(frozen=True)
class Decision:
    """What to do with one alert for one recipient, and why (the delivery log's ``reason``)."""

    action: Action
    reason: str


def local_now(recipient: Mapping[str, Any], now: datetime) -> datetime:
    """``now`` on the recipient's wall clock."""
    return now.astimezone(ZoneInfo(str(recipient.get("timezone") or "UTC")))


def local_day(recipient: Mapping[str, Any], now: datetime) -> date:
    """The recipient's local date at ``now`` (the daily budget's day)."""
    return local_now(recipient, now).date()


def in_quiet_hours(recipient: Mapping[str, Any], now: datetime) -> bool:
    """Whether ``now`` falls in the recipient's quiet hours, read on its own clock.

    ``start`` is inclusive, ``end`` exclusive; a window whose end is before its start runs over
    midnight (22:00-07:00 covers 23:30 and 06:59, not 07:00).
    """
    quiet = recipient.get("quiet_hours")
    if not quiet:
        return False
    t = local_now(recipient, now).time().replace(second=0, microsecond=0, tzinfo=None)
    start, end = parse_clock(quiet["start"]), parse_clock(quiet["end"])
    return start <= t < end if start < end else (t >= start or t < end)


def mute_reason(recipient: Mapping[str, Any], brand_id: str, alert_type: str, now: datetime) -> str | None:
    """``muted`` or ``snoozed`` when one of the recipient's mutes covers this brand and type now."""
    for m in recipient.get("mutes") or []:
        if m.get("brand_id") not in (ANY, brand_id) or m.get("alert_type") not in (ANY, alert_type):
            continue
        until = m.get("until")
        if until is None:
            return "muted"
        if datetime.fromisoformat(str(until)) > now:
            return "snoozed"
    return None


def severity_allowed(recipient: Mapping[str, Any], severity: str) -> bool:
    """Whether ``severity`` is at least the recipient's minimum (unknown severities count as lowest)."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return rank.get(severity, len(SEVERITIES)) <= rank.get(str(recipient.get("min_severity") or "low"),
                                                             len(SEVERITIES) - 1)


def decide(recipient: Mapping[str, Any], alert: Mapping[str, Any], now: datetime, *, sent_today: int,
           last_sent: datetime | None, dedup_days: int) -> Decision:
    """The decision for one alert (``brand_id``, ``type``, ``severity``) and one recipient at ``now``.

    Args:
        sent_today: Alerts already sent to the recipient on its local day of ``now``.
        last_sent: When this alert was last sent to the recipient (None: never).
        dedup_days: How long a sent alert is not sent again.
    """
    if not wants(dict(recipient), "alerts"):
        return Decision("skip", "unsubscribed")
    severity = str(alert.get("severity") or "")
    if not severity_allowed(recipient, severity):
        return Decision("skip", "below_severity")
    muted = mute_reason(recipient, str(alert.get("brand_id")), str(alert.get("type")), now)
    if muted:
        return Decision("skip", muted)
    if last_sent is not None and now - last_sent < timedelta(days=dedup_days):
        return Decision("skip", "duplicate")
    if severity != "critical" and in_quiet_hours(recipient, now):
        return Decision("hold", "quiet_hours")
    if sent_today >= int(recipient.get("daily_budget") or 0):
        return Decision("hold", "budget")
    return Decision("send", "ok")
