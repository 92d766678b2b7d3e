"""inventory_alignment over its window: whose spend is whose, and where country-only spend earns its revenue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

D = date(2024, 3, 30)  # the as-of day
WINDOW = (D - timedelta(days=29), D + timedelta(days=1))


def _at(day: date, hour: int = 18) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _region_rows(shop, product: str) -> list[dict]:
    return shop.rows("inventory_alignment", "level = 'product_channel_region' AND as_of_date = @d AND product_id = @p",
                     d=D, p=product)


def test_a_campaign_spends_on_its_products_by_what_each_earned_over_the_window(shop) -> None:
    """$100 a day for 10 days on two promoted products; three $100 orders of the first, one of the second.

    Day by day, the days that earned nothing keep their spend whole on product NULL; over the window the
    alignment model splits the campaign's $1,000 in Texas by revenue (rules/window_spend.sql): $750 and $250.
    """
    shop.campaign("meta", "pair", products=("p1", "p2"))
    for back in range(10):
        shop.spend("meta", "pair", D - timedelta(days=back), 100.0, region="US-TX")
    for day, product in ((D - timedelta(days=8), "p1"), (D - timedelta(days=8), "p1"), (D - timedelta(days=2), "p1"),
                         (D - timedelta(days=2), "p2")):
        shop.order(_at(day), {product: 1}, revenue=100.0, region="US-TX")
    shop.campaign("meta", "idle", products=("p3", "p4"))
    shop.spend("meta", "idle", D - timedelta(days=1), 200.0, region="US-TX")
    shop.build(*WINDOW)

    (p1,) = _region_rows(shop, "p1")
    (p2,) = _region_rows(shop, "p2")
    assert float(p1["spend_amount"]) == pytest.approx(750.0)
    assert float(p2["spend_amount"]) == pytest.approx(250.0)
    assert p1["roas"] == pytest.approx(300 / 750) and p2["roas"] == pytest.approx(100 / 250)
    # the day-level mart splits only the days that earned (the rest on product NULL) and keeps its total
    daily = {r["product_id"]: float(r["s"]) for r in shop.warehouse.rows(
        "SELECT product_id, SUM(spend_amount) AS s FROM unified_performance WHERE brand_id = @b "
        "AND attribution_model = 'last_touch' AND campaign_id = 'pair' GROUP BY product_id", {"b": shop.brand_id})}
    assert sum(daily.values()) == pytest.approx(1000.0)
    assert daily["p1"] != pytest.approx(750.0)
    # a campaign that earned nothing over the window spreads equally over its promoted products
    assert [float(r["spend_amount"]) for r in _region_rows(shop, "p3") + _region_rows(shop, "p4")] == [100.0, 100.0]
    # the product level sums the same split, its share of all $1,200
    product = {r["product_id"]: r for r in shop.rows("inventory_alignment", "level = 'product' AND as_of_date = @d",
                                                     d=D)}
    assert float(product["p1"]["spend_amount"]) == pytest.approx(750.0)
    assert product["p1"]["spend_share"] == pytest.approx(750 / 1200)


def test_country_only_spend_earns_the_revenue_of_its_countrys_regions(shop) -> None:
    """Google reports a country target's spend at country level; its orders still carry their state."""
    shop.campaign("google_ads", "country", products=("sock",))
    shop.spend("google_ads", "country", D - timedelta(days=3), 400.0, region="")
    for region in ("US-TX", "US-CA", "US-TX"):
        shop.order(_at(D - timedelta(days=2)), {"sock": 1}, revenue=500.0, region=region)
    shop.build(*WINDOW)

    rows = _region_rows(shop, "sock")
    assert [(r["channel"], r["country_code"], r["region_code"]) for r in rows] == [("google_ads", "US", "")]
    (row,) = rows
    assert float(row["spend_amount"]) == pytest.approx(400.0)
    assert float(row["attributed_revenue_amount"]) == pytest.approx(1500.0)
    assert row["roas"] == pytest.approx(3.75)


def test_regional_spend_keeps_its_regions(shop) -> None:
    """A campaign that reports regions keeps them; its revenue stays where its orders were."""
    shop.campaign("tiktok", "states", products=("mug",))
    shop.spend("tiktok", "states", D - timedelta(days=3), 100.0, region="US-TX")
    shop.spend("tiktok", "states", D - timedelta(days=3), 50.0, region="US-CA")
    shop.order(_at(D - timedelta(days=2)), {"mug": 1}, revenue=300.0, region="US-TX")
    shop.build(*WINDOW)

    by_region = {r["region_code"]: r for r in _region_rows(shop, "mug")}
    assert set(by_region) == {"US-TX", "US-CA"}
    assert float(by_region["US-TX"]["attributed_revenue_amount"]) == pytest.approx(300.0)
    assert float(by_region["US-CA"]["attributed_revenue_amount"]) == pytest.approx(0.0)
