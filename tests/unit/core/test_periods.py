"""The one period vocabulary: each word's dates worked by hand, and no other module turning words into dates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tower import periods
from tower.periods import PeriodError

TOWER = Path(__file__).resolve().parents[3] / "shared" / "tower"


@pytest.mark.parametrize(("name", "today", "start", "end"), [
    # Monday 23 November 2026: last week is Monday 16 to Sunday 22, the 7 days ending yesterday
    ("yesterday", date(2026, 11, 23), date(2026, 11, 22), date(2026, 11, 23)),
    ("last_week", date(2026, 11, 23), date(2026, 11, 16), date(2026, 11, 23)),
    ("week_before", date(2026, 11, 23), date(2026, 11, 9), date(2026, 11, 16)),
    ("last_month", date(2026, 11, 23), date(2026, 10, 1), date(2026, 11, 1)),
    ("last_month", date(2026, 1, 5), date(2025, 12, 1), date(2026, 1, 1)),
    ("month_to_date", date(2026, 11, 23), date(2026, 11, 1), date(2026, 11, 23)),
    ("month_to_date", date(2026, 12, 1), date(2026, 11, 1), date(2026, 12, 1)),  # the 1st: last month whole
    ("last_30_days", date(2026, 3, 1), date(2026, 1, 30), date(2026, 3, 1)),
    ("last_90_days", date(2026, 11, 23), date(2026, 8, 25), date(2026, 11, 23)),
    ("this_year", date(2026, 11, 23), date(2026, 1, 1), date(2026, 11, 23)),
    ("last_year", date(2026, 11, 23), date(2025, 1, 1), date(2026, 1, 1)),
])
def test_named_periods(name: str, today: date, start: date, end: date) -> None:
    p = periods.resolve(name, today)
    assert (p.start, p.end) == (start, end)
    assert p.label.endswith(f"({periods.range_words(p.start, p.last_day)})")


@pytest.mark.parametrize(("first", "last", "words"), [
    (date(2026, 11, 29), date(2026, 12, 5), "Nov 29 – Dec 5, 2026"),  # what the page writes for the same days
    (date(2026, 11, 16), date(2026, 11, 22), "Nov 16 – Nov 22, 2026"),
    (date(2026, 12, 28), date(2027, 1, 3), "Dec 28, 2026 – Jan 3, 2027"),  # a new year: both years
    (date(2026, 2, 28), date(2026, 2, 28), "Feb 28, 2026"),  # one day
    ("2024-02-29", "2024-03-01", "Feb 29 – Mar 1, 2024"),  # ISO text as contexts carry it
])
def test_date_ranges_in_sentences(first: date | str, last: date | str, words: str) -> None:
    assert periods.range_words(first, last) == words


def test_labels_state_their_dates_as_sentences_do() -> None:
    assert periods.resolve("last_week", date(2026, 12, 6)).label == "last week (Nov 29 – Dec 5, 2026)"
    assert periods.resolve("yesterday", date(2027, 1, 1)).label == "yesterday (Dec 31, 2026)"
    assert periods.resolve("last_month", date(2027, 1, 5)).label == "last month, December (Dec 1 – Dec 31, 2026)"
    assert periods.resolve("last_week", date(2026, 12, 6)).to_dict()["start_date"] == "2026-11-29"


@pytest.mark.parametrize(("text", "name"), [
    ("What did I spend and earn last week?", "last_week"),
    ("How is this week going?", "last_week"),
    ("spend in the last 7 days", "last_week"),
    ("and the week before?", "week_before"),
    ("Which products performed best last month?", "last_month"),
    ("revenue month to date", "month_to_date"),
    ("What happened yesterday?", "yesterday"),
    ("the last 14 days", "last_14_days"),
    ("anything at all", "last_30_days"),
])
def test_words_in_a_question(text: str, name: str) -> None:
    assert periods.in_text(text, date(2026, 11, 23)).name == name


def test_unknown_names_and_bad_ranges_are_refused() -> None:
    with pytest.raises(PeriodError, match="unknown period"):
        periods.resolve("fortnight", date(2026, 11, 23))
    with pytest.raises(PeriodError):
        periods.resolve("last_0_days", date(2026, 11, 23))
    with pytest.raises(PeriodError, match="at most"):
        periods.custom(date(2024, 1, 1), date(2026, 1, 1))
    with pytest.raises(PeriodError, match="end after"):
        periods.custom(date(2026, 1, 2), date(2026, 1, 1))


def test_previous_is_the_same_length_just_before() -> None:
    p = periods.resolve("last_week", date(2026, 11, 23)).previous()
    assert (p.start, p.end) == (date(2026, 11, 9), date(2026, 11, 16))


def period_patterns(source: str) -> list[str]:
    """String literals of a module that look like a regular expression for period words."""
    import ast

    return [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and "\\s" in n.value and re.search(r"week|month|yesterday|year", n.value)]


def test_no_other_module_turns_words_into_dates() -> None:
    """The vocabulary lives once: no other module of the library matches period words in text."""
    offenders = {str(p.relative_to(TOWER)): period_patterns(p.read_text()) for p in TOWER.rglob("*.py")
                 if p.name != "periods.py"}
    assert {k: v for k, v in offenders.items() if v} == {}
    # the check sees what it must: the Q&A parser as it was before the vocabulary had one home
    assert period_patterns('WEEK = r"\\b(last|previous)\\s+week\\b"')


def test_a_calendar_month_and_the_week_to_a_day() -> None:
    from tower.periods import month_of, week_to

    december = month_of(date(2026, 12, 31))
    assert (december.start, december.end, december.days) == (date(2026, 12, 1), date(2027, 1, 1), 31)
    assert month_of(date(2028, 2, 10)).days == 29  # a leap year's February
    week = week_to(date(2026, 11, 23))
    assert (week.start, week.last_day, week.label) == (date(2026, 11, 16), date(2026, 11, 22),
                                                       "the week (Nov 16 – Nov 22, 2026)")
