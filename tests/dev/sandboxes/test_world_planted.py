"""The product plan's situations are really in the world's rows, and the manifest says what they are.

Everything is recomputed here from the DDL tables (plus fx_rates and the raw ground truth where a
test needs to know which campaign drove an order), the way a model would.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tower.names import AD_PLATFORMS
from tower_dev.world import BrandWorld, World, WorldParams, generate_world
from tower_dev.world.geo import MIDWEST

PLATFORM_OF_SOURCE = {"facebook": "meta", "instagram": "meta", "tiktok": "tiktok", "google": "google_ads"}


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(WorldParams(seed=3, brands=3, days=42, orders_per_day=100, skus=24))


_CACHE: dict[tuple[int, str], Any] = {}


def _rows(bw: BrandWorld, name: str) -> list[dict[str, Any]]:
    key = (id(bw), name)
    if key not in _CACHE:
        _CACHE[key] = bw.tables[name].to_pylist() if name in bw.tables else bw.raw[name[4:]].to_pylist()
    return _CACHE[key]


def _fx(world: World) -> dict[tuple[date, str, str], float]:
    key = (id(world), "fx")
    if key not in _CACHE:
        _CACHE[key] = {
            (r["rate_date"], r["base_currency"], r["quote_currency"]): r["rate"]
            for r in world.fx_rates.to_pylist()
        }
    return _CACHE[key]


def _spend_store(world: World, bw: BrandWorld, row: dict[str, Any], field: str = "spend_amount") -> float:
    amount = float(row[field])
    if row["currency"] == bw.brand["currency"]:
        return amount
    return amount * _fx(world)[(row["stat_date"], row["currency"], bw.brand["currency"])]


def _cover(
    world: World,
    bw: BrandWorld,
    variant_id: str,
    window: int = 30,
    count_cancelled: bool = False,
    all_days: bool = False,
) -> dict[str, float]:
    """Days of cover per location, from inventory_levels and line items only."""
    end = world.params.end_date
    first = end - timedelta(days=window - 1)
    route = {r["region_code"]: r["location_id"] for r in _rows(bw, "location_regions")}
    orders = {o["order_id"]: o for o in _rows(bw, "orders")}
    sold: Counter[tuple[str, date]] = Counter()
    for li in _rows(bw, "order_line_items"):
        if li["variant_id"] != variant_id or li["order_date"] < first:
            continue
        o = orders[li["order_id"]]
        if o["cancelled_at"] is None or count_cancelled:
            sold[(route[o["shipping_region_code"]], li["order_date"])] += li["quantity"]
    snap: dict[str, dict[date, int]] = defaultdict(dict)
    for r in _rows(bw, "inventory_levels"):
        if r["variant_id"] == variant_id and r["snapshot_date"] >= first:
            snap[r["location_id"]][r["snapshot_date"]] = r["available"]
    out = {}
    for loc, by_day in snap.items():
        units = sum(q for (lo, _), q in sold.items() if lo == loc)
        in_stock = window if all_days else sum(1 for d, a in by_day.items() if a > 0 or sold[(loc, d)] > 0)
        velocity = units / in_stock if in_stock else 0.0
        out[loc] = by_day[end] / velocity if velocity else float("inf")
    return out


def _weekly_roas(world: World, bw: BrandWorld, *, utm_only: bool) -> dict[str, tuple[float, float]]:
    """(previous, current) ROAS per platform from the tables: UTM-tagged orders, or the raw truth."""
    end = world.params.end_date
    week = {end - timedelta(days=i): 0 for i in range(7)} | {end - timedelta(days=i): 1 for i in range(7, 14)}
    spend = defaultdict(float)
    for r in _rows(bw, "ad_performance"):
        if r["stat_date"] in week:
            spend[(r["platform"], week[r["stat_date"]])] += _spend_store(world, bw, r)
    raw = {r["order_id"]: r for r in _rows(bw, "raw_orders")}
    revenue = defaultdict(float)
    for o in _rows(bw, "orders"):
        if o["order_date"] not in week:
            continue
        if utm_only:
            platform = PLATFORM_OF_SOURCE.get(o["utm_source"] or "")
        else:
            platform = raw[o["order_id"]]["driven_platform"]
        if platform:
            revenue[(platform, week[o["order_date"]])] += float(o["net_revenue_amount"])
    return {
        p: (revenue[(p, 1)] / spend[(p, 1)], revenue[(p, 0)] / spend[(p, 0)])
        for p in AD_PLATFORMS
    }


def test_sku_a_is_pushed_on_tiktok_in_ca_and_tx_with_about_eight_days_of_cover(world: World) -> None:
    bw = world.brands[0]
    low = world.manifest["acme-candles"]["low_cover_pushed"]
    assert low["label"] == "SKU-A" and low["platform"] == "tiktok" and low["regions"] == ["US-CA", "US-TX"]
    cover = _cover(world, bw, low["variant_id"])
    assert len(low["locations"]) == 2  # West serves CA, Central serves TX
    for loc in low["locations"]:
        assert cover[loc] == pytest.approx(low["days_of_cover_by_location"][loc], abs=0.06)
        assert cover[loc] == pytest.approx(8, rel=0.15)
        # other reasonable definitions land close too
        assert _cover(world, bw, low["variant_id"], count_cancelled=True)[loc] == pytest.approx(8, rel=0.15)
        assert _cover(world, bw, low["variant_id"], all_days=True)[loc] == pytest.approx(cover[loc], rel=0.1)
    # the push: one TikTok campaign promotes only SKU-A and spends only in CA and TX, heavily
    products = [r for r in _rows(bw, "ad_campaign_products") if r["campaign_id"] in low["campaign_ids"]]
    assert [r["product_id"] for r in products] == [low["product_id"]]
    rows = [r for r in _rows(bw, "ad_performance") if r["campaign_id"] in low["campaign_ids"]]
    assert {r["region_code"] for r in rows} == {"US-CA", "US-TX"}
    last30 = world.params.end_date - timedelta(days=29)
    total = sum(_spend_store(world, bw, r) for r in _rows(bw, "ad_performance") if r["stat_date"] >= last30)
    pushed = sum(_spend_store(world, bw, r) for r in rows if r["stat_date"] >= last30)
    assert pushed / total > 0.15 and pushed / total == pytest.approx(low["spend_share_30d"], abs=0.005)
    assert low["roas_30d"] < 2.5
    # nothing is on the way: no open purchase order for SKU-A
    levels = [
        r
        for r in _rows(bw, "inventory_levels")
        if r["variant_id"] == low["variant_id"] and r["snapshot_date"] == world.params.end_date
    ]
    assert all(r["incoming"] == 0 for r in levels)


def test_skus_b_and_c_are_overstocked_with_little_midwest_support(world: World) -> None:
    bw = world.brands[0]
    over = world.manifest["acme-candles"]["overstock_unsupported"]
    assert [e["label"] for e in over] == ["SKU-B", "SKU-C"]
    for e in over:
        cover = _cover(world, bw, e["variant_id"])
        for loc, value in e["days_of_cover_by_location"].items():
            if value is not None:
                assert cover[loc] == pytest.approx(value, abs=0.1)
                assert cover[loc] == pytest.approx(120, rel=0.15)
        assert e["platform"] == "meta" and set(e["regions"]) == set(MIDWEST)
        assert e["spend_share_30d"] < 0.05 and e["roas_30d"] > 4.0
        rows = [r for r in _rows(bw, "ad_performance") if r["campaign_id"] in e["campaign_ids"]]
        assert rows and {r["region_code"] for r in rows} <= set(MIDWEST)


def test_a_product_out_of_stock_still_gets_spend(world: World) -> None:
    bw = world.brands[0]
    out = world.manifest["acme-candles"]["stockout_with_spend"]
    end = world.params.end_date
    since = date.fromisoformat(out["stockout_since"])
    final = [
        r
        for r in _rows(bw, "inventory_levels")
        if r["variant_id"] == out["variant_id"] and r["snapshot_date"] == end
    ]
    assert len(final) == 3 and all(r["available"] == 0 for r in final)
    assert out["available_at_end"] == 0
    sold_after = [
        li
        for li in _rows(bw, "order_line_items")
        if li["variant_id"] == out["variant_id"] and li["order_date"] > since
    ]
    assert sold_after == []
    sold_before = [
        li
        for li in _rows(bw, "order_line_items")
        if li["variant_id"] == out["variant_id"] and li["order_date"] < since
    ]
    assert sold_before
    spend_by_day = defaultdict(float)
    for r in _rows(bw, "ad_performance"):
        if r["campaign_id"] in out["campaign_ids"]:
            spend_by_day[r["stat_date"]] += float(r["spend_amount"])
    for i in range(3):
        assert spend_by_day[end - timedelta(days=i)] > 0
    assert out["spend_since_stockout"] > 0


def test_tiktok_roas_falls_while_meta_holds_and_google_improves(world: World) -> None:
    bw = world.brands[0]
    trend = world.manifest["acme-candles"]["roas_trend"]
    truth = _weekly_roas(world, bw, utm_only=False)
    for p, (prev, cur) in truth.items():
        assert prev == pytest.approx(trend[p]["previous"], abs=0.01)
        assert cur == pytest.approx(trend[p]["current"], abs=0.01)
        assert prev == pytest.approx(trend[p]["target_previous"], abs=0.05)
        assert cur == pytest.approx(trend[p]["target_current"], abs=0.05)
    assert (trend["tiktok"]["target_previous"], trend["tiktok"]["target_current"]) == (2.8, 2.1)
    assert (trend["meta"]["target_previous"], trend["meta"]["target_current"]) == (4.2, 4.2)
    assert (trend["google_ads"]["target_previous"], trend["google_ads"]["target_current"]) == (3.0, 3.5)
    # what deterministic (UTM) attribution alone sees shows the same story
    utm = _weekly_roas(world, bw, utm_only=True)
    assert utm["tiktok"][1] < 0.85 * utm["tiktok"][0]
    assert utm["meta"][1] == pytest.approx(utm["meta"][0], rel=0.1)
    assert utm["google_ads"][1] > utm["google_ads"][0]
    assert trend["tiktok"]["utm_current"] == pytest.approx(utm["tiktok"][1], abs=0.01)
    assert (
        trend["tiktok"]["spend_current"] > 1.05 * trend["tiktok"]["spend_previous"]
    )  # spend went up (~28 %)
    alerts = world.manifest["acme-candles"]["expected_findings"]["alerts"]
    assert [a["channel"] for a in alerts if a["type"] == "roas_drop"] == ["tiktok"]


def test_platforms_over_report_shopify_truth_by_their_channel_factor(world: World) -> None:
    for bw in world.brands:
        raw = {r["order_id"]: r for r in _rows(bw, "raw_orders")}
        truth = defaultdict(float)
        for o in _rows(bw, "orders"):
            p = raw[o["order_id"]]["driven_platform"]
            if p:
                truth[p] += float(o["net_revenue_amount"])
        reported = defaultdict(float)
        purchases = defaultdict(float)
        for r in _rows(bw, "ad_performance"):
            reported[r["platform"]] += _spend_store(world, bw, r, "purchase_value_amount")
            purchases[r["platform"]] += r["purchases"]
        m = world.manifest[bw.brand_id]
        for p, factor in m["channel_over_report_factor"].items():
            assert reported[p] / truth[p] == pytest.approx(factor, rel=0.1)
            assert reported[p] / truth[p] == pytest.approx(m["measured_over_report_factor"][p], rel=0.01)
            driven = sum(1 for r in raw.values() if r["driven_platform"] == p)
            assert purchases[p] > driven
    assert world.manifest["acme-candles"]["channel_over_report_factor"] == {
        "meta": 1.25,
        "tiktok": 1.4,
        "google_ads": 1.15,
    }


def test_clean_products_have_no_spend_and_healthy_cover(world: World) -> None:
    for bw in world.brands:
        clean = world.manifest[bw.brand_id]["clean_products"]
        assert clean
        promoted = {r["product_id"] for r in _rows(bw, "ad_campaign_products")}
        assert not set(clean) & promoted
        variants = [v for v in _rows(bw, "variants") if v["product_id"] in clean]
        raw = {r["order_id"]: r for r in _rows(bw, "raw_orders")}
        driven_orders = {oid for oid, r in raw.items() if r["driven_campaign_id"]}
        for li in _rows(bw, "order_line_items"):
            if li["product_id"] in clean:
                assert li["order_id"] not in driven_orders  # no campaign can be credited with them
        for v in variants:
            cover = _cover(world, bw, v["variant_id"])
            assert all(14 < c < 90 for c in cover.values()), cover


def test_the_healthy_brand_is_clearly_healthy_and_brands_rank_by_urgency(world: World) -> None:
    healthy = world.manifest["urban-wellness"]
    assert healthy["health"] == "healthy"
    assert healthy["low_cover_pushed"] is None and healthy["stockout_with_spend"] is None
    assert healthy["overstock_unsupported"] == []
    assert healthy["expected_findings"] == {"alerts": [], "recommendations": []}
    for p, r in healthy["roas_trend"].items():
        assert abs(r["current"] - r["previous"]) / r["previous"] < 0.05, p
    bw = world.brand("urban-wellness")
    end = world.params.end_date
    final = [r for r in _rows(bw, "inventory_levels") if r["snapshot_date"] == end]
    active = {v["variant_id"] for v in _rows(bw, "variants") if v["is_active"]}
    statuses = {p["product_id"]: p["status"] for p in _rows(bw, "products")}
    variant_product = {v["variant_id"]: v["product_id"] for v in _rows(bw, "variants")}
    for r in final:
        if r["variant_id"] in active and statuses[variant_product[r["variant_id"]]] == "ACTIVE":
            assert r["available"] > 0
    ranks = {b: m["urgency_rank"] for b, m in world.manifest.items()}
    assert ranks == {"acme-candles": 1, "maple-and-moss": 2, "urban-wellness": 3}
    watch = world.manifest["maple-and-moss"]
    assert watch["stockout_with_spend"]["platform"] == "meta" and len(watch["overstock_unsupported"]) == 1


def test_retired_products_stop_selling(world: World) -> None:
    bw = world.brands[0]
    products = {p["product_id"]: p for p in _rows(bw, "products")}
    for li in _rows(bw, "order_line_items"):
        p = products[li["product_id"]]
        assert p["status"] != "DRAFT"
        if p["status"] == "ARCHIVED":
            assert li["order_date"] <= p["updated_at"].date()
        if p["deleted_at"] is not None:
            assert li["order_date"] <= p["deleted_at"].date()


def test_manifest_is_json_and_names_what_it_measures(world: World) -> None:
    text = json.dumps(world.manifest, allow_nan=False)
    back = json.loads(text)
    m = back["acme-candles"]
    assert {
        "low_cover_pushed",
        "overstock_unsupported",
        "stockout_with_spend",
        "roas_trend",
        "clean_products",
        "channel_over_report_factor",
        "definitions",
        "windows",
        "expected_findings",
    } <= set(m)
    assert m["windows"]["current_week"] == [
        (world.params.end_date - timedelta(days=6)).isoformat(),
        world.params.end_date.isoformat(),
    ]
    assert "in-stock days" in m["definitions"]["days_of_cover"]
    variants = {v["variant_id"] for v in world.brands[0].tables["variants"].to_pylist()}
    assert m["low_cover_pushed"]["variant_id"] in variants
    assert Decimal(str(m["low_cover_pushed"]["expected_days_of_cover"])) == 8
