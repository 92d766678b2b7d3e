"""The dashboard cache's views do not depend on the order the warehouse returns rows in.

Pub/Sub redelivers and reorders the loads (the reliability harness's R2), so a rebuilt mart can hold
the same rows in another physical order. Here the marts the views read are rewritten in reverse and
the views computed again: they must be identical. The brand has what makes order show: campaigns
whose spend ties (equal figures, and none at all), and amounts whose float sums differ in their last
bits when added in another order (0.1 + 0.2 + 0.3).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.analytics import dashboard_cache, ranges

START, END = date(2024, 3, 1), date(2024, 3, 15)
MARTS = ("unified_performance", "inventory_alignment", "performance_snapshots", "days_of_cover")


def _reverse(warehouse: DuckDBWarehouse, table: str) -> None:
    """Write a table's rows back in reverse order (same rows, another physical order)."""
    rows = warehouse.rows(f"SELECT * FROM {table}")
    warehouse.execute(f"DELETE FROM {table}")
    warehouse.insert(table, list(reversed(rows)))


def _views(warehouse: DuckDBWarehouse, shop: Any) -> dict[str, Any]:
    key = dashboard_cache.CacheKey.of(END, attribution_model="last_touch", snapshot_period_days=7)
    return dashboard_cache.compute(warehouse, shop.brand_id, key, currency=shop.currency)


def _brand(shop: Any) -> None:
    """Ties and float-unfriendly amounts (see the module docstring), built."""
    for region in ("US-TX", "US-CA", "US-NY"):
        shop.region(region)
    shop.product("candle", price=20.0)
    shop.daily_stock("candle", START, END, 3)
    # three campaigns with the same spend every day (and one with none): the drilldown's top list ties
    for cid in ("c-3", "c-1", "c-2"):
        shop.campaign("meta", cid, products=("candle",))
    shop.campaign("meta", "c-0", products=("candle",))
    day = START
    while day < END:
        for cid in ("c-3", "c-1", "c-2"):
            for region, amount in (("US-TX", 0.1), ("US-CA", 0.2), ("US-NY", 0.3)):
                shop.spend("meta", cid, day, amount, region=region)
        shop.spend("meta", "c-0", day, 0.0)
        shop.order(datetime.combine(day, time(12), UTC), {"candle": 1}, revenue=20.0, utm_source="facebook",
                   utm_medium="paid", utm_campaign="c-1")
        day += timedelta(days=1)
    shop.build(START, END)


def _raw_totals(warehouse: DuckDBWarehouse, shop: Any) -> list[dict[str, Any]]:
    """The range queries' figures before any rounding: the channel totals and the daily series rows."""
    period = ranges.default_range(END).period
    return [*ranges.totals(warehouse, shop.brand_id, period, "last_touch").channels,
            *ranges.daily_series(warehouse, shop.brand_id, ranges.default_range(END), metric="spend", channel="",
                                 attribution_model="last_touch")["days"]]


def test_range_sums_are_exact_whatever_order_the_rows_are_in(warehouse: DuckDBWarehouse, shop: Any) -> None:
    # a FLOAT64 sum of 0.1, 0.2 and 0.3 differs in its last bits by order; rounded to cents it can still
    # land either side of a half cent, so the sums must be exact before any rounding
    _brand(shop)
    before = _raw_totals(warehouse, shop)
    assert sum(float(r["spend"] or 0) for r in before[:4]) > 0
    _reverse(warehouse, "unified_performance")
    assert _raw_totals(warehouse, shop) == before


def test_views_are_the_same_whatever_order_the_marts_rows_are_in(warehouse: DuckDBWarehouse, shop: Any) -> None:
    _brand(shop)
    before = _views(warehouse, shop)
    assert [c["id"] for c in before["drilldowns"]["meta"]["top_campaigns"]] == ["c-1", "c-2", "c-3"]

    for table in MARTS:
        _reverse(warehouse, table)
    assert _views(warehouse, shop) == before
