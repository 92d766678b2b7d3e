"""The dashboard's performance_snapshot and the channel drilldown, in the product plan's JSON shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tower.analytics.snapshots import (
    SNAPSHOT_SQL,
    channel_drilldown,
    performance_snapshot,
    weekly_performance,
)

AS_OF = date(2024, 5, 14)  # current week: May 8-14, previous: May 1-7


def _two_weeks(shop) -> None:
    """TikTok: 2.8x then 2.1x (the plan's alert numbers); Meta steady at 4.2x; an unattributed $100 order."""
    shop.campaign("meta", "m1", name="Winter Sale - TX")
    shop.campaign("tiktok", "t1", name="Spark CA+TX")
    for week, (tiktok_revenue, tiktok_spend) in enumerate(((280.0, 100.0), (210.0, 100.0))):
        day = date(2024, 5, 3) + timedelta(days=7 * week)
        shop.spend("meta", "m1", day, 100.0)
        shop.spend("tiktok", "t1", day, tiktok_spend, region="US-CA")
        at = datetime(day.year, day.month, day.day, 20, tzinfo=UTC)
        shop.order(at, revenue=420.0, utm_campaign="m1")
        shop.order(at, revenue=tiktok_revenue, utm_campaign="t1", region="US-CA")
    shop.order(datetime(2024, 5, 12, 20, tzinfo=UTC), revenue=100.0, region="US-WY")


def test_performance_snapshot_shape_and_numbers(shop) -> None:
    _two_weeks(shop)
    shop.build(date(2024, 5, 1), AS_OF + timedelta(days=1))
    rows = shop.warehouse.rows(SNAPSHOT_SQL, {"brand_id": shop.brand_id, "as_of_date": AS_OF})

    snap = performance_snapshot(rows)
    assert snap == {
        "total_spend": 200.0,
        "total_revenue": 730.0,  # all store revenue, the unattributed order included
        "blended_roas": 3.65,
        "by_channel": {
            "meta": {"spend": 100.0, "revenue": 420.0, "roas": 4.2},
            "tiktok": {"spend": 100.0, "revenue": 210.0, "roas": 2.1},
        },
    }
    weekly = weekly_performance(rows)
    assert weekly["previous_week"]["by_channel"]["tiktok"] == {"spend": 100.0, "revenue": 280.0, "roas": 2.8}
    (tiktok,) = [r for r in rows if r["scope"] == "channel" and r["channel"] == "tiktok"]
    assert tiktok["roas_change_pct"] == pytest.approx(-0.25)  # "TikTok ROAS dropped 25%"
    assert tiktok["spend_change_pct"] == pytest.approx(0.0)
    assert {r["scope"] for r in rows} == {"blended", "channel", "region", "channel_region"}


def test_channel_drilldown_shape(shop) -> None:
    _two_weeks(shop)
    shop.campaign("tiktok", "t1", products=("p1",))
    shop.stock("p1", AS_OF, 2)  # 3 sold over 10 in-stock days: 2 units = 6.7 days
    for back in range(1, 10):
        shop.stock("p1", AS_OF - timedelta(days=back), 50)
    shop.build(date(2024, 5, 1), AS_OF + timedelta(days=1))

    body = channel_drilldown(shop.warehouse, shop.brand_id, "tiktok", AS_OF)
    assert body["channel"] == "tiktok"
    assert body["performance"] == {"total_spend": 100.0, "total_revenue": 210.0, "roas": 2.1,
                                   "by_geo": {"US-CA": {"spend": 100.0, "revenue": 210.0, "roas": 2.1}}}
    assert body["top_campaigns"] == [{"id": "t1", "name": "Spark CA+TX", "spend": 100.0, "roas": 2.1}]
    assert body["inventory_alignment"]["products_promoted"] == ["p1"]
    (mismatch,) = body["inventory_alignment"]["mismatches"]
    assert (mismatch["product"], mismatch["issue"], mismatch["region"]) == ("p1", "overspending_low_stock", "US-CA")
