"""The default views come from the document the models' stage writes (issue 16), and answer exactly
what the warehouse path computes.

A synthetic world other than the demo's (seed 23, its own brands' time zones), loaded as the
connectors would leave it and built by the pipeline's own models handler, which writes each brand's
cache document. The same requests are then answered with the document and without it (deleted: the
API computes from the warehouse); the two bodies must be equal, and the cached answers must not
touch the warehouse at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from api_seed import bearer, local_settings
from flask.testing import FlaskClient

from tower import pipeline
from tower.analytics import dashboard_cache
from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.names import AD_PLATFORMS
from tower.ports import Message
from tower.runtime import Runtime
from tower_dev.world import WorldParams, generate_world

WORLD = WorldParams(seed=23, brands=2, days=21, orders_per_day=25, skus=12, locations=2, campaigns_per_platform=2)


class CountingWarehouse:
    """The runtime's warehouse, counting every call made through it (a cache hit must make none)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attr(*args, **kwargs)

        return counted


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root: Path = tmp_path_factory.mktemp("cache-world")
    world = generate_world(WORLD)
    rt = Runtime(local_settings(root))
    rt.warehouse.init_schema()
    rt.warehouse.insert("fx_rates", world.fx_rates)
    brand_ids = []
    for bw in world.brands:
        rt.warehouse.insert("brands", [bw.brand])
        for name, table in bw.tables.items():
            rt.warehouse.insert(name, table)
        brand_ids.append(bw.brand_id)
        rt.store.set(f"brands/{bw.brand_id}", {"name": bw.brand["brand_name"], "timezone": bw.brand["timezone"],
                                               "currency": bw.brand["currency"]})
    # "Now": mid-morning of the day after the world's last, in the first brand's zone
    tz = ZoneInfo(world.brands[0].brand["timezone"])
    now = datetime.combine(WORLD.end_date + timedelta(days=1), time(10), tz).astimezone(UTC)
    for b in brand_ids:
        pipeline.handle_sync_completed(rt, Message("tower-sync-completed", {
            "brand_id": b, "window_start": WORLD.start_date.isoformat(),
            "window_end": (WORLD.end_date + timedelta(days=1)).isoformat()}, {}, "m1"), now=now)
    key = create_api_key(rt.store, brand_ids=brand_ids, name="cache-test")
    yield {"runtime": rt, "brands": brand_ids, "now": now, "key": key, "world": world}
    rt.close()


def _get_all(client: FlaskClient, key: str, brand: str) -> dict[str, Any]:
    paths = [f"/api/brands/{brand}/dashboard", f"/api/brands/{brand}/series", f"/api/brands/{brand}/products",
             *(f"/api/brands/{brand}/drilldown/channel/{ch}" for ch in AD_PLATFORMS),
             *(f"/api/brands/{brand}/products?channel={ch}" for ch in AD_PLATFORMS)]
    out = {}
    for p in paths:
        r = client.get(p, headers=bearer(key))
        assert r.status_code == 200, (p, r.get_json())
        out[p] = r.get_json()
    return out


def test_every_build_writes_the_cache_and_it_answers_what_the_warehouse_computes(built: dict[str, Any]) -> None:
    rt: Runtime = built["runtime"]
    client = create_app(rt, clock=lambda: built["now"]).test_client()
    for b in built["brands"]:
        assert all(rt.store.get(dashboard_cache.path(b, v)) is not None for v in dashboard_cache.VIEWS), b
        cached = _get_all(client, built["key"], b)
        # the figures are real: the world sells and spends in the default week
        dash = cached[f"/api/brands/{b}/dashboard"]
        assert dash["performance_snapshot"]["total_spend"] > 0
        assert dash["tiles"]["mer"]["value"] is not None
        dashboard_cache.clear(rt.store, b)
        computed = _get_all(client, built["key"], b)
        assert cached == computed, b


def test_a_cache_hit_runs_no_warehouse_query(built: dict[str, Any]) -> None:
    rt: Runtime = built["runtime"]
    b = built["brands"][0]
    client = create_app(rt, clock=lambda: built["now"]).test_client()
    _get_all(client, built["key"], b)  # a miss (another test may have deleted it) stores it again
    counting = CountingWarehouse(rt.warehouse)
    rt.__dict__["warehouse"] = counting
    try:
        _get_all(client, built["key"], b)
        assert counting.calls == []
        # a chosen range is the warehouse's, through the read path
        r = client.get(f"/api/brands/{b}/dashboard?period=last_14_days", headers=bearer(built["key"]))
        assert r.status_code == 200
        assert counting.calls and set(counting.calls) == {"read"}
    finally:
        rt.__dict__["warehouse"] = counting.inner


def test_a_new_day_misses_and_the_next_build_replaces_the_document(built: dict[str, Any]) -> None:
    rt: Runtime = built["runtime"]
    b = built["brands"][1]
    tomorrow = built["now"] + timedelta(days=1)
    before = rt.store.get(dashboard_cache.path(b))
    client = create_app(rt, clock=lambda: tomorrow).test_client()
    r = client.get(f"/api/brands/{b}/dashboard", headers=bearer(built["key"]))
    assert r.status_code == 200
    after = rt.store.get(dashboard_cache.path(b))
    # the default week moved with the day: computed for the new today, and stored for the next requests
    assert after["key"]["today"] != before["key"]["today"]
    assert r.get_json()["range"] == after["view"]["range"]
    assert r.get_json()["range"]["end"] != before["view"]["range"]["end"]
    # a build replaces the document whatever it held
    pipeline.handle_sync_completed(rt, Message("tower-sync-completed", {
        "brand_id": b, "window_start": WORLD.start_date.isoformat(),
        "window_end": (WORLD.end_date + timedelta(days=1)).isoformat()}, {}, "m2"), now=built["now"])
    rebuilt = rt.store.get(dashboard_cache.path(b))
    assert rebuilt["generation"] != after["generation"]
    assert rebuilt["key"] == before["key"]
    # every view of a build is one generation
    assert {rt.store.get(dashboard_cache.path(b, v))["generation"] for v in dashboard_cache.VIEWS} == {
        rebuilt["generation"]}


def test_a_document_replaced_meanwhile_is_not_overwritten(built: dict[str, Any]) -> None:
    rt: Runtime = built["runtime"]
    b = built["brands"][0]
    doc = rt.store.get(dashboard_cache.path(b))
    key = dashboard_cache.CacheKey(**doc["key"])
    views = {v: rt.store.get(dashboard_cache.path(b, v))["view"] for v in dashboard_cache.VIEWS}
    stale = {v: {"stale": True} for v in dashboard_cache.VIEWS}
    assert not dashboard_cache.write_if_unchanged(rt.store, b, key, stale, "another-generation", "dashboard")
    assert rt.store.get(dashboard_cache.path(b))["generation"] == doc["generation"]
    assert rt.store.get(dashboard_cache.path(b, "products"))["view"] == views["products"]
    assert dashboard_cache.write_if_unchanged(rt.store, b, key, views, doc["generation"], "dashboard")


def test_a_slow_read_blocks_neither_the_cached_dashboard_nor_a_custom_range(built: dict[str, Any]) -> None:
    """A query running for seconds on one request thread (as gunicorn's gthread worker runs them) while
    other threads answer: the warehouse's read path gives each thread its own cursor, and the stuck
    query ends at its timeout without taking anyone's lock."""
    import threading

    from tower.ports import QueryTimeout

    rt: Runtime = built["runtime"]
    b = built["brands"][0]
    client = create_app(rt, clock=lambda: built["now"]).test_client()
    _get_all(client, built["key"], b)  # the cache is in place
    started, outcome = threading.Event(), {}

    def slow() -> None:
        started.set()
        try:
            # about 10^9 rows, each with a string built: minutes of work, stopped after 3 s
            rt.warehouse.read("SELECT COUNT(*) AS n FROM orders AS a CROSS JOIN orders AS b CROSS JOIN orders AS c "
                              "WHERE CONCAT(a.order_id, b.order_id, c.order_id) = 'none'", timeout_s=3)
            outcome["slow"] = "finished"
        except QueryTimeout:
            outcome["slow"] = "timed out"

    thread = threading.Thread(target=slow, daemon=True)
    thread.start()
    started.wait()
    cached = client.get(f"/api/brands/{b}/dashboard", headers=bearer(built["key"]))
    ranged = client.get(f"/api/brands/{b}/dashboard?period=last_14_days", headers=bearer(built["key"]))
    assert cached.status_code == 200 and ranged.status_code == 200
    assert thread.is_alive(), "the slow query ended before the others ran: make it slower"
    thread.join(30)
    assert outcome["slow"] == "timed out"


def test_products_are_titled_and_sum_their_channel_regions(built: dict[str, Any]) -> None:
    """Checked against the model's rows directly: the product level without a channel; with one, the
    product's regions on that channel summed and the worst status."""
    rt: Runtime = built["runtime"]
    b = built["brands"][0]
    client = create_app(rt, clock=lambda: built["now"]).test_client()
    everything = client.get(f"/api/brands/{b}/products", headers=bearer(built["key"])).get_json()
    assert everything["products"], "the world's products have stock"
    as_of = everything["as_of_date"]
    rows = rt.warehouse.rows("SELECT * FROM inventory_alignment WHERE brand_id = @b AND as_of_date = @d",
                             {"b": b, "d": datetime.fromisoformat(as_of).date()})
    titles = {r["product_id"]: r["title"] for r in rt.warehouse.rows(
        "SELECT product_id, title FROM products WHERE brand_id = @b", {"b": b})}
    for p in everything["products"]:
        assert p["title"] == titles[p["product_id"]] and not p["title"].startswith("gid://")
        (level,) = [r for r in rows if r["level"] == "product" and r["product_id"] == p["product_id"]]
        assert p["available_units"] == level["inventory_units"] and p["status"] == level["mismatch_type"]
        assert p["spend"] == round(float(level["spend_amount"] or 0), 2)
    meta = client.get(f"/api/brands/{b}/products?channel=meta", headers=bearer(built["key"])).get_json()
    severity = ["spending_on_stockout", "overspending_low_stock", "underspending_overstock", "aligned"]
    for p in meta["products"]:
        mine = [r for r in rows if r["level"] != "product" and r["product_id"] == p["product_id"]
                and r["channel"] == "meta"]
        assert p["spend"] == round(sum(float(r["spend_amount"] or 0) for r in mine), 2)
        worst = min((r["mismatch_type"] for r in mine), key=severity.index, default="aligned")
        assert p["status"] == worst
    ranged = client.get(f"/api/brands/{b}/products?period=last_30_days&channel=meta", headers=bearer(built["key"]))
    assert ranged.status_code == 200 and ranged.get_json()["range"]["period"]["name"] == "last_30_days"
    assert ranged.get_json()["products"] == meta["products"]
    bad = client.get(f"/api/brands/{b}/products?channel=myspace", headers=bearer(built["key"]))
    assert bad.status_code == 400 and "channel" in bad.get_json()["error"]["message"]


def test_every_product_a_response_names_carries_its_picture(built: dict[str, Any]) -> None:
    """Products, drilldown mismatches, alerts and cards: each names its product's image (as the Shopify
    sync stores it) or null, from the cached catalogue; a product without one stays null."""
    rt: Runtime = built["runtime"]
    b = built["brands"][1]
    ids = sorted(r["product_id"] for r in rt.warehouse.rows("SELECT product_id FROM products WHERE brand_id = @b",
                                                            {"b": b}))
    bare = ids[0]
    pictures = {pid: (f"https://cdn.shopify.com/s/files/1/0612/3456/7890/files/p{n}.jpg?v=1", f"Picture {n}")
                for n, pid in enumerate(ids[1:])}
    rt.warehouse.merge("products", [{"brand_id": b, "product_id": pid, "image_url": url, "image_alt": alt}
                                    for pid, (url, alt) in pictures.items()], ["brand_id", "product_id"])
    # a card and an alert on the bare product and on a pictured one, as the recommend step writes them
    pictured_id = ids[1]
    for n, pid in enumerate((bare, pictured_id)):
        rt.store.set(f"brands/{b}/alerts/al{n}", {"id": f"al{n}", "brand_id": b, "type": "stockout_risk",
                                                  "severity": "high", "title": "t", "status": "open",
                                                  "product_id": pid, "product": "Its title"})
    dashboard_cache.refresh(rt, b, datetime.fromisoformat(built["now"].isoformat()).astimezone(
        ZoneInfo(rt.store.get(f"brands/{b}")["timezone"])).date(), now=built["now"])
    client = create_app(rt, clock=lambda: built["now"]).test_client()
    products = client.get(f"/api/brands/{b}/products", headers=bearer(built["key"])).get_json()["products"]
    assert products
    for p in products:
        url, alt = pictures.get(p["product_id"], (None, None))
        assert (p["image_url"], p["image_alt"]) == (url, alt)
    alerts = client.get(f"/api/brands/{b}/alerts", headers=bearer(built["key"])).get_json()["alerts"]
    by_product = {a["product_id"]: a for a in alerts if a["id"] in ("al0", "al1")}
    assert by_product[bare]["image_url"] is None and "image_alt" in by_product[bare]
    assert by_product[pictured_id]["image_url"] == pictures[pictured_id][0]
    assert by_product[pictured_id]["product"] == "Its title"  # a title it had stays
    dashboard = client.get(f"/api/brands/{b}/dashboard", headers=bearer(built["key"])).get_json()
    assert {a["id"]: a["image_url"] for a in dashboard["alerts"] if a["id"] in ("al0", "al1")} == {
        "al0": None, "al1": pictures[pictured_id][0]}
    for card in dashboard["recommendations"]:
        if card.get("product_id"):
            assert card["image_url"] == pictures.get(card["product_id"], (None,))[0]
    mismatches = [m for ch in AD_PLATFORMS for m in client.get(
        f"/api/brands/{b}/drilldown/channel/{ch}", headers=bearer(built["key"])).get_json()[
        "inventory_alignment"]["mismatches"]]
    for m in mismatches:
        assert m["image_url"] == pictures.get(m["product"], (None,))[0]
        assert m["product_title"] and not m["product_title"].startswith("gid://")
