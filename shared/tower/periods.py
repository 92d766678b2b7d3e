"""The one period vocabulary: the words merchants use for time, turned into store-local dates.

Every surface that names a period — the weekly summary, Q&A, the API and the page, the digests —
resolves it here, so "last week" is the same seven days wherever it is read. All periods are
half-open ``[start, end)`` windows of store-local dates (the brand's time zone, see
:func:`tower.brands.local_today`), and never include today, which is still in progress.

=====================  ===============================================================================
words                  dates (``today`` = the store's current local date)
=====================  ===============================================================================
``yesterday``          ``[today - 1, today)``
``last week``          the 7 complete days ending yesterday, ``[today - 7, today)``: the week the
                       weekly summary, the dashboard and the digests report. "this week", "past
                       week" and "last 7 days" mean the same seven days
``week before``        the 7 days before last week, ``[today - 14, today - 7)``: what last week is
                       compared with ("previous week", "the week before")
``last month``         the previous calendar month
``month to date``      the 1st of this month to yesterday; "this month" is the same. On the 1st,
                       when the month has no complete day yet, the whole previous month
``last 30 days``       ``[today - 30, today)``; "last N days" for any N from 1 to 400
``this year``          1 January to yesterday ("year to date"); ``last year`` the previous calendar year
=====================  ===============================================================================

Anything a question does not name is the last 30 days. Texts always state the dates
(:attr:`Period.label`), so a reader never has to guess which seven days were meant.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MAX_DAYS = 400

NAMES: tuple[str, ...] = (
    "yesterday", "last_week", "week_before", "last_month", "month_to_date", "last_30_days", "this_year",
    "last_year",
)
"""The named periods an API caller may ask for (``?period=last_week``)."""


@dataclass(frozen=True)
class Period:
    """A half-open window of store-local dates and what to call it.

    Attributes:
        name: The vocabulary name (``last_week``), or ``custom`` / ``last_<n>_days``.
        start: First day, inclusive.
        end: The day after the last one (exclusive).
        label: How texts name it, with its dates: ``last week (Nov 16 – Nov 22, 2026)``.
    """

    name: str
    start: date
    end: date
    label: str

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same length just before this one (what it is compared with)."""
        return span("previous_period", self.start - timedelta(days=self.days), self.start,
                    f"the {self.days} days before")

    def to_dict(self) -> dict[str, str | int]:
        return {"name": self.name, "start_date": self.start.isoformat(), "end_date": self.end.isoformat(),
                "last_day": self.last_day.isoformat(), "days": self.days, "label": self.label}


class PeriodError(ValueError):
    """A period name or range that does not exist (HTTP 400 / exit 2)."""


def day_words(day: date | str, *, year: bool = True) -> str:
    """A date as sentences write it: ``Dec 5, 2026`` (``Dec 5`` without the year).

    Args:
        day: The date, or its ISO text (``2026-12-05``) as contexts and rows carry it.
        year: Whether to write the year.
    """
    d = day if isinstance(day, date) else date.fromisoformat(day)
    text = f"{calendar.month_abbr[d.month]} {d.day}"
    return f"{text}, {d.year}" if year else text


def range_words(first: date | str, last: date | str) -> str:
    """An inclusive range of days as sentences write it, the way the page does: ``Nov 29 – Dec 5, 2026``.

    One day reads as that day (``Dec 5, 2026``); the first day's year is written only when the range
    crosses a new year (``Dec 28, 2026 – Jan 3, 2027``). Structured fields keep ISO dates.

    Args:
        first: First day, inclusive (a date or its ISO text).
        last: Last day, inclusive (a date or its ISO text).
    """
    a = first if isinstance(first, date) else date.fromisoformat(first)
    b = last if isinstance(last, date) else date.fromisoformat(last)
    if a == b:
        return day_words(a)
    return f"{day_words(a, year=a.year != b.year)} – {day_words(b)}"


def span(name: str, start: date, end: date, words: str) -> Period:
    """A period with its dates stated in its label (``last week (Nov 16 – Nov 22, 2026)``)."""
    if end <= start:
        raise PeriodError(f"a period must end after it starts: {start.isoformat()} to {end.isoformat()}")
    return Period(name, start, end, f"{words} ({range_words(start, end - timedelta(days=1))})")


def _month_start(d: date) -> date:
    return d.replace(day=1)


def resolve(name: str, today: date) -> Period:
    """The dates of a named period (one of :data:`NAMES`, or ``last_<n>_days``).

    Raises:
        PeriodError: An unknown name.
    """
    if name == "yesterday":
        return span(name, today - timedelta(days=1), today, "yesterday")
    if name == "last_week":
        return span(name, today - timedelta(days=7), today, "last week")
    if name == "week_before":
        return span(name, today - timedelta(days=14), today - timedelta(days=7), "the week before")
    if name == "last_month":
        end = _month_start(today)
        start = _month_start(end - timedelta(days=1))
        return span(name, start, end, f"last month, {calendar.month_name[start.month]}")
    if name == "month_to_date":
        start = _month_start(today)
        if start == today:  # the 1st: no complete day yet, so the whole previous month
            return span(name, _month_start(today - timedelta(days=1)), today, "last month")
        return span(name, start, today, "this month")
    if name == "this_year":
        start = date(today.year, 1, 1)
        if start == today:
            return span(name, date(today.year - 1, 1, 1), today, "last year")
        return span(name, start, today, "this year")
    if name == "last_year":
        return span(name, date(today.year - 1, 1, 1), date(today.year, 1, 1), "last year")
    m = re.fullmatch(r"last_(\d{1,3})_days", name)
    if m and 0 < int(m.group(1)) <= MAX_DAYS:
        n = int(m.group(1))
        return span(name, today - timedelta(days=n), today, f"the last {n} days")
    raise PeriodError(f"unknown period {name!r}; known: {', '.join(NAMES)} or last_<n>_days (1 to {MAX_DAYS})")


def month_of(day: date) -> Period:
    """The calendar month holding ``day`` (``2026-11-14`` → November 2026, [2026-11-01, 2026-12-01))."""
    start = _month_start(day)
    end = _month_start(start + timedelta(days=31))
    return span("month", start, end, f"{calendar.month_name[start.month]} {start.year}")


def week_to(end: date) -> Period:
    """The 7 days before ``end`` (exclusive): "the week" that a week-over-week comparison or an alert's
    campaign lines speak of, ending where their data ends (last week itself when ``end`` is today)."""
    return span("week_to", end - timedelta(days=7), end, "the week")


def custom(start: date, end: date) -> Period:
    """A range the caller chose (half-open), at most :data:`MAX_DAYS` long."""
    if (end - start).days > MAX_DAYS:
        raise PeriodError(f"a period may span at most {MAX_DAYS} days")
    return span("custom", start, end, "the period")


_PHRASES: tuple[tuple[str, str], ...] = (
    (r"\byesterday\b", "yesterday"),
    (r"\b(?:previous\s+week|week\s+before)\b", "week_before"),
    (r"\b(?:last|this|past|current)\s+week\b|\blast\s+7\s+days\b", "last_week"),
    (r"\b(?:last|previous)\s+month\b", "last_month"),
    (r"\b(?:this|current)\s+month\b|\bmonth\s+to\s+date\b", "month_to_date"),
    (r"\b(?:last|previous)\s+year\b", "last_year"),
    (r"\b(?:this|current)\s+year\b|\byear\s+to\s+date\b", "this_year"),
)


def in_text(text: str, today: date) -> Period:
    """The period a sentence speaks of, by the vocabulary above; the last 30 days when it names none."""
    q = text.lower()
    m = re.search(r"\b(?:last|past|previous)\s+(\d{1,3})\s+days?\b", q)
    if m and 0 < int(m.group(1)) <= MAX_DAYS and int(m.group(1)) != 7:
        return resolve(f"last_{int(m.group(1))}_days", today)
    for pattern, name in _PHRASES:
        if re.search(pattern, q):
            return resolve(name, today)
    return resolve("last_30_days", today)


def vocabulary(today: date) -> dict[str, dict[str, str | int]]:
    """Every named period resolved for ``today``: handed to the model so it reads words as we do."""
    return {name: resolve(name, today).to_dict() for name in NAMES}
