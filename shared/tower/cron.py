"""Five-field cron expressions, read as Cloud Scheduler reads them (unix-cron), for the local scheduler.

``minute hour day-of-month month day-of-week``, each ``*``, a number, a range ``a-b``, a step
``*/n`` or ``a-b/n``, or a comma-separated list of those; months and weekdays also by their English
three-letter names, Sunday as 0 or 7. As in unix-cron, when both day fields are restricted a day
matches either of them; when one is ``*`` only the other counts.

The lock has no cron library (croniter and friends are not dependencies), and the product needs only
what the Terraform schedules use, so this is the small parser the local scheduler and its tests need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# field name, lowest, highest, names (index + lowest = value)
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
)

# Every valid expression matches at least once in any 8 years (a 29 February comes round within 8);
# an expression that never matches (31 February) is refused when searched, not looped on for ever.
_SEARCH_YEARS = 8


class CronError(ValueError):
    """An expression that is not five valid cron fields (the message names the field)."""


def _value(text: str, field: str, low: int, high: int, names: tuple[str, ...]) -> int:
    lowered = text.lower()
    if names and lowered in names:
        return names.index(lowered) + (1 if field == "month" else 0)
    if not text.isdigit():
        raise CronError(f"cron {field}: {text!r} is not a number" + (f" or one of {', '.join(names)}" if names else ""))
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"cron {field}: {value} is outside {low}-{high}")
    return value


def _parse_field(text: str, field: str, low: int, high: int, names: tuple[str, ...]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"cron {field}: empty item in {text!r}")
        span, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"cron {field}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, _, b = span.partition("-")
            first, last = _value(a, field, low, high, names), _value(b, field, low, high, names)
            if first > last:
                raise CronError(f"cron {field}: range {span!r} runs backwards")
        else:
            first = _value(span, field, low, high, names)
            # "5/15" means from 5 to the end in steps of 15, as in Vixie cron
            last = high if slash else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A parsed expression: the minutes, hours, days, months and weekdays (0 = Sunday) it matches."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        """Parse five whitespace-separated fields.

        Raises:
            CronError: Not five fields, or a field out of range or malformed.
        """
        parts = expression.split()
        if len(parts) != len(_FIELDS):
            raise CronError(f"cron {expression!r} must have 5 fields (minute hour day month weekday), "
                            f"not {len(parts)}")
        sets = [_parse_field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])  # 7 is Sunday too
        return cls(expression, sets[0], sets[1], sets[2], sets[3], weekdays,
                   any_day=parts[2] == "*", any_weekday=parts[4] == "*")

    def _day_matches(self, moment: datetime) -> bool:
        if moment.month not in self.months:
            return False
        in_month = moment.day in self.days
        # datetime: Monday 0 .. Sunday 6; cron: Sunday 0 .. Saturday 6
        in_week = (moment.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def matches(self, moment: datetime) -> bool:
        """Whether the minute of ``moment`` is one the expression fires on."""
        return moment.minute in self.minutes and moment.hour in self.hours and self._day_matches(moment)

    def next_after(self, moment: datetime) -> datetime:
        """The first firing minute strictly after ``moment`` (same tzinfo; seconds dropped).

        Raises:
            CronError: The expression never fires (a day no month has, such as 30 February).
        """
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=366 * _SEARCH_YEARS)
        while t < limit:
            if not self._day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
                continue
            if t.minute in self.minutes:
                return t
            t += timedelta(minutes=1)
        raise CronError(f"cron {self.expression!r} never fires")

    def last_at_or_before(self, moment: datetime) -> datetime:
        """The latest firing minute at or before ``moment`` (same tzinfo; seconds dropped).

        Raises:
            CronError: The expression never fires.
        """
        t = moment.replace(second=0, microsecond=0)
        limit = t - timedelta(days=366 * _SEARCH_YEARS)
        while t > limit:
            if not self._day_matches(t):
                t = t.replace(hour=23, minute=59) - timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=59) - timedelta(hours=1)
                continue
            if t.minute in self.minutes:
                return t
            t -= timedelta(minutes=1)
        raise CronError(f"cron {self.expression!r} never fires")
