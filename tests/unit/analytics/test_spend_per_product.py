"""Spend per product, one rule (issue 15 item 1), on a world small enough to work by hand.

Three campaigns, three products, three days, a Berlin store:

* meta "kit" promotes p1 and p2 and spends $100 a day in Texas on the 3 days. Day 1 it earns a $200 order of p1,
  day 2 a $100 order of p2 (both tagged with its UTM), day 3 nothing.
* google_ads "duo" promotes p2 and p3, spends $60 in California on day 2 and earns nothing.
* tiktok "broad" names no products, spends $45 in New York on day 3 and earns nothing.

Worked by hand over the window of the 3 days (rules/window_spend.sql):
  kit: its mix is p1 $200 : p2 $100, so its $300 goes p1 $200, p2 $100 ('revenue_mix');
  duo: earned nothing, so its $60 spreads equally over what it promotes: p2 $30, p3 $30 ('promoted_equal');
  broad: earned nothing and names nothing: $45 unallocated (product NULL).
  Per product: p1 $200, p2 $130, p3 $30; unallocated $45; all $405.
Day by day, unified_performance keeps day 3's $100 of kit (which earned nothing that day) whole on product NULL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tower import sql as sqlfiles
from tower_dev.reference import window_spend

D1, D2, D3 = date(2024, 6, 10), date(2024, 6, 11), date(2024, 6, 12)
AS_OF = D3
BUILD = (D1 - timedelta(days=40), D3 + timedelta(days=1))
BY_HAND = {"p1": 200.0, "p2": 130.0, "p3": 30.0}
UNALLOCATED = 45.0


@pytest.fixture
def hand_world(make_shop):
    shop = make_shop(brand_id="hand", timezone="Europe/Berlin", currency="EUR")
    shop.campaign("meta", "kit", products=("p1", "p2"))
    shop.campaign("google_ads", "duo", products=("p2", "p3"))
    for day in (D1, D2, D3):
        shop.spend("meta", "kit", day, 100.0, region="US-TX", currency="EUR")
    shop.spend("google_ads", "duo", D2, 60.0, region="US-CA", currency="EUR")
    shop.spend("tiktok", "broad", D3, 45.0, region="US-NY", currency="EUR")
    shop.order(datetime(2024, 6, 10, 10, tzinfo=UTC), {"p1": 1}, revenue=200.0, region="US-TX", utm_campaign="kit")
    shop.order(datetime(2024, 6, 11, 10, tzinfo=UTC), {"p2": 1}, revenue=100.0, region="US-TX", utm_campaign="kit")
    for product in ("p1", "p2", "p3"):
        shop.stock(product, AS_OF, 50)
    shop.build(*BUILD)
    return shop


def _params(shop, **kw):
    return {"brand_id": shop.brand_id, "attribution_model": "last_touch", **kw}


def test_the_day_level_mart_keeps_spend_that_earned_nothing_whole(hand_world) -> None:
    rows = hand_world.rows("unified_performance", "campaign_id IS NOT NULL AND spend_amount != 0")
    got = sorted((r["performance_date"], r["campaign_id"], r["product_id"], r["spend_allocation"],
                  float(r["spend_amount"])) for r in rows)
    assert got == [
        (D1, "kit", "p1", "revenue_share", 100.0),
        (D2, "duo", None, "unsplit", 60.0),
        (D2, "kit", "p2", "revenue_share", 100.0),
        (D3, "broad", None, "unsplit", 45.0),
        (D3, "kit", None, "unsplit", 100.0),
    ]


def test_alignment_spends_by_the_rule_worked_by_hand(hand_world) -> None:
    product = {r["product_id"]: r for r in hand_world.rows(
        "inventory_alignment", "level = 'product' AND as_of_date = @d", d=AS_OF)}
    assert {p: float(product[p]["spend_amount"]) for p in BY_HAND} == pytest.approx(BY_HAND)
    # the share is of all the brand's spend, the unallocated $45 included
    assert product["p1"]["spend_share"] == pytest.approx(200.0 / 405.0)
    assert product["p1"]["roas"] == pytest.approx(200.0 / 200.0)
    regional = {(r["product_id"], r["channel"], r["region_code"]): float(r["spend_amount"]) for r in hand_world.rows(
        "inventory_alignment", "level = 'product_channel_region' AND as_of_date = @d", d=AS_OF)}
    assert regional == pytest.approx({("p1", "meta", "US-TX"): 200.0, ("p2", "meta", "US-TX"): 100.0,
                                      ("p2", "google_ads", "US-CA"): 30.0, ("p3", "google_ads", "US-CA"): 30.0})


def test_the_alerts_campaign_lines_spend_by_the_same_rule(hand_world) -> None:
    rows = hand_world.warehouse.rows(sqlfiles.load("queries/decisions/campaign_spend.sql"),
                                     _params(hand_world, start_date=AS_OF - timedelta(days=30), as_of_date=AS_OF))
    got = {(r["product_id"], r["campaign_id"]): r["spend"] for r in rows}
    assert got == pytest.approx({("p1", "kit"): 200.0, ("p2", "kit"): 100.0, ("p2", "duo"): 30.0,
                                 ("p3", "duo"): 30.0, (None, "broad"): UNALLOCATED})


def test_top_products_and_week_over_week_spend_by_the_same_rule(hand_world) -> None:
    top = hand_world.warehouse.rows(sqlfiles.load("queries/qa/top_products.sql"), _params(
        hand_world, start_date=D1, end_date=D3 + timedelta(days=1), metric="revenue", row_limit=10))
    assert {r["product_id"]: r["spend"] for r in top} == pytest.approx(BY_HAND)
    assert {r["product_id"]: r["roas"] for r in top} == pytest.approx({"p1": 1.0, "p2": round(100 / 130, 2),
                                                                       "p3": 0.0})
    wow = hand_world.warehouse.rows(sqlfiles.load("queries/qa/week_over_week.sql"), _params(
        hand_world, end_date=D3 + timedelta(days=1), row_limit=20))
    assert {r["product_id"]: r["spend"] for r in wow if r["level"] == "product"} == pytest.approx(BY_HAND)
    assert next(r["spend"] for r in wow if r["level"] == "total") == pytest.approx(405.0)


def test_the_reference_states_the_same_rule(hand_world) -> None:
    rows = hand_world.rows("unified_performance", "performance_date >= @a AND performance_date <= @b", a=D1, b=D3)
    promoted = {("meta", "kit"): {"p1", "p2"}, ("google_ads", "duo"): {"p2", "p3"}}
    per_product: dict[str | None, float] = {}
    for r in window_spend(rows, promoted):
        per_product[r["product_id"]] = per_product.get(r["product_id"], 0.0) + r["spend"]
    assert per_product == pytest.approx({**BY_HAND, None: UNALLOCATED})


def test_a_reader_that_names_the_rule_must_give_it_its_window() -> None:
    with pytest.raises(ValueError, match="window_rows"):
        sqlfiles._splice_rule("SELECT * FROM window_spend", "window_spend", "window_rows", "queries/x.sql")
