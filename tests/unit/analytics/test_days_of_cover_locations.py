"""Where each sale draws its stock from, worked by hand (issue 14): a store connected by hand has no
``location_regions`` rows; Shopify's fulfillment orders say which location ships each order, a region rule
overrides them, and with neither the store's active locations are pooled. Every expected figure below is
computed in the docstrings, not by the reference; the reference is then held to the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tower.analytics.parameters import ModelParameters
from tower.config import Settings
from tower_dev.reference import INPUT_TABLES, Inputs, build_reference

D = date(2025, 6, 30)  # the as-of day; the velocity window is the 30 days D-29 .. D
A, B = "loc-a", "loc-b"


@pytest.fixture
def store(make_shop):
    s = make_shop(brand_id="hand_1", timezone="America/Toronto", currency="CAD", location_id=A, region_rules=False)
    s.location(B)
    return s


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 16, tzinfo=UTC)  # noon in Toronto: the same local day


def _cover(store, build: bool = True) -> dict[tuple[str, str], dict]:
    if build:
        store.build(D, D + timedelta(days=1))
    return {(r["product_id"], r["location_id"]): r
            for r in store.rows("days_of_cover", "snapshot_date = @d", d=D)}


def _reference_agrees(store) -> None:
    inputs = Inputs({t: store.warehouse.rows(f"SELECT * FROM {t}") for t in INPUT_TABLES})
    params = ModelParameters.for_brand(Settings(), store.brand_id)
    ref = build_reference(inputs, store.brand_id, D, D + timedelta(days=1), params)["days_of_cover"]
    want = {(r["product_id"], r["location_id"]): r for r in ref}
    got = _cover(store, build=False)
    assert set(got) == set(want)
    for k, row in got.items():
        for col in ("available", "units_sold", "in_stock_units_sold", "in_stock_days", "cover_status"):
            assert row[col] == want[k][col], (k, col)
        assert row["days_of_cover"] == pytest.approx(want[k]["days_of_cover"]), k


def test_fulfillment_orders_place_each_sale_at_the_location_it_ships_from(store) -> None:
    """Every day one order of 3 tees, split by Shopify: 2 ship from A, 1 from B. A holds 100, B 60.
    A: 2 a day → 100 / 2 = 50 days (healthy); B: 1 a day → 60 / 1 = 60 days (healthy, not overstock)."""
    for back in range(30):
        day = D - timedelta(days=back)
        order = store.order(_at(day), {"tee": 3})
        store.fulfil(order, (A, {"tee": 2}), (B, {"tee": 1}))
        store.stock("tee", day, 100, location=A)
        store.stock("tee", day, 60, location=B)

    rows = _cover(store)
    assert store.rows("location_regions") == []
    a, b = rows[("tee", A)], rows[("tee", B)]
    assert (a["units_sold"], a["in_stock_days"], a["velocity_per_day"]) == (60, 30, pytest.approx(2.0))
    assert a["days_of_cover"] == pytest.approx(50.0) and a["cover_status"] == "healthy"
    assert (b["units_sold"], b["velocity_per_day"]) == (30, pytest.approx(1.0))
    assert b["days_of_cover"] == pytest.approx(60.0) and b["cover_status"] == "healthy"
    _reference_agrees(store)


def test_without_routing_the_active_locations_are_pooled(store) -> None:
    """A token without the fulfillment-order scope: no fulfillment orders, no rules. 4 caps sell a day;
    A holds 30, B 90 (120 pooled): A takes 30/120 of the sales = 1 a day → 30 days, B 3 a day → 90/3 = 30
    days; the pooled cover 120 / 4 = 30 days on both. An inactive location C holding 500 takes no share
    (its stock cannot ship) and sells nothing: unbounded cover."""
    store.location("loc-c", active=False)
    for back in range(30):
        day = D - timedelta(days=back)
        store.order(_at(day), {"cap": 4})
        store.stock("cap", day, 30, location=A)
        store.stock("cap", day, 90, location=B)
        store.stock("cap", day, 500, location="loc-c")

    rows = _cover(store)
    a, b, c = rows[("cap", A)], rows[("cap", B)], rows[("cap", "loc-c")]
    assert (a["units_sold"], b["units_sold"], c["units_sold"]) == (30, 90, 0)
    assert a["days_of_cover"] == pytest.approx(30.0) and b["days_of_cover"] == pytest.approx(30.0)
    assert a["cover_status"] == b["cover_status"] == "healthy"  # sells every day: never "overstock"
    assert c["days_of_cover"] is None
    _reference_agrees(store)


def test_a_region_rule_overrides_shopify_routing(store) -> None:
    """The merchant says Texas ships from B; Shopify's fulfillment orders say A. The rule wins: B sells
    5 a day → 50 / 5 = 10 days (low); A sells nothing."""
    store.region("US-TX", location=B)
    for back in range(30):
        day = D - timedelta(days=back)
        order = store.order(_at(day), {"mug": 5}, region="US-TX")
        store.fulfil(order, (A, {"mug": 5}))
        store.stock("mug", day, 40, location=A)
        store.stock("mug", day, 50, location=B)

    rows = _cover(store)
    assert rows[("mug", B)]["units_sold"] == 150 and rows[("mug", A)]["units_sold"] == 0
    assert rows[("mug", B)]["days_of_cover"] == pytest.approx(10.0)
    assert rows[("mug", B)]["cover_status"] == "low"
    assert rows[("mug", A)]["days_of_cover"] is None
    _reference_agrees(store)


def test_a_store_just_connected_counts_its_order_history(store) -> None:
    """Connected on D: one inventory snapshot (A: 80), but 30 days of orders: 6 units every third day
    (D-29, D-26, ..., D-2: 10 orders, 60 units), none on D. The days before the snapshot count as in stock,
    so velocity = 60 / 30 = 2 a day and cover 80 / 2 = 40 days (healthy; the snapshot-only rule saw no
    sales on D and called it overstock). A draft product ("old") with the same orders could not be bought
    on the quiet days: only its 10 selling days and D count, 60 / 11 a day → 80 × 11 / 60 ≈ 14.67 days."""
    store.product("old", active=False)
    for back in range(2, 30, 3):
        day = D - timedelta(days=back)
        for product in ("hat", "old"):
            order = store.order(_at(day), {product: 6})
            store.fulfil(order, (A, {product: 6}))
    store.stock("hat", D, 80, location=A)
    store.stock("old", D, 80, location=A)

    rows = _cover(store)
    hat, old = rows[("hat", A)], rows[("old", A)]
    assert (hat["units_sold"], hat["in_stock_days"]) == (60, 30)
    assert hat["days_of_cover"] == pytest.approx(40.0) and hat["cover_status"] == "healthy"
    assert (old["units_sold"], old["in_stock_days"]) == (60, 11)
    assert old["days_of_cover"] == pytest.approx(80 * 11 / 60)
    _reference_agrees(store)


def test_region_level_stock_follows_where_shopify_ships_the_region(store) -> None:
    """No rules: Ontario's orders ship from B (3 of 4 orders) and once from A, so Ontario is served by B;
    its spend is set against B's stock (0: spending on a stockout there) though A has plenty."""
    for back in range(4):
        day = D - timedelta(days=back)
        order = store.order(_at(day), {"boot": 1}, region="CA-ON")
        store.fulfil(order, (B if back else A, {"boot": 1}))
        store.stock("boot", day, 200, location=A)
        store.stock("boot", day, 0, location=B)
        store.spend("meta", "c1", day, 50.0, region="CA-ON", country="CA")
    store.campaign("meta", "c1", products=("boot",))

    store.build(D, D + timedelta(days=1))
    (row,) = store.rows("inventory_alignment", "level = 'product_channel_region' AND region_code = 'CA-ON'")
    assert row["location_id"] == B and row["inventory_units"] == 0
    assert row["mismatch_type"] == "spending_on_stockout"
