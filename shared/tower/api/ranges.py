"""Date ranges and comparisons on the dashboard, the drilldowns and the daily series (issue 16).

A request names its range by ``start`` and ``end`` (store-local ISO dates, half-open ``[start, end)``
as every period of :mod:`tower.periods`) or by ``period=<name>`` of that vocabulary, and what it is
compared with by ``compare``: ``previous_period`` (the same number of days just before),
``previous_year`` (the same dates a year earlier; 29 February becomes the 28th) or ``none``. This module
parses a request's range; the figures are :mod:`tower.analytics.ranges`' (read through the
warehouse's read path, which a slow query cannot block; one that runs past its limit is a 503
``query_timeout``, :mod:`tower.api.errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from tower.analytics.ranges import (
    COMPARES,
    DEFAULT_PERIOD,
    METRICS,
    Range,
    comparison,
    daily_series,
    default_range,
    range_dashboard,
    range_drilldown,
)
from tower.api.errors import ApiError
from tower.periods import MAX_DAYS, Period, PeriodError, custom, resolve

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import MultiDict

__all__ = ["METRICS", "RANGE_PARAMS", "RANGE_QUERY", "Range", "daily_series", "default_range", "parse_range",
           "range_dashboard", "range_drilldown", "refuse_unknown"]

RANGE_PARAMS = ("start", "end", "period", "compare")

RANGE_QUERY: dict[str, dict[str, Any]] = {
    "start": {"schema": {"type": "string", "format": "date"}, "example": "2026-11-16",
              "description": "First store-local day of the range (inclusive); with end."},
    "end": {"schema": {"type": "string", "format": "date"}, "example": "2026-11-23",
            "description": "The day after the range's last day (exclusive, half-open); at most today and "
                           f"at most {MAX_DAYS} days after start."},
    "period": {"schema": {"type": "string"}, "example": "last_30_days",
               "description": "A named period of the shared vocabulary instead of start and end: yesterday, "
                              "last_week, week_before, last_month, month_to_date, last_30_days, this_year, "
                              "last_year or last_<n>_days."},
    "compare": {"schema": {"enum": list(COMPARES)}, "example": "previous_period",
                "description": "What the range is compared with (default previous_period)."},
}
"""The OpenAPI description of the range parameters (every route that takes them)."""


def refuse_unknown(args: Iterable[str], allowed: Iterable[str]) -> None:
    """400 ``unknown_parameter`` naming every query parameter the route does not take."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ApiError(400, "unknown_parameter",
                       f"unknown query parameter(s): {', '.join(unknown)}; this route takes "
                       f"{', '.join(sorted(allowed)) or 'none'}")


def _date(args: Mapping[str, str], name: str) -> date:
    raw = args.get(name)
    if raw is None:
        raise ApiError(400, "bad_parameter", f"{name} is required with {'end' if name == 'start' else 'start'}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be an ISO date like 2026-11-16, not {raw!r}") from None


def _period(args: Mapping[str, str], today: date) -> Period:
    if "period" in args:
        if "start" in args or "end" in args:
            raise ApiError(400, "bad_parameter", "period cannot be combined with start and end; send one or the other")
        try:
            return resolve(args["period"], today)
        except PeriodError as e:
            raise ApiError(400, "bad_parameter", f"period: {e}") from None
    start, end = _date(args, "start"), _date(args, "end")
    if end <= start:
        raise ApiError(400, "bad_parameter", f"end must be after start (the range is half-open): "
                                             f"{start.isoformat()} to {end.isoformat()}")
    if end > today:
        raise ApiError(400, "bad_parameter", f"end must be at most today ({today.isoformat()}): the range is "
                                             "half-open and today is not complete yet")
    try:
        return custom(start, end)
    except PeriodError as e:
        raise ApiError(400, "bad_parameter", f"end: {e}") from None


def parse_range(args: MultiDict[str, str] | Mapping[str, str], today: date) -> Range | None:
    """The range a request chose, or None when it chose nothing (the default, cached path).

    Raises:
        ApiError: 400 ``bad_parameter`` naming the parameter: a date that is not ISO, ``end`` not
            after ``start`` or after today, a span over :data:`tower.periods.MAX_DAYS` days, an
            unknown period or compare.
    """
    compare = args.get("compare", "previous_period")
    if compare not in COMPARES:
        raise ApiError(400, "bad_parameter", f"compare must be one of {', '.join(COMPARES)}, not {compare!r}")
    if not any(k in args for k in ("start", "end", "period", "compare")):
        return None
    chosen = any(k in args for k in ("start", "end", "period"))
    period = _period(args, today) if chosen else resolve(DEFAULT_PERIOD, today)
    return Range(period, compare, comparison(period, compare))
