"""unified_performance: spend allocated to products, carts credited to promoted products, stock by region."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

DAY = date(2024, 5, 9)
WINDOW = (date(2024, 5, 1), date(2024, 5, 12))


def by_product(shop, where: str = "TRUE", **params) -> dict[str | None, dict]:
    out: dict[str | None, dict] = {}
    for r in shop.rows("unified_performance", where, **params):
        acc = out.setdefault(r["product_id"], {"spend": 0.0, "revenue": 0.0, "units": 0.0, "alloc": set()})
        acc["spend"] += float(r["spend_amount"])
        acc["revenue"] += float(r["attributed_revenue_amount"])
        acc["units"] += r["attributed_units"]
        if r["spend_allocation"]:
            acc["alloc"].add(r["spend_allocation"])
    return out


def test_a_promoting_campaigns_cart_is_credited_to_its_products(shop) -> None:
    """An ad for the candle sold a candle and a vase: the whole $100 cart is the candle ad's return."""
    shop.campaign("meta", "candle-ad", products=("candle", "soap"))
    shop.spend("meta", "candle-ad", DAY, 25.0)
    shop.order(datetime(2024, 5, 9, 20, tzinfo=UTC), {"candle": 1, "vase": 1}, revenue=100.0,
               prices={"candle": 20.0, "vase": 80.0}, utm_campaign="candle-ad")
    shop.order(datetime(2024, 5, 9, 21, tzinfo=UTC), {"vase": 1}, revenue=60.0, utm_campaign="candle-ad")
    shop.build(*WINDOW)
    got = by_product(shop, "channel = 'meta'")
    # the vase-only order holds none of the promoted products: it is split equally over candle and soap
    assert got["candle"]["revenue"] == pytest.approx(100.0 + 30.0)
    assert got["soap"]["revenue"] == pytest.approx(30.0)
    assert "vase" not in got
    assert got["candle"]["units"] == pytest.approx(2 + 0.5)  # the carts' units follow their revenue
    # the day's spend follows what it earned, on the products it promotes
    assert got["candle"]["spend"] == pytest.approx(25.0 * 130 / 160)
    assert got["soap"]["spend"] == pytest.approx(25.0 * 30 / 160)


def test_spend_follows_the_revenue_that_days_touch_earned(shop) -> None:
    """Spend on the 7th earned the order of the 9th (its last touch): the 7th's spend goes to that order's
    products; the 8th earned nothing: both campaigns keep that day's spend whole on product NULL ('unsplit'),
    one row per campaign x region x day (readers split it over their window: rules/window_spend.sql)."""
    shop.spend("google_ads", "broad", date(2024, 5, 7), 40.0)
    shop.spend("google_ads", "broad", date(2024, 5, 8), 10.0, region="US-CA")
    shop.campaign("meta", "kit", products=("a", "b"))
    shop.spend("meta", "kit", date(2024, 5, 8), 30.0, region="US-NY")
    shop.order(datetime(2024, 5, 9, 20, tzinfo=UTC), {"mug": 1, "cup": 3}, revenue=40.0)
    shop.build(*WINDOW)

    on_7th = by_product(shop, "performance_date = @d", d=date(2024, 5, 7))
    assert {k: v["spend"] for k, v in on_7th.items()} == pytest.approx({"mug": 10.0, "cup": 30.0})
    assert all(v["alloc"] == {"revenue_share"} for v in on_7th.values())
    on_8th = by_product(shop, "performance_date = @d", d=date(2024, 5, 8))
    assert set(on_8th) == {None} and on_8th[None]["alloc"] == {"unsplit"}
    assert on_8th[None]["spend"] == pytest.approx(10.0 + 30.0)
    rows_8th = shop.rows("unified_performance", "performance_date = @d", d=date(2024, 5, 8))
    assert sorted((r["campaign_id"], r["region_code"]) for r in rows_8th) == [("broad", "US-CA"), ("kit", "US-NY")]
    total = math.fsum(float(r["spend_amount"]) for r in shop.rows("unified_performance"))
    assert total == pytest.approx(80.0)  # nothing dropped
    revenue = math.fsum(float(r["attributed_revenue_amount"]) for r in shop.rows("unified_performance"))
    assert revenue == pytest.approx(40.0)


def test_stock_and_cover_are_the_serving_locations(shop) -> None:
    shop.region("US-TX", location="dallas")
    shop.region("US-CA", location="reno")
    for back in range(10):
        day = DAY - timedelta(days=back)
        shop.stock("mug", day, 300, location="dallas")
        shop.stock("mug", day, 12, location="reno")
        shop.order(datetime(day.year, day.month, day.day, 20, tzinfo=UTC), {"mug": 3}, region="US-TX")
        shop.order(datetime(day.year, day.month, day.day, 21, tzinfo=UTC), {"mug": 2}, region="US-CA")
    shop.spend("meta", "m", DAY, 10.0, region="US-TX")
    shop.spend("meta", "m", DAY, 10.0, region="US-CA")
    shop.build(*WINDOW)
    rows = {r["region_code"]: r for r in shop.rows(
        "unified_performance", "performance_date = @d AND channel = 'meta' AND product_id = 'mug'", d=DAY)}
    assert (rows["US-TX"]["location_id"], rows["US-TX"]["stock_level"]) == ("dallas", 300)
    assert rows["US-TX"]["days_of_cover"] == pytest.approx(100.0)  # 300 / 3 a day
    assert (rows["US-CA"]["location_id"], rows["US-CA"]["stock_level"]) == ("reno", 12)
    assert rows["US-CA"]["days_of_cover"] == pytest.approx(6.0)
