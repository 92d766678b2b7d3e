"""Date ranges, comparisons, tiles and the daily series (issue 16), on a literal two-day brand worked by hand.

The brand ``two-day`` (New York; the app's today is 2026-11-23) has, under the runtime's attribution model:

=============  =========  =====  =======  ======  ======
day            channel    spend  revenue  orders  profit
=============  =========  =====  =======  ======  ======
2026-11-20     meta       100    300      3       50
2026-11-21     meta       50     0        0       -60
2026-11-21     tiktok     50     200      2       40
2026-11-21     (none)     —      100      1       30
=============  =========  =====  =======  ======  ======

and orders (net revenue): customer A on 11-10 (80, before the range) and 11-20 (200), customer B on
11-20 (300, their first) and 11-21 (100), one order without a customer on 11-21 (200).

Over ``[2026-11-20, 2026-11-22)``: spend 200, attributed revenue 500 → blended ROAS 2.5; store revenue
800 → MER 4.0; new-customer revenue 300 (B's first order; A had ordered on 11-10); profit
50 − 60 + 40 + 30 = 60.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from api_seed import BRAND, bearer
from flask.testing import FlaskClient

from tower import sql as sqlfiles
from tower.api.auth import create_api_key
from tower.runtime import Runtime

TWO = "two-day"
RANGE = "start=2026-11-20&end=2026-11-22"


def _perf(rt: Runtime, day: int, channel: str | None, spend: float | None, revenue: float, orders: float,
          profit: float) -> dict[str, Any]:
    return {"brand_id": TWO, "performance_date": date(2026, 11, day), "attribution_model": rt.settings.attribution_model,
            "channel": channel, "campaign_id": f"{channel}-1" if channel else None,
            "campaign_name": f"{channel} prospecting" if channel else None, "country_code": "US",
            "region_code": "US-CA" if channel == "meta" else "US-TX", "currency": "USD", "spend_amount": spend,
            "attributed_revenue_amount": revenue, "attributed_orders": orders, "profit_amount": profit}


def _order(n: int, day: int, customer: str | None, net: float) -> dict[str, Any]:
    return {"brand_id": TWO, "order_id": f"gid://shopify/Order/{n}", "order_date": date(2026, 11, day),
            "created_at": datetime(2026, 11, day, 17, tzinfo=UTC), "currency": "USD", "net_revenue_amount": net,
            "customer_hash": customer}


@pytest.fixture
def two_day(runtime: Runtime) -> str:
    """Seeds the two-day brand; returns a key for it."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    wh = runtime.warehouse
    wh.merge("brands", [{"brand_id": TWO, "brand_name": "Two Day", "timezone": "America/New_York", "currency": "USD",
                         "agency_id": None, "created_at": now, "updated_at": now}], ["brand_id"])
    wh.insert("unified_performance", [_perf(runtime, 20, "meta", 100, 300, 3, 50),
                                      _perf(runtime, 21, "meta", 50, 0, 0, -60),
                                      _perf(runtime, 21, "tiktok", 50, 200, 2, 40),
                                      _perf(runtime, 21, None, None, 100, 1, 30)])
    wh.insert("orders", [_order(1, 10, "A", 80), _order(2, 20, "A", 200), _order(3, 20, "B", 300),
                         _order(4, 21, "B", 100), _order(5, 21, None, 200)])
    return create_api_key(runtime.store, brand_ids=[TWO], name="two-day")


@pytest.fixture
def get(client: FlaskClient, two_day: str) -> Any:
    def _get(path: str) -> tuple[int, Any]:
        r = client.get(path, headers=bearer(two_day))
        return r.status_code, r.json

    return _get


def test_tiles_and_snapshot_of_a_chosen_range_are_the_hand_worked_figures(get: Any) -> None:
    status, body = get(f"/api/brands/{TWO}/dashboard?{RANGE}&compare=previous_period")
    assert status == 200, body
    tiles = body["tiles"]
    # all the store's revenue (the channels' 500 and the 100 no campaign earned) over all spend: 600 / 200
    assert tiles["blended_roas"] == {"value": 3.0, "previous": None, "change_pct": None, "unit": "ratio"}
    assert tiles["mer"] == {"value": 33.3, "previous": None, "change_pct": None, "unit": "percent"}  # 200 / 600
    assert tiles["new_customer_revenue"]["value"] == 300.0
    assert tiles["profit"]["value"] == 60.0
    snap = body["performance_snapshot"]
    assert (snap["total_spend"], snap["total_revenue"], snap["blended_roas"]) == (200.0, 600.0, 3.0)
    assert snap["attributed_revenue"] == 500.0
    assert snap["by_channel"] == {"meta": {"spend": 150.0, "revenue": 300.0, "roas": 2.0},
                                  "tiktok": {"spend": 50.0, "revenue": 200.0, "roas": 4.0}}
    assert snap["period_days"] == 2 and snap["as_of_date"] == "2026-11-21"
    assert body["range"]["period"] == {"name": "custom", "start_date": "2026-11-20", "end_date": "2026-11-22",
                                       "last_day": "2026-11-21", "days": 2,
                                       "label": "the period (Nov 20 – Nov 21, 2026)"}
    assert body["range"]["comparison"]["start_date"] == "2026-11-18"
    assert body["range"]["comparison"]["end_date"] == "2026-11-20"
    flat = {k: v for k, v in body["range"].items() if k not in ("period", "comparison")}
    assert flat == {"start": "2026-11-20", "end": "2026-11-22", "last_day": "2026-11-21",
                    "label": "the period (Nov 20 – Nov 21, 2026)", "compare": "previous_period",
                    "compare_start": "2026-11-18", "compare_end": "2026-11-20",
                    "compare_label": "the 2 days before (Nov 18 – Nov 19, 2026)"}


def test_the_comparison_is_the_other_period_and_its_changes(get: Any) -> None:
    # 11-21 alone against 11-20 alone: spend 100 vs 100, store revenue 0 + 200 + 100 = 300 vs 300
    status, body = get(f"/api/brands/{TWO}/dashboard?start=2026-11-21&end=2026-11-22")
    assert status == 200, body
    snap = body["performance_snapshot"]
    assert snap["previous_week"]["total_revenue"] == 300.0 and snap["total_revenue"] == 300.0
    assert snap["changes"]["revenue_pct"] == 0.0
    assert snap["changes"]["spend_pct"] == 0.0
    # attributed: 200 on 11-21 against 300 on 11-20
    assert (snap["attributed_revenue"], snap["previous_week"]["attributed_revenue"]) == (200.0, 300.0)
    assert body["tiles"]["mer"] == {"value": 33.3, "previous": 33.3, "change_pct": 0.0, "unit": "percent"}
    # B's first order was on 11-20: nothing new on 11-21
    assert body["tiles"]["new_customer_revenue"]["value"] == 0.0
    assert body["tiles"]["new_customer_revenue"]["previous"] == 300.0


def test_compare_none_and_previous_year(get: Any) -> None:
    _, body = get(f"/api/brands/{TWO}/dashboard?{RANGE}&compare=none")
    assert body["range"]["comparison"] is None
    assert body["performance_snapshot"]["previous_week"] is None and body["performance_snapshot"]["changes"] is None
    _, body = get(f"/api/brands/{TWO}/dashboard?{RANGE}&compare=previous_year")
    assert body["range"]["comparison"]["start_date"] == "2025-11-20"
    assert body["range"]["comparison"]["name"] == "previous_year"


def test_a_named_period_is_resolved_by_the_vocabulary(get: Any) -> None:
    status, body = get(f"/api/brands/{TWO}/dashboard?period=last_week")
    assert status == 200
    assert body["range"]["period"]["name"] == "last_week"
    assert body["range"]["period"]["label"] == "last week (Nov 16 – Nov 22, 2026)"
    assert body["tiles"]["blended_roas"]["value"] == 3.0  # the two days are all the data


@pytest.mark.parametrize(("query", "named"), [
    ("start=2026-11-32&end=2026-12-01", "start"),
    ("start=2026-11-20&end=soon", "end"),
    ("start=2026-11-20", "end"),
    ("start=2026-11-21&end=2026-11-21", "end"),
    ("start=2025-01-01&end=2026-11-20", "end"),
    ("start=2026-11-20&end=2026-11-25", "today"),
    ("period=last_fortnight", "period"),
    ("period=last_week&start=2026-11-20&end=2026-11-21", "period"),
    ("compare=last_decade", "compare"),
    ("start_date=2026-11-20", "start_date"),
])
def test_bad_ranges_are_400s_naming_the_parameter(get: Any, query: str, named: str) -> None:
    status, body = get(f"/api/brands/{TWO}/dashboard?{query}")
    assert status == 400, body
    assert named in body["error"]["message"]
    assert body["error"]["code"] in ("bad_parameter", "unknown_parameter")


def test_unknown_parameters_are_refused_on_other_gets(get: Any) -> None:
    status, body = get(f"/api/brands/{TWO}/alerts?status=open&sort=new")
    assert (status, body["error"]["code"]) == (400, "unknown_parameter")
    assert "sort" in body["error"]["message"]


def test_series_has_every_day_per_channel(get: Any) -> None:
    status, body = get(f"/api/brands/{TWO}/series?metric=spend&{RANGE}")
    assert status == 200, body
    assert body["series"] == {"meta": [{"date": "2026-11-20", "value": 100.0}, {"date": "2026-11-21", "value": 50.0}],
                              "tiktok": [{"date": "2026-11-20", "value": 0.0}, {"date": "2026-11-21", "value": 50.0}]}
    assert body["days"] == [
        {"date": "2026-11-20", "spend": 100.0, "revenue": 300.0, "orders": 3.0, "roas": 3.0},
        {"date": "2026-11-21", "spend": 100.0, "revenue": 200.0, "orders": 2.0, "roas": 2.0},
    ]
    assert [d["date"] for d in body["compare_days"]] == ["2026-11-18", "2026-11-19"]
    assert body["currency"] == "USD"


def test_series_of_one_channel_and_metric_roas(get: Any) -> None:
    _, body = get(f"/api/brands/{TWO}/series?metric=roas&channel=meta&{RANGE}&compare=none")
    assert body["series"] == {"meta": [{"date": "2026-11-20", "value": 3.0}, {"date": "2026-11-21", "value": 0.0}]}
    assert body["compare_days"] == []
    status, body = get(f"/api/brands/{TWO}/series?metric=clicks")
    assert (status, body["error"]["code"]) == (400, "bad_parameter") and "metric" in body["error"]["message"]


def test_drilldown_over_a_range(get: Any) -> None:
    status, body = get(f"/api/brands/{TWO}/drilldown/channel/meta?{RANGE}")
    assert status == 200, body
    assert body["performance"] == {"total_spend": 150.0, "total_revenue": 300.0, "roas": 2.0,
                                   "by_geo": {"US-CA": {"spend": 150.0, "revenue": 300.0, "roas": 2.0}}}
    assert body["top_campaigns"] == [{"id": "meta-1", "name": "meta prospecting", "spend": 150.0, "roas": 2.0}]
    assert body["comparison_performance"]["total_spend"] == 0.0
    assert body["range"]["period"]["days"] == 2


def test_default_dashboard_keeps_the_cached_snapshot_and_names_its_range(client: FlaskClient,
                                                                          keys: dict[str, str]) -> None:
    body: Any = client.get(f"/api/brands/{BRAND}/dashboard", headers=bearer(keys["agency"])).json
    assert body["range"]["period"]["name"] == "last_week"
    assert body["range"]["compare"] == "previous_period"
    assert set(body["tiles"]) == {"blended_roas", "mer", "new_customer_revenue", "profit"}


@pytest.mark.parametrize("name", ["range_totals", "store_revenue", "daily_series", "channel_geo", "channel_campaigns"])
def test_range_queries_are_bigquery_and_filter_the_partition(name: str) -> None:
    text = sqlfiles.load(f"queries/api/{name}.sql")
    assert len(sqlfiles.parse_bigquery(text)) == 1
    column = "order_date" if name == "store_revenue" else "performance_date"
    assert f"{column} < @end_date" in text and "brand_id = @brand_id" in text
