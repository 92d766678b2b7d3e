"""The figures of a date range and its comparison: the dashboard's snapshot and tiles, the daily
series and a channel's drilldown (issue 16), read from the marts.

A range is a :class:`tower.periods.Period` and what it is compared with (``previous_period``: the
same number of days just before; ``previous_year``: the same dates a year earlier, 29 February
becoming the 28th; ``none``). The figures are read through the warehouse's read path
(``warehouse.read``: a per-thread connection that a slow query cannot block, stopped after
:data:`READ_TIMEOUT_S` with :class:`tower.ports.QueryTimeout`), by the SQL files under
``tower/sql/queries/api/``. The API parses a request's range (:mod:`tower.api.ranges`); the models'
stage computes the default range ahead of time (:mod:`tower.analytics.dashboard_cache`).

Figures:

* revenue: all the store's net revenue, whatever earned it (``unified_performance`` over every row, the
  unattributed ones included: each order's net revenue split over its lines), as on the default dashboard
  and in the weekly summary; a channel's revenue is what was attributed to it;
* blended ROAS: that revenue ÷ all ad spend (the product plan's "$72,000 in Shopify revenue at a blended
  3.9x ROAS"; Triple Whale's "Sales / Blended Ads");
* MER: ad spend as a percentage of that revenue (Triple Whale's "percentage of sales spent on ads");
* new-customer revenue: net revenue of orders whose hashed customer had no earlier order;
* profit: all that revenue − COGS − fulfilment − ad spend (``unified_performance.profit_amount`` over every row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from tower import sql as sqlfiles
from tower.analytics.snapshots import SNAPSHOT_SQL, latest_as_of, performance_snapshot
from tower.periods import Period, resolve, span

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Warehouse

COMPARES = ("previous_period", "previous_year", "none")
METRICS = ("spend", "revenue", "roas", "orders")
READ_TIMEOUT_S = 10.0
"""A chosen range's read is stopped after this long (the API answers 503) rather than hold a worker."""

DEFAULT_PERIOD = "last_week"


@dataclass(frozen=True)
class Range:
    """A chosen period and what it is compared with (``comparison`` None for ``compare=none``)."""

    period: Period
    compare: str
    comparison: Period | None

    def to_dict(self) -> dict[str, Any]:
        """The response's ``range``: the periods as the vocabulary names them, and their dates flat
        (``end`` and ``compare_end`` exclusive, as the query's ``end``; ``last_day`` inclusive)."""
        other = self.comparison
        return {"start": self.period.start.isoformat(), "end": self.period.end.isoformat(),
                "last_day": self.period.last_day.isoformat(), "label": self.period.label, "compare": self.compare,
                "compare_start": other.start.isoformat() if other else None,
                "compare_end": other.end.isoformat() if other else None,
                "compare_label": other.label if other else None,
                "period": self.period.to_dict(), "comparison": other.to_dict() if other else None}


def _year_earlier(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February: the year before has none
        return d.replace(year=d.year - 1, day=28)


def comparison(period: Period, compare: str) -> Period | None:
    """The period ``compare`` (one of :data:`COMPARES`) sets beside ``period`` (None for ``none``)."""
    if compare == "none":
        return None
    if compare == "previous_year":
        return span("previous_year", _year_earlier(period.start), _year_earlier(period.end),
                    "the same dates a year earlier")
    return period.previous()


def default_range(today: date) -> Range:
    """The range the default dashboard shows: last week against the week before."""
    period = resolve(DEFAULT_PERIOD, today)
    return Range(period, "previous_period", period.previous())


# --- reads ------------------------------------------------------------------------------------------


def _read(warehouse: Warehouse, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One ``queries/api`` file through the warehouse's read path (raises QueryTimeout past the limit)."""
    return warehouse.read(sqlfiles.load(f"queries/api/{name}.sql"), params, timeout_s=READ_TIMEOUT_S)


def _window(brand_id: str, period: Period, attribution_model: str) -> dict[str, Any]:
    return {"brand_id": brand_id, "start_date": period.start, "end_date": period.end,
            "attribution_model": attribution_model}


def _money(x: Any) -> float:
    return round(float(x or 0), 2)


def _ratio(num: Any, den: Any) -> float | None:
    return round(float(num or 0) / float(den), 2) if den else None


def _pct_change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return round(100 * (now - before) / before, 1)


@dataclass(frozen=True)
class Totals:
    """One period's figures: the ad channels' rows (``range_totals.sql``) and the store's orders.

    The one place that turns the channels' rows into the period's totals (all revenue, ad spend, blended
    ROAS): the dashboard's snapshot and tiles, and the Q&A's ``channel_performance`` (:meth:`channel_table`).
    """

    channels: list[dict[str, Any]]
    store: dict[str, Any] = field(default_factory=dict)  # store_revenue.sql's row: the tiles need it

    @property
    def spend(self) -> float:
        return sum(float(r["spend"] or 0) for r in self.channels)

    @property
    def revenue(self) -> float:
        """All the store's revenue in the period: the channels' and the revenue no campaign earned."""
        return sum(float(r["revenue"] or 0) for r in self.channels)

    @property
    def attributed_revenue(self) -> float:
        return sum(float(r["revenue"] or 0) for r in self.channels if r["channel"] is not None)

    @property
    def profit(self) -> float:
        return sum(float(r["profit"] or 0) for r in self.channels)

    @property
    def orders(self) -> float:
        return sum(float(r["orders"] or 0) for r in self.channels)

    def channel_table(self, row_limit: int) -> list[dict[str, Any]]:
        """The Q&A's channel rows: each ad channel (best revenue first, at most ``row_limit``), then the
        ``total`` row: all ad spend against all the store's revenue (``ad_revenue``: the part credited to
        ads) and the blended ROAS, the dashboard's figures."""
        channels = sorted((r for r in self.channels if r["channel"] is not None),
                          key=lambda r: (-float(r["revenue"] or 0), str(r["channel"])))[:row_limit]
        out = [{"channel": r["channel"], "spend": _money(r["spend"]), "revenue": _money(r["revenue"]),
                "ad_revenue": None, "orders": round(float(r["orders"] or 0), 1), "profit": _money(r["profit"]),
                "roas": _ratio(r["revenue"], r["spend"])} for r in channels]
        # always there, as the dashboard always shows its totals: a period without data reads $0 on both
        out.append({"channel": "total", "spend": _money(self.spend), "revenue": _money(self.revenue),
                    "ad_revenue": _money(self.attributed_revenue), "orders": round(self.orders, 1),
                    "profit": _money(self.profit), "roas": _ratio(self.revenue, self.spend)})
        return out

    def snapshot(self) -> dict[str, Any]:
        """The dashboard's ``performance_snapshot`` shape for this period."""
        return {
            "total_spend": _money(self.spend),
            "total_revenue": _money(self.revenue),
            "attributed_revenue": _money(self.attributed_revenue),
            "blended_roas": _ratio(self.revenue, self.spend),
            "by_channel": {
                str(r["channel"]): {"spend": _money(r["spend"]), "revenue": _money(r["revenue"]),
                                    "roas": _ratio(r["revenue"], r["spend"])}
                for r in sorted(self.channels, key=lambda r: str(r["channel"])) if r["channel"] is not None
            },
        }

    def tiles(self) -> dict[str, float | None]:
        """The tiles' values (before their comparison)."""
        return {
            "blended_roas": _ratio(self.revenue, self.spend),
            "mer": None if not self.revenue else round(self.spend / self.revenue * 100.0, 1),
            "new_customer_revenue": _money(self.store["new_customer_revenue"]),
            "profit": _money(self.profit),
        }


TILE_UNITS = {"blended_roas": "ratio", "mer": "percent", "new_customer_revenue": "money", "profit": "money"}


def totals(warehouse: Warehouse, brand_id: str, period: Period, attribution_model: str) -> Totals:
    """A period's figures from ``unified_performance`` and ``orders``."""
    params = _window(brand_id, period, attribution_model)
    store = _read(warehouse, "store_revenue", params)
    return Totals(_read(warehouse, "range_totals", params),
                  store[0] if store else {"revenue": 0.0, "orders": 0, "new_customer_revenue": 0.0})


def _snapshot_changes(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    def three(a: Mapping[str, Any], b: Mapping[str, Any], spend: str, revenue: str, roas: str) -> dict[str, Any]:
        return {"spend_pct": _pct_change(a[spend], b[spend]), "revenue_pct": _pct_change(a[revenue], b[revenue]),
                "roas_pct": _pct_change(a[roas], b[roas])}

    return {
        **three(now, before, "total_spend", "total_revenue", "blended_roas"),
        "by_channel": {ch: three(fig, before["by_channel"].get(ch) or {"spend": 0, "revenue": 0, "roas": None},
                                 "spend", "revenue", "roas")
                       for ch, fig in now["by_channel"].items()},
    }


def range_dashboard(warehouse: Warehouse, brand_id: str, chosen: Range, *, attribution_model: str,
                    currency: str) -> dict[str, Any]:
    """The dashboard's ``performance_snapshot`` and ``tiles`` for a chosen range and its comparison."""
    now = totals(warehouse, brand_id, chosen.period, attribution_model)
    before = totals(warehouse, brand_id, chosen.comparison, attribution_model) if chosen.comparison else None
    snap = now.snapshot()
    prev_snap = before.snapshot() if before else None
    performance = {
        "as_of_date": chosen.period.last_day.isoformat(), "period_days": chosen.period.days, "currency": currency,
        **snap, "previous_week": prev_snap,
        "changes": _snapshot_changes(snap, prev_snap) if prev_snap else None,
    }
    return {"performance_snapshot": performance, "tiles": tiles(now, before)}


def tiles(now: Totals, before: Totals | None) -> dict[str, dict[str, Any]]:
    """Each tile's value, the comparison's value, the change in percent and its unit."""
    values, previous = now.tiles(), before.tiles() if before else {}
    return {name: {"value": value, "previous": previous.get(name),
                   "change_pct": _pct_change(value, previous.get(name)), "unit": TILE_UNITS[name]}
            for name, value in values.items()}


def _days(period: Period) -> list[date]:
    return [period.start + timedelta(days=i) for i in range(period.days)]


def _day_rows(rows: Iterable[Mapping[str, Any]], period: Period) -> list[dict[str, Any]]:
    """Every day of the period (zero-filled) with the summed figures of ``rows``."""
    by_day: dict[date, dict[str, float]] = {d: {"spend": 0.0, "revenue": 0.0, "orders": 0.0} for d in _days(period)}
    for r in rows:
        day = by_day.get(r["day"])
        if day is not None:
            for k in ("spend", "revenue", "orders"):
                day[k] += float(r[k] or 0)
    return [{"date": d.isoformat(), "spend": _money(v["spend"]), "revenue": _money(v["revenue"]),
             "orders": round(v["orders"], 1), "roas": _ratio(v["revenue"], v["spend"])}
            for d, v in by_day.items()]


def daily_series(warehouse: Warehouse, brand_id: str, chosen: Range, *, metric: str, channel: str,
                 attribution_model: str) -> dict[str, Any]:
    """The chart's days: one metric per channel (``series``), and every figure of all channels summed
    (``days``, ``compare_days``), every day of the range present.

    Long because: the ``series`` and the summed ``days`` are two views of the same read.
    """
    params = {**_window(brand_id, chosen.period, attribution_model), "channel": channel}
    rows = _read(warehouse, "daily_series", params)
    channels = sorted({str(r["channel"]) for r in rows} | ({channel} if channel else set()))
    series = {ch: [{"date": d["date"], "value": d[metric]}
                   for d in _day_rows((r for r in rows if r["channel"] == ch), chosen.period)]
              for ch in channels}
    out: dict[str, Any] = {"metric": metric, "series": series, "days": _day_rows(rows, chosen.period),
                           "compare_days": []}
    if chosen.comparison is not None:
        cparams = {**_window(brand_id, chosen.comparison, attribution_model), "channel": channel}
        out["compare_days"] = _day_rows(_read(warehouse, "daily_series", cparams), chosen.comparison)
    return out


def range_drilldown(warehouse: Warehouse, brand_id: str, channel: str, period: Period, *,
                    attribution_model: str, top: int = 5) -> dict[str, Any]:
    """A channel's ``performance`` (with ``by_geo``) and ``top_campaigns`` over a chosen period."""
    params = {**_window(brand_id, period, attribution_model), "channel": channel, "row_limit": top}
    geo = _read(warehouse, "channel_geo", params)
    campaigns = _read(warehouse, "channel_campaigns", params)
    spend = sum(float(r["spend"] or 0) for r in geo)
    revenue = sum(float(r["revenue"] or 0) for r in geo)
    return {
        "performance": {"total_spend": _money(spend), "total_revenue": _money(revenue), "roas": _ratio(revenue, spend),
                        "by_geo": {str(r["geo"]): {"spend": _money(r["spend"]), "revenue": _money(r["revenue"]),
                                                   "roas": _ratio(r["revenue"], r["spend"])} for r in geo}},
        "top_campaigns": [{"id": r["campaign_id"], "name": r["campaign_name"], "spend": _money(r["spend"]),
                           "roas": _ratio(r["revenue"], r["spend"])} for r in campaigns],
    }


# --- the models' own view of the latest week -----------------------------------------------------------


def _pct(x: Any) -> float | None:
    """A stored fraction as a percent with one decimal."""
    return None if x is None else round(100 * float(x), 1)


def _changes(row: Mapping[str, Any] | None) -> dict[str, float | None]:
    if row is None:
        return {"spend_pct": None, "revenue_pct": None, "roas_pct": None}
    return {"spend_pct": _pct(row["spend_change_pct"]), "revenue_pct": _pct(row["revenue_change_pct"]),
            "roas_pct": _pct(row["roas_change_pct"])}


def performance(warehouse: Warehouse, brand_id: str, today: date) -> dict[str, Any]:
    """The default dashboard's ``performance_snapshot``: this period, the one before and the changes.

    Read from the models' ``performance_snapshots`` of the latest as-of day built before ``today``
    (the plan's shape, plus ``previous_week`` and ``changes`` in percent).
    """
    as_of = latest_as_of(warehouse, brand_id, today)
    rows = [] if as_of is None else warehouse.rows(SNAPSHOT_SQL, {"brand_id": brand_id, "as_of_date": as_of})
    blended = next((r for r in rows if r["scope"] == "blended"), None)
    has_previous = blended is not None and blended["prev_spend_amount"] is not None
    return {
        "as_of_date": as_of.isoformat() if as_of else None,
        "period_days": int(blended["period_days"]) if blended else None,
        "currency": blended["currency"] if blended else None,
        **performance_snapshot(rows),
        "previous_week": performance_snapshot(rows, previous=True) if has_previous else None,
        "changes": {
            **_changes(blended),
            "by_channel": {r["channel"]: _changes(r) for r in sorted(rows, key=lambda r: str(r["channel"]))
                           if r["scope"] == "channel"},
        } if blended is not None else None,
    }


def empty_drilldown(channel: str) -> dict[str, Any]:
    """The drilldown of a brand whose models were never built."""
    return {"channel": channel, "as_of_date": None,
            "performance": {"total_spend": 0.0, "total_revenue": 0.0, "roas": None, "by_geo": {}},
            "top_campaigns": [], "inventory_alignment": {"products_promoted": [], "mismatches": []}}
