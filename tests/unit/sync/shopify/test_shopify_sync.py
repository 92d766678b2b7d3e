"""The real connector against the sandbox store: full, incremental, resumed and faulty syncs end with
the warehouse equal to the shop's truth, row for row."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_secrets import LocalSecrets
from tower.config import Settings
from tower.connectors.shopify import streams as st
from tower.ports import PortError
from tower.sync.run import Ports, RunOptions
from tower.sync.shopify import NotConnected, sync_shopify
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.faults import Fault, FaultPlan
from tower_dev.sandboxes.shopify_store.server import serve_world
from tower_dev.sandboxes.shopify_store.state import gid, gid_number


def no_differences(diffs: dict[str, list[Any]]) -> bool:
    return all(not v for v in diffs.values())


def test_full_sync_equals_the_shops_truth(brands, sandbox, warehouse, run_sync):
    for brand_id in brands:
        result = run_sync(brand_id)
        assert result.status == "ok", result.error
        truth = sandbox.shop(brand_id).state.truth()
        diffs = testing.differences(warehouse, truth, brand_id)
        assert no_differences(diffs), {t: d[:3] for t, d in diffs.items() if d}
        assert result.stored["orders"] == len(truth["orders"])


def keyed(table: str, rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in testing.KEYS[table]): r for r in rows}


def test_the_shops_truth_is_the_worlds_truth(world, sandbox):
    """The sandbox serves the world: its full truth is the world's tables (inventory: the last day),
    except the products' pictures, which the sandbox serves (the world has no CDN)."""
    for bw in world.brands:
        state = sandbox.shop(bw.brand["brand_id"]).state
        full = state.truth(observable=False)
        for table in ("products", "variants", "locations", "orders", "order_line_items"):
            ours, worlds = keyed(table, full[table]), keyed(table, bw.tables[table].to_pylist())
            if table == "products":
                assert {r["image_url"] for r in worlds.values()} == {None}
                images = [r.pop("image_url") for r in ours.values()] + [r.pop("image_alt") for r in ours.values()]
                assert sum(1 for u in images if u and u.startswith(sandbox.origin + "/s/files/1/")) > len(ours) / 2
                for r in worlds.values():
                    del r["image_url"], r["image_alt"]
            assert ours == worlds, table
        last_day = max(bw.tables["inventory_levels"].column("snapshot_date").to_pylist())
        world_levels = [{**r, "snapshot_date": None} for r in bw.tables["inventory_levels"].to_pylist()
                        if r["snapshot_date"] == last_day]
        served = [{**r, "snapshot_date": None} for r in full["inventory_levels"]]
        assert keyed("inventory_levels", served) == keyed("inventory_levels", world_levels)


def test_a_product_deleted_before_the_first_sync_is_known_only_by_its_destroy_event(brands, sandbox, warehouse,
                                                                                    run_sync):
    brand_id = brands[0]
    state = sandbox.shop(brand_id).state
    assert state.deleted_before_open, "the world plants a deleted product"
    run_sync(brand_id)
    pid = gid("Product", next(iter(state.deleted_before_open)))
    row = warehouse.rows("SELECT * FROM products WHERE product_id = @p", {"p": pid})[0]
    assert row["is_active"] is False
    assert row["deleted_at"] == state.products[gid_number(pid)].deleted_at
    assert row["title"] is None  # Shopify no longer serves it


def test_a_second_run_changes_nothing(brands, warehouse, run_sync):
    brand_id = brands[0]
    run_sync(brand_id)
    before = testing.snapshot(warehouse, brand_id)
    again = run_sync(brand_id)
    assert again.status == "ok"
    assert testing.snapshot(warehouse, brand_id) == before
    # Only the boundary (records sharing the last updated_at) is read again.
    assert again.stored.get("orders", 0) < 5


def test_incremental_sync_after_changes_equals_the_truth(brands, sandbox, warehouse, run_sync, clock):
    brand_id = brands[0]
    run_sync(brand_id)
    state = sandbox.shop(brand_id).state
    orders = sorted(state.orders.values(), key=lambda o: o.created_at)
    live = [o for o in orders if o.cancelled_at is None and not o.refunds]

    clock.advance(3600)
    new = state.add_order(like=live[0].id, quantity=2)
    clock.advance(60)
    state.update_order_address(live[1].id, zip_code="73301", province_code="TX")
    clock.advance(60)
    line = live[2].line_items[0]
    refund = state.refund_line(live[2].id, line.id, 1)
    clock.advance(60)
    state.cancel_order(live[3].id)
    clock.advance(60)
    doomed = next(p for p in state.live_products() if p.id not in state.deleted_before_open)
    state.delete_product(doomed.id)
    clock.advance(60)
    item, location = next(iter(state.levels))
    state.move_stock(item, location, available=-3, committed=3)
    clock.advance(60)
    variant = next(v for v in state.live_variants() if v.is_active)
    state.update_variant(variant.id, unit_cost=Decimal("4.25"))
    clock.advance(60)

    result = run_sync(brand_id)
    assert result.status == "ok", result.error
    diffs = testing.differences(warehouse, state.truth(), brand_id)
    assert no_differences(diffs), {t: d[:3] for t, d in diffs.items() if d}

    rows = {r["order_id"]: r for r in warehouse.rows("SELECT * FROM orders WHERE brand_id = @b", {"b": brand_id})}
    assert rows[gid("Order", new.id)]["subtotal_amount"] == new.subtotal
    assert rows[gid("Order", live[1].id)]["shipping_region_code"] == "US-TX"
    assert rows[gid("Order", live[1].id)]["shipping_zip_prefix"] == "733"
    assert rows[gid("Order", live[2].id)]["refunded_amount"] == refund.amount
    cancelled = rows[gid("Order", live[3].id)]
    assert cancelled["cancelled_at"] is not None and cancelled["net_revenue_amount"] == 0
    product = warehouse.rows("SELECT is_active, deleted_at FROM products WHERE product_id = @p",
                             {"p": gid("Product", doomed.id)})[0]
    assert product == {"is_active": False, "deleted_at": state.products[doomed.id].deleted_at}
    assert all(not r["is_active"] for r in warehouse.rows(
        "SELECT is_active FROM variants WHERE product_id = @p", {"p": gid("Product", doomed.id)}))
    # The deleted product's past line items keep the variant they sold.
    sold = [li for o in orders for li in o.line_items if li.product_id == doomed.id]
    if sold:
        kept = warehouse.rows("SELECT variant_id FROM order_line_items WHERE line_item_id = @li",
                              {"li": gid("LineItem", sold[0].id)})[0]
        assert kept["variant_id"] == gid("ProductVariant", sold[0].variant_id)
    before = testing.snapshot(warehouse, brand_id)
    assert run_sync(brand_id).status == "ok"
    assert testing.snapshot(warehouse, brand_id) == before


def test_records_sharing_the_cursor_time_are_not_skipped(brands, sandbox, warehouse, run_sync, clock):
    brand_id = brands[0]
    state = sandbox.shop(brand_id).state
    run_sync(brand_id)
    clock.advance(120)
    first, second = [o for o in state.orders.values() if o.cancelled_at is None][:2]
    state.update_order_address(first.id, zip_code="10001", province_code="NY")
    assert run_sync(brand_id).status == "ok"
    # Same second as the cursor now stands at: an exclusive filter (updated_at:>) would miss it.
    state.update_order_address(second.id, zip_code="60601", province_code="IL")
    assert state.orders[second.id].updated_at == state.orders[first.id].updated_at
    assert run_sync(brand_id).status == "ok"
    row = warehouse.rows("SELECT shipping_region_code FROM orders WHERE order_id = @o",
                         {"o": gid("Order", second.id)})[0]
    assert row["shipping_region_code"] == "US-IL"


def test_many_orders_sharing_one_updated_at_across_pages_all_arrive(brands, sandbox, warehouse, run_sync,
                                                                      clock):
    brand_id = brands[0]
    state = sandbox.shop(brand_id).state
    run_sync(brand_id)
    clock.advance(60)
    page = st.ORDERS.page_size(sandbox.shop(brand_id).bucket.maximum)
    tied = [o for o in state.orders.values() if o.cancelled_at is None][: 2 * page + 3]  # > 2 pages
    for o in tied:
        state.update_order_address(o.id, zip_code="98101", province_code="WA")
    assert len({o.updated_at for o in tied}) == 1
    # Cut the sync after every stored page: each call resumes from the checkpoint.
    calls = 0
    while True:
        calls += 1
        result = run_sync(brand_id, deadline_seconds=-1)
        if result.status == "ok":
            break
        assert result.status == "incomplete"
    assert calls >= 3  # more than two pages, cut after each page
    diffs = testing.differences(warehouse, state.truth(), brand_id, ("orders",))
    assert no_differences(diffs), diffs["orders"][:3]


class CrashingWarehouse(DuckDBWarehouse):
    """A warehouse that dies on the n-th MERGE into orders (a killed function)."""

    def __init__(self, crash_on: int) -> None:
        super().__init__(":memory:")
        self.crash_on = crash_on
        self.order_merges = 0
        self.armed = True

    def merge(self, table: str, rows: Any, keys: Any) -> int:
        if table == "orders" and self.armed:
            self.order_merges += 1
            if self.order_merges == self.crash_on:
                raise PortError("warehouse connection lost")
        return super().merge(table, rows, keys)


def test_a_crash_mid_sync_resumes_from_the_last_stored_page(world, sandbox, secrets, store, clock, settings):
    wh = CrashingWarehouse(crash_on=4)
    wh.init_schema()
    bw = world.brands[0]
    brand_id = testing.connect_brand(wh, secrets, bw, sandbox.tokens[bw.brand["brand_id"]], clock.now())

    def run() -> Any:
        return sync_shopify(Ports(settings, wh, secrets, store), brand_id,
                            options=RunOptions(now=clock.now, sleep=clock.sleep, monotonic=clock.monotonic))

    with pytest.raises(PortError):
        run()
    checkpoint = wh.rows("SELECT checkpoint, status FROM sync_state WHERE resource = 'orders'")[0]
    assert checkpoint["status"] == "running" and json.loads(checkpoint["checkpoint"])["after"]
    stored = wh.rows("SELECT COUNT(*) AS n FROM orders")[0]["n"]
    page = st.ORDERS.page_size(sandbox.shop(brand_id).bucket.maximum)
    assert stored == 3 * page  # three pages stored before the crash
    wh.armed = False
    resumed = run()
    assert resumed.status == "ok"
    assert resumed.stored["orders"] == len(bw.tables["orders"]) - 3 * page
    diffs = testing.differences(wh, sandbox.shop(brand_id).state.truth(), brand_id)
    assert no_differences(diffs), {t: d[:3] for t, d in diffs.items() if d}


def test_an_expired_token_marks_the_integration_and_spares_the_other_brand(brands, sandbox, warehouse, run_sync):
    hit, spared = brands
    sandbox.shop(hit).faults = FaultPlan.of([Fault("expired_token", 4)])
    result = run_sync(hit)
    assert result.status == "needs_reauth"
    status = warehouse.rows("SELECT status FROM integrations WHERE brand_id = @b", {"b": hit})[0]["status"]
    assert status == "needs_reauth"
    # Stopped cleanly: no retries against a dead token, the state row says why.
    assert sandbox.shop(hit).faults.requests == 4
    state = warehouse.rows("SELECT status FROM sync_state WHERE brand_id = @b AND status = 'needs_reauth'",
                           {"b": hit})
    assert len(state) == 1
    other = run_sync(spared)
    assert other.status == "ok"
    diffs = testing.differences(warehouse, sandbox.shop(spared).state.truth(), spared)
    assert no_differences(diffs)


def test_a_missing_scope_needs_reauthorisation(brands, sandbox, run_sync):
    shop = sandbox.shop(brands[0])
    shop.scopes = frozenset(shop.scopes - {"read_orders"})
    result = run_sync(brands[0])
    assert result.status == "needs_reauth"
    assert "read_orders" in (result.error or "")


def test_without_read_all_orders_the_sync_says_history_is_limited(brands, sandbox, run_sync):
    shop = sandbox.shop(brands[0])
    shop.scopes = frozenset(shop.scopes - {"read_all_orders"})
    result = run_sync(brands[0])
    assert result.status == "ok"
    assert any("read_all_orders" in w for w in result.warnings)


def test_an_unconnected_brand_is_bad_input(warehouse, secrets, settings):
    with pytest.raises(NotConnected):
        sync_shopify(Ports(settings, warehouse, secrets), "nobody")


def run_world(world: Any, faults: dict[str, FaultPlan] | None = None) -> dict[str, Any]:
    """Sync every brand of the world on a fresh sandbox and warehouse; return the tables."""
    import tempfile

    clock = testing.clock_after(world)
    handle = serve_world(world, clock=clock)
    wh = DuckDBWarehouse(":memory:")
    wh.init_schema()
    with tempfile.TemporaryDirectory() as tmp:
        secrets = LocalSecrets(tmp)
        settings = Settings(shopify_api_origin=handle.origin, shopify_bulk_min_orders=10**9)
        out = {}
        try:
            for bw in world.brands:
                b = bw.brand["brand_id"]
                testing.connect_brand(wh, secrets, bw, handle.tokens[b], clock.now())
                if faults and b in faults:
                    handle.shop(b).faults = faults[b]
                options = RunOptions(now=clock.now, sleep=clock.sleep, monotonic=clock.monotonic)
                result = sync_shopify(Ports(settings, wh, secrets), b, options=options)
                assert result.status == "ok", (b, result.error)
                # image URLs name the sandbox's origin, a new port each run: compare their paths
                out[b] = testing.snapshot(wh, b)
                for row in out[b]["products"].values():
                    row["image_url"] = (row["image_url"] or "").replace(handle.origin, "<origin>")
        finally:
            handle.stop()
            wh.close()
    return out


@pytest.fixture(scope="module")
def fault_world() -> Any:
    return testing.small_world(brands=1, days=14, orders_per_day=4)


@pytest.fixture(scope="module")
def fault_free(fault_world: Any) -> dict[str, Any]:
    return run_world(fault_world)


@pytest.mark.parametrize("seed", range(6))
def test_random_faults_end_equal_to_a_fault_free_run(fault_world, fault_free, seed):
    faults = {bw.brand["brand_id"]: FaultPlan.random(seed, requests=16, count=4) for bw in fault_world.brands}
    faulty = run_world(fault_world, faults)
    fired = [f.kind for plan in faults.values() for f in plan.fired]
    assert fired, "the plan injected faults"
    assert faulty == fault_free


def test_the_pipeline_task_syncs_with_the_runtime_and_reports_the_window(world, tmp_path):
    from tower.runtime import Runtime
    from tower.sync.shopify import sync_brand

    # The task runs on the real clock: a bucket too big to throttle keeps the test from sleeping.
    handle = serve_world(world, clock=testing.clock_after(world), bucket_maximum=10**9, restore_rate=10**9)
    runtime = Runtime(Settings(warehouse=f"duckdb:///{tmp_path}/wh.duckdb", store=f"local:///{tmp_path}/s.sqlite",
                               secrets=f"local:///{tmp_path}/secrets", shopify_api_origin=handle.origin))
    try:
        runtime.warehouse.init_schema()
        bw = world.brands[0]
        brand_id = testing.connect_brand(runtime.warehouse, runtime.secrets, bw, handle.tokens[bw.brand["brand_id"]],
                                         handle.sandbox.clock.now())
        out = sync_brand(runtime, brand_id)
        assert out["status"] == "ok" and out["stored"]["orders"] == bw.tables["orders"].num_rows
        dates = bw.tables["orders"].column("order_date").to_pylist()
        assert out["window_start"] == min(dates).isoformat()
        again = sync_brand(runtime, brand_id, since=max(dates))
        assert again["status"] == "ok"
        state = handle.shop(brand_id).state
        assert again["stored"]["orders"] >= sum(1 for o in state.orders.values()
                                               if state.local_date(o.updated_at) >= max(dates)) > 0
    finally:
        handle.stop()
        runtime.close()
