"""Golden tests: the product plan's own numbers (Phase 3), run through the SQL models on DuckDB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tower.config import Settings

D = date(2024, 3, 30)  # the as-of day of the inventory examples


def test_days_of_cover_is_210_over_15_is_14(shop) -> None:
    """Plan: current stock 210 units, average daily sales 15 units/day → 210 / 15 = 14 days."""
    shop.region("US-TX")
    for back in range(30):  # 15 units a day on each of the 30 days ending on D
        day = D - timedelta(days=back)
        shop.order(datetime(day.year, day.month, day.day, 18, tzinfo=UTC), {"sku-a": 15})
    shop.order(datetime(2024, 2, 29, 18, tzinfo=UTC), {"sku-a": 500})  # day 31 back: outside the window
    shop.daily_stock("sku-a", D - timedelta(days=40), D - timedelta(days=1), 900)
    shop.stock("sku-a", D, 210)

    shop.build(D, D + timedelta(days=1))

    (row,) = shop.rows("days_of_cover", "snapshot_date = @d", d=D)
    assert row["available"] == 210
    assert row["in_stock_days"] == 30
    assert row["velocity_per_day"] == pytest.approx(15.0)
    assert row["days_of_cover"] == pytest.approx(14.0)
    assert row["projected_stockout_date"] == D + timedelta(days=14)
    # "DOC < 14 days = low": exactly 14 is not below it
    assert row["cover_status"] == "healthy"


def test_a_stocked_out_day_says_nothing_about_demand(shop) -> None:
    """Out-of-stock days (no stock, no sales) leave velocity alone instead of dragging it down."""
    shop.region("US-TX")
    for back in range(30):
        day = D - timedelta(days=back)
        out = 10 <= back < 20  # ten days out of stock in the middle of the window
        shop.stock("sku-a", day, 0 if out else 150)
        if not out:
            shop.order(datetime(day.year, day.month, day.day, 18, tzinfo=UTC), {"sku-a": 15})

    shop.build(D, D + timedelta(days=1))

    (row,) = shop.rows("days_of_cover", "snapshot_date = @d", d=D)
    assert row["in_stock_days"] == 20
    assert row["units_sold"] == 300
    assert row["velocity_per_day"] == pytest.approx(15.0)  # not 300 / 30 = 10
    assert row["days_of_cover"] == pytest.approx(10.0)
    assert row["cover_status"] == "low"


def test_stockout_and_overstock_classes(shop) -> None:
    shop.region("US-TX")
    for back in range(30):
        day = D - timedelta(days=back)
        shop.order(datetime(day.year, day.month, day.day, 18, tzinfo=UTC), {"slow": 1, "gone": 2})
        shop.stock("slow", day, 500)  # 500 / 1 a day = 500 days
        shop.stock("gone", day, 0 if back == 0 else 40)
        shop.stock("unsold", day, 30)  # stock that never sells: unbounded cover

    shop.build(D, D + timedelta(days=1))

    rows = {r["product_id"]: r for r in shop.rows("days_of_cover", "snapshot_date = @d", d=D)}
    assert rows["slow"]["cover_status"] == "overstock"
    assert rows["gone"]["cover_status"] == "stockout"
    assert rows["gone"]["projected_stockout_date"] == D
    assert rows["unsold"]["days_of_cover"] is None
    assert rows["unsold"]["cover_status"] == "overstock"


def _alignment_shop(shop) -> None:
    """The plan's SKU table. SKU-A: $5,000, 120 units, 8 days; SKU-B: $500, 1,800 units, 120 days;
    SKU-C: $1,200, 0 units. SKU-A is 35% of all spend, so the brand spends $5,000 / 0.35 in total;
    SKU-D, a healthy product, takes the rest."""
    shop.region("US-TX")
    for back in range(30):
        day = D - timedelta(days=back)
        shop.order(datetime(day.year, day.month, day.day, 18, tzinfo=UTC), {"sku-a": 15, "sku-b": 15, "sku-d": 10})
        shop.stock("sku-a", day, 120)
        shop.stock("sku-b", day, 1800)
        shop.stock("sku-c", day, 0)
        shop.stock("sku-d", day, 450)
    total = 5000 / 0.35
    for product, amount in (("sku-a", 5000.0), ("sku-b", 500.0), ("sku-c", 1200.0), ("sku-d", total - 6700.0)):
        shop.campaign("meta", f"push-{product}", products=(product,))
        shop.spend("meta", f"push-{product}", D - timedelta(days=3), amount, region="US-CA")


def test_the_plans_sku_table(shop) -> None:
    _alignment_shop(shop)
    shop.build(D - timedelta(days=29), D + timedelta(days=1))

    rows = {r["product_id"]: r for r in shop.rows("inventory_alignment", "level = 'product' AND as_of_date = @d", d=D)}
    a, b, c, d = rows["sku-a"], rows["sku-b"], rows["sku-c"], rows["sku-d"]
    assert float(a["spend_amount"]) == pytest.approx(5000.0)
    assert a["spend_share"] == pytest.approx(0.35)
    assert a["inventory_units"] == 120
    assert a["days_of_cover"] == pytest.approx(8.0)
    assert a["mismatch_type"] == "overspending_low_stock"

    assert float(b["spend_amount"]) == pytest.approx(500.0)
    assert b["inventory_units"] == 1800
    assert b["days_of_cover"] == pytest.approx(120.0)
    # The plan prints "(7%)" beside SKU-B's $500, but $500 of the $14,286 its own SKU-A row implies is 3.5%;
    # with the plan's rule (share < 5%) the dollars it gives make SKU-B underspending_overstock.
    assert b["spend_share"] == pytest.approx(0.035)
    assert b["mismatch_type"] == "underspending_overstock"

    assert float(c["spend_amount"]) == pytest.approx(1200.0)
    assert c["inventory_units"] == 0
    assert c["days_of_cover"] == pytest.approx(0.0)
    assert c["mismatch_type"] == "spending_on_stockout"

    assert d["mismatch_type"] == "aligned"


def test_alignment_thresholds_are_per_brand_settings(shop) -> None:
    """A literal 7% share is not below the plan's 5%; a brand that sets the line at 8% flags it."""
    _alignment_shop(shop)
    shop.spend("meta", "push-sku-b", D - timedelta(days=2), 500.0, region="US-CA")  # B doubles: 1,000 of 14,786
    window = (D - timedelta(days=29), D + timedelta(days=1))

    shop.build(*window)
    b = shop.rows("inventory_alignment", "level = 'product' AND product_id = 'sku-b'")[0]
    assert b["spend_share"] == pytest.approx(1000 / (5000 / 0.35 + 500), rel=1e-6)
    assert b["spend_share"] > 0.05
    assert b["mismatch_type"] == "aligned"

    shop.build(*window, Settings(model_brand_overrides={shop.brand_id: {"alignment_low_share": 0.08}}))
    b = shop.rows("inventory_alignment", "level = 'product' AND product_id = 'sku-b'")[0]
    assert b["mismatch_type"] == "underspending_overstock"


def test_the_plans_attribution_example(shop) -> None:
    """Order on 2024-01-15 10:30 in Austin, TX for $85 (SKU-A ×2, SKU-B ×1); Meta's "Winter Sale - Texas"
    spent $500 in Texas on 2024-01-14 → the order is that campaign's, $85 of revenue."""
    order_at = datetime(2024, 1, 15, 16, 30, tzinfo=UTC)  # 10:30 in America/Chicago
    shop.campaign("meta", "camp_123", name="Winter Sale - Texas")
    shop.spend("meta", "camp_123", date(2024, 1, 14), 500.0, region="US-TX", purchases=25, purchase_value=2100)
    # what the rule must not pick: the wrong state, too early for the 7-day lookback, after the order
    shop.spend("tiktok", "ca-only", date(2024, 1, 14), 900.0, region="US-CA")
    shop.spend("google_ads", "too-early", date(2024, 1, 7), 300.0, region="US-TX")
    shop.spend("google_ads", "too-late", date(2024, 1, 16), 300.0, region="US-TX")
    oid = shop.order(order_at, {"sku-a": 2, "sku-b": 1}, revenue=85.0, region="US-TX",
                     prices={"sku-a": 30.0, "sku-b": 25.0})

    shop.build(date(2024, 1, 8), date(2024, 1, 17))

    (row,) = shop.rows("attributed_orders", "order_id = @o AND attribution_model = 'last_touch'", o=oid)
    assert row["order_date"] == date(2024, 1, 15)
    assert (row["platform"], row["campaign_id"]) == ("meta", "camp_123")
    assert row["match_type"] == "geo_region"
    assert row["touch_date"] == date(2024, 1, 14)
    assert row["credit"] == 1.0
    assert float(row["attributed_revenue_amount"]) == pytest.approx(85.0)

    unified = shop.rows("unified_performance", "channel = 'meta' AND performance_date = @d", d=date(2024, 1, 15))
    assert {u["campaign_name"] for u in unified} == {"Winter Sale - Texas"}
    assert sum(float(u["attributed_revenue_amount"]) for u in unified) == pytest.approx(85.0)
    assert {u["product_id"]: float(u["attributed_revenue_amount"]) for u in unified} == pytest.approx(
        {"sku-a": 60.0, "sku-b": 25.0})
    # the $500 of 2024-01-14 is allocated to the products that spend sold, by their revenue
    spend = {u["product_id"]: float(u["spend_amount"]) for u in shop.rows(
        "unified_performance", "channel = 'meta' AND performance_date = @d", d=date(2024, 1, 14))}
    assert spend == pytest.approx({"sku-a": 500 * 60 / 85, "sku-b": 500 * 25 / 85})
