"""The world is internally consistent: money, refunds, cancellations, time zones, customers, journeys and stock."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tower.privacy import customer_hash, zip_prefix
from tower_dev.world import BrandWorld, World, WorldParams, generate_world
from tower_dev.world.geo import BY_CODE


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(WorldParams(seed=23, brands=3, days=56, orders_per_day=60, skus=20))


def _rows(bw: BrandWorld, name: str) -> list[dict[str, Any]]:
    return bw.tables[name].to_pylist()


def test_order_money_adds_up_and_net_revenue_follows_its_definition(world: World) -> None:
    for bw in world.brands:
        lines_by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for li in _rows(bw, "order_line_items"):
            lines_by_order[li["order_id"]].append(li)
        refunds_by_order: dict[str, Decimal] = defaultdict(Decimal)
        for r in bw.raw["refunds"].to_pylist():
            refunds_by_order[r["order_id"]] += r["amount"]
        seen = Counter()
        for o in _rows(bw, "orders"):
            lines = lines_by_order[o["order_id"]]
            assert lines, o["order_id"]
            assert o["subtotal_amount"] == sum(li["price_amount"] * li["quantity"] for li in lines)
            assert o["discount_amount"] == sum(li["discount_amount"] for li in lines)
            assert o["total_amount"] == (
                o["subtotal_amount"] - o["discount_amount"] + o["shipping_amount"] + o["tax_amount"]
            )
            assert o["refunded_amount"] == refunds_by_order.get(o["order_id"], Decimal(0))
            assert (
                o["net_revenue_amount"] == o["subtotal_amount"] - o["discount_amount"] - o["refunded_amount"]
            )
            assert o["net_revenue_amount"] >= 0
            assert o["currency"] == bw.brand["currency"] and all(
                li["currency"] == o["currency"] for li in lines
            )
            for li in lines:
                assert 0 <= li["refunded_quantity"] <= li["quantity"]
                assert li["order_date"] == o["order_date"]
            if o["cancelled_at"] is not None:
                seen["cancelled"] += 1
                assert o["net_revenue_amount"] == 0
                assert all(li["refunded_quantity"] == li["quantity"] for li in lines)
            elif o["refunded_amount"] > 0:
                seen["full" if o["net_revenue_amount"] == 0 else "partial"] += 1
        assert seen["cancelled"] > 5 and seen["full"] > 5 and seen["partial"] > 5, seen


def test_refund_rows_match_the_lines_they_refund(world: World) -> None:
    bw = world.brands[0]
    orders = {o["order_id"]: o for o in _rows(bw, "orders")}
    lines = {li["line_item_id"]: li for li in _rows(bw, "order_line_items")}
    refunded_qty: Counter[str] = Counter()
    world_end = max(o["created_at"] for o in orders.values())
    for r in bw.raw["refunds"].to_pylist():
        o = orders[r["order_id"]]
        li = lines[r["line_item_id"]]
        assert li["order_id"] == r["order_id"]
        assert r["created_at"] >= o["created_at"] and r["currency"] == o["currency"]
        assert r["created_at"] <= o["updated_at"]
        assert r["created_at"] < world_end + timedelta(days=1)
        assert r["refund_id"].startswith("gid://shopify/Refund/")
        assert r["kind"] == ("cancellation" if o["cancelled_at"] else "refund")
        refunded_qty[r["line_item_id"]] += r["quantity"]
    for line_id, li in lines.items():
        assert li["refunded_quantity"] == refunded_qty.get(line_id, 0)
    # a full refund gives back the whole tax and shipping too (on the raw side)
    for order_id, o in orders.items():
        if o["cancelled_at"] is not None:
            rows = [r for r in bw.raw["refunds"].to_pylist() if r["order_id"] == order_id]
            assert sum(r["tax_amount"] for r in rows) == o["tax_amount"]
            assert sum(r["shipping_amount"] for r in rows) == o["shipping_amount"]
            break


def test_order_date_is_the_store_local_date_of_created_at(world: World) -> None:
    for bw in world.brands:
        zone = ZoneInfo(bw.brand["timezone"])
        orders = _rows(bw, "orders")
        for o in orders[:: max(1, len(orders) // 3000)]:
            assert o["created_at"].astimezone(zone).date() == o["order_date"]
            assert o["processed_at"] == o["created_at"] <= o["updated_at"]
            if o["cancelled_at"]:
                # cancelled the same local day
                assert o["cancelled_at"].astimezone(zone).date() == o["order_date"]
        first = min(o["order_date"] for o in orders)
        last = max(o["order_date"] for o in orders)
        assert first == world.params.start_date and last == world.params.end_date
        end_of_world = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)
        assert max(o["updated_at"] for o in orders) < end_of_world


def test_customers_are_hashed_with_the_brand_salt_and_zip_prefixes_come_from_the_zip(world: World) -> None:
    for bw in world.brands:
        raw = {r["order_id"]: r for r in bw.raw["orders"].to_pylist()}
        orders = _rows(bw, "orders")
        hashes_by_customer: dict[str, set[str]] = defaultdict(set)
        for o in orders[:3000]:
            r = raw[o["order_id"]]
            assert o["customer_hash"] == customer_hash(bw.customer_salt, r["customer_id"])
            assert o["shipping_zip_prefix"] == zip_prefix(r["zip"])
            assert o["shipping_region_code"] == f"{r['country_code']}-{r['province_code']}"
            assert o["shipping_country_code"] == r["country_code"]
            if r["customer_id"]:
                hashes_by_customer[r["customer_id"]].add(r["email"])
        # a returning customer keeps their identity
        assert all(len(emails) == 1 for emails in hashes_by_customer.values())
        assert any(c > 1 for c in Counter(o["customer_hash"] for o in orders if o["customer_hash"]).values())
        assert any(o["customer_hash"] is None for o in orders)  # POS walk-ins


def test_shipping_regions_follow_population(world: World) -> None:
    bw = world.brands[1]  # US only
    counts = Counter(o["shipping_region_code"] for o in _rows(bw, "orders"))
    top = [code for code, _ in counts.most_common(3)]
    assert top[0] == "US-CA" and "US-TX" in top
    assert counts["US-CA"] > 20 * max(counts["US-WY"], 1)
    assert all(code in BY_CODE and code.startswith("US-") for code in counts)
    canada = world.brands[2]
    assert Counter(o["shipping_country_code"] for o in _rows(canada, "orders")).most_common(1)[0][0] == "CA"


def test_every_shipped_region_has_a_serving_location(world: World) -> None:
    for bw in world.brands:
        locations = {loc["location_id"] for loc in _rows(bw, "locations")}
        routes = {(r["country_code"], r["region_code"]): r for r in _rows(bw, "location_regions")}
        for o in _rows(bw, "orders"):
            route = routes[(o["shipping_country_code"], o["shipping_region_code"])]
            assert route["location_id"] in locations
        assert all(r["fulfillment_cost_amount"] > 0 for r in routes.values())
        west = routes[("US", "US-CA")]["location_id"]
        assert west == _rows(bw, "locations")[0]["location_id"] or bw.brand["currency"] == "CAD"
    acme = world.brands[0]
    costs = {r["region_code"]: r["fulfillment_cost_amount"] for r in _rows(acme, "location_regions")}
    assert costs["US-CA"] > costs["US-NV"]  # the planted +30 % in CA


def test_utm_tags_name_real_campaigns_and_click_ids_match_the_platform(world: World) -> None:
    for bw in world.brands:
        campaigns = _rows(bw, "ad_campaigns")
        by_name = {c["campaign_name"]: c for c in campaigns}
        by_id = {c["campaign_id"]: c for c in campaigns}
        raw = {r["order_id"]: r for r in bw.raw["orders"].to_pylist()}
        tagged = untagged = clicked = 0
        for o in _rows(bw, "orders"):
            r = raw[o["order_id"]]
            src = o["utm_source"]
            if src in ("facebook", "instagram", "tiktok", "google"):
                c = by_name.get(o["utm_campaign"]) or by_id[o["utm_campaign"]]
                platform = {
                    "facebook": "meta",
                    "instagram": "meta",
                    "tiktok": "tiktok",
                    "google": "google_ads",
                }[src]
                assert c["platform"] == platform
                assert r["driven_campaign_id"] == c["campaign_id"] and r["is_tagged"]
                assert o["landing_site"].startswith(f"https://{bw.brand['shop_domain']}/")
                assert "utm_campaign=" in o["landing_site"]
                other = {
                    "meta": ("ttclid", "gclid"),
                    "tiktok": ("fbclid", "gclid"),
                    "google_ads": ("fbclid", "ttclid"),
                }[platform]
                assert all(o[k] is None for k in other)
                own = {"meta": "fbclid", "tiktok": "ttclid", "google_ads": "gclid"}[platform]
                if o[own]:
                    assert f"{own}={o[own]}" in o["landing_site"]
                tagged += 1
            else:
                # untagged: a click id only on an ad-driven order (auto-tagging, a URL without UTMs), its
                # platform's own and in its landing page
                ids = {k: o[k] for k in ("fbclid", "ttclid", "gclid") if o[k] is not None}
                if r["driven_campaign_id"] is None:
                    assert not ids
                else:
                    untagged += 1
                    own = {"meta": "fbclid", "tiktok": "ttclid", "google_ads": "gclid"}[r["driven_platform"]]
                    assert set(ids) <= {own}
                    assert all(f"?{k}={v}" in o["landing_site"] for k, v in ids.items())
                    clicked += bool(ids)
            assert o["landing_site"] == r["landing_page_url"]
            if o["sales_channel"] == "pos":
                assert o["landing_site"] is None and o["shipping_amount"] == 0
        assert tagged > 100 and untagged > 20 and 0 < clicked < untagged
        assert {"web", "pos"} <= {o["sales_channel"] for o in _rows(bw, "orders")}


def test_ad_driven_orders_ship_where_their_campaign_spends(world: World) -> None:
    bw = world.brands[0]
    spend_regions: dict[str, set[str]] = defaultdict(set)
    for r in _rows(bw, "ad_performance"):
        spend_regions[r["campaign_id"]].add(r["region_code"] or r["country_code"])
    raw = {r["order_id"]: r for r in bw.raw["orders"].to_pylist()}
    for o in _rows(bw, "orders"):
        cid = raw[o["order_id"]]["driven_campaign_id"]
        if cid:
            assert (
                o["shipping_region_code"] in spend_regions[cid]
                or o["shipping_country_code"] in spend_regions[cid]
            )


def _stock_book(bw: BrandWorld) -> dict[str, Any]:
    """Per (inventory item, location): snapshots by day, units sold by day, receipts by day."""
    item_of_variant = {v["variant_id"]: v["inventory_item_id"] for v in _rows(bw, "variants")}
    route = {r["region_code"]: r["location_id"] for r in _rows(bw, "location_regions")}
    orders = {o["order_id"]: o for o in _rows(bw, "orders")}
    sold: Counter[tuple[str, str, date]] = Counter()
    for li in _rows(bw, "order_line_items"):
        o = orders[li["order_id"]]
        if o["cancelled_at"] is None:
            sold[(item_of_variant[li["variant_id"]], route[o["shipping_region_code"]], li["order_date"])] += (
                li["quantity"]
            )
    received: Counter[tuple[str, str, date]] = Counter()
    for po in bw.raw["purchase_orders"].to_pylist():
        if po["received_date"] is not None:
            received[(po["inventory_item_id"], po["location_id"], po["received_date"])] += po["quantity"]
    levels: dict[tuple[str, str], dict[date, dict[str, Any]]] = defaultdict(dict)
    for r in _rows(bw, "inventory_levels"):
        levels[(r["inventory_item_id"], r["location_id"])][r["snapshot_date"]] = r
    return {"sold": sold, "received": received, "levels": levels}


def test_stock_never_negative_and_moves_only_by_sales_and_receipts(world: World) -> None:
    for bw in world.brands:
        book = _stock_book(bw)
        for (item, loc), by_day in book["levels"].items():
            days = sorted(by_day)
            for prev, day in itertools.pairwise(days):
                row = by_day[day]
                assert row["available"] >= 0 and row["incoming"] >= 0
                assert row["updated_at"] is not None and row["updated_at"].date() <= day + timedelta(days=1)
                assert row["on_hand"] == row["available"] + row["committed"]
                assert row["committed"] == book["sold"][(item, loc, day)]
                assert row["available"] == (
                    by_day[prev]["available"]
                    + book["received"][(item, loc, day)]
                    - book["sold"][(item, loc, day)]
                ), (item, loc, day)
        # nothing sold where there are no snapshots (deleted or not-yet-stocked products)
        for item, loc, day in book["sold"]:
            assert day in book["levels"][(item, loc)], (item, loc, day)


def test_orders_only_when_in_stock_and_stockouts_happen(world: World) -> None:
    stockout_days = 0
    for bw in world.brands:
        book = _stock_book(bw)
        for (item, loc), by_day in book["levels"].items():
            days = sorted(by_day)
            for prev, day in itertools.pairwise(days):
                start_of_day = by_day[prev]["available"] + book["received"][(item, loc, day)]
                assert book["sold"][(item, loc, day)] <= start_of_day
                if by_day[day]["available"] == 0:
                    stockout_days += 1
    assert stockout_days > 0


def test_inventory_snapshots_cover_every_day_and_location(world: World) -> None:
    bw = world.brands[0]
    levels = _rows(bw, "inventory_levels")
    dates = {r["snapshot_date"] for r in levels}
    assert len(dates) == world.params.days
    per_day = Counter(r["snapshot_date"] for r in levels)
    locations = len(_rows(bw, "locations"))
    assert per_day[world.params.end_date] % locations == 0
    deleted = [p["product_id"] for p in _rows(bw, "products") if not p["is_active"]]
    deleted_variants = {v["variant_id"] for v in _rows(bw, "variants") if v["product_id"] in deleted}
    assert not any(
        r["variant_id"] in deleted_variants for r in levels if r["snapshot_date"] == world.params.end_date
    )
