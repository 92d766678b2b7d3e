"""The Q&A's channel_performance reads the dashboard's query and takes its total row from ranges.Totals.

A hand-made Chicago store, Monday 6 May 2024: Meta's m1 spent $50 and Google's g1 $30. Orders: utm m1 $100,
utm g1 $60, a Klaviyo e-mail $40. By hand: spend $80, store revenue $200 (ads $160), blended ROAS 2.5;
Meta $100 on $50 (2.0), Google $60 on $30 (2.0).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tower import sql as sqlfiles
from tower.ai.qa import NAMED_QUERIES, ToolRunner
from tower.analytics import ranges
from tower.config import Settings
from tower.periods import custom


def test_channel_rows_and_their_total_are_the_dashboards(shop) -> None:
    shop.campaign("meta", "m1", products=("p1",))
    shop.campaign("google_ads", "g1", products=("p1",))
    monday = date(2024, 5, 6)
    shop.spend("meta", "m1", monday, 50.0, purchases=2)
    shop.spend("google_ads", "g1", monday, 30.0, purchases=1)
    at = datetime(2024, 5, 6, 17, 0, tzinfo=UTC)
    shop.order(at, revenue=100.0, utm_campaign="m1", utm_source="facebook", utm_medium="paid_social")
    shop.order(at, revenue=60.0, utm_campaign="g1", utm_source="google", utm_medium="cpc")
    shop.order(at, revenue=40.0, utm_source="klaviyo", utm_medium="email")
    shop.build(date(2024, 5, 6), date(2024, 5, 13))
    settings = Settings()

    runner = ToolRunner(shop.warehouse, settings, shop.brand_id)
    rows, is_error = runner.run("channel_performance", {"start_date": "2024-05-06", "end_date": "2024-05-13"})
    assert not is_error
    assert [(r["channel"], r["spend"], r["revenue"], r["ad_revenue"], r["roas"]) for r in rows] == [
        ("meta", 50.0, 100.0, None, 2.0), ("google_ads", 30.0, 60.0, None, 2.0), ("total", 80.0, 200.0, 160.0, 2.5)]
    # one query and one rule: the dashboard's range totals file, and the snapshot's figures
    assert runner.log[0]["sql"] == sqlfiles.load("queries/api/range_totals.sql") == NAMED_QUERIES["channel_performance"].sql
    snap = ranges.totals(shop.warehouse, shop.brand_id, custom(date(2024, 5, 6), date(2024, 5, 13)),
                         settings.attribution_model).snapshot()
    total = rows[-1]
    assert (total["spend"], total["revenue"], total["ad_revenue"], total["roas"]) == (
        snap["total_spend"], snap["total_revenue"], snap["attributed_revenue"], snap["blended_roas"])
    assert not (sqlfiles.SQL_DIR / "queries" / "qa" / "channel_performance.sql").exists()


def test_a_period_without_data_reads_zero_as_the_dashboard_does(shop) -> None:
    shop.build(date(2024, 5, 6), date(2024, 5, 13))
    runner = ToolRunner(shop.warehouse, Settings(), shop.brand_id)
    rows, _ = runner.run("channel_performance", {"start_date": "2024-05-06", "end_date": "2024-05-07"})
    assert rows == [{"channel": "total", "spend": 0.0, "revenue": 0.0, "ad_revenue": 0.0, "orders": 0.0,
                     "profit": 0.0, "roas": None}]
