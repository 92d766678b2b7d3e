"""Bulk backfill: start → poll → fetch against the sandbox, resumable at every step; the block loader."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.connectors.shopify import bulk, records
from tower.connectors.shopify.streams import bulk_orders_query
from tower.sync.shopify_bulk import BulkLoader
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.bulk import encode_line
from tower_dev.sandboxes.shopify_store.faults import Fault, FaultPlan
from tower_dev.sandboxes.shopify_store.testing import bulk_export, bulk_item_line, bulk_order_line


@pytest.fixture
def bulk_settings(settings):
    return settings.model_copy(update={"shopify_bulk_min_orders": 0})


def test_a_first_sync_over_a_large_shop_backfills_in_bulk(brands, sandbox, warehouse, run_sync, bulk_settings):
    for brand_id in brands:
        result = run_sync(brand_id, settings=bulk_settings)
        assert result.status == "ok", result.error
        assert result.mode == "bulk"
        truth = sandbox.shop(brand_id).state.truth()
        diffs = testing.differences(warehouse, truth, brand_id)
        assert all(not d for d in diffs.values()), {t: d[:3] for t, d in diffs.items() if d}
    state = warehouse.rows("SELECT resource, cursor_value, checkpoint, status FROM sync_state "
                           "WHERE brand_id = @b AND resource IN ('orders', 'orders_bulk')", {"b": brands[0]})
    by = {r["resource"]: r for r in state}
    assert by["orders_bulk"]["checkpoint"] is None and by["orders_bulk"]["status"] == "idle"
    # The next incremental window starts where the export started (changes during it are re-read).
    op = next(iter(sandbox.shop(brands[0]).bulk.ops.values()))
    assert by["orders"]["cursor_value"] == op.node()["createdAt"]


def test_after_a_backfill_the_next_sync_is_incremental_and_changes_nothing(brands, warehouse, run_sync,
                                                                          bulk_settings):
    brand_id = brands[0]
    run_sync(brand_id, settings=bulk_settings)
    before = testing.snapshot(warehouse, brand_id)
    again = run_sync(brand_id, settings=bulk_settings)
    assert again.status == "ok" and again.mode == "incremental"
    assert testing.snapshot(warehouse, brand_id) == before


def test_the_backfill_survives_being_cut_off_at_every_step(brands, sandbox, warehouse, run_sync, bulk_settings):
    """Each call stops after one step (a function's 9 minutes, compressed) and the next resumes."""
    brand_id = brands[0]
    phases = []
    for _ in range(40):
        result = run_sync(brand_id, settings=bulk_settings, deadline_seconds=-1, bulk_block_bytes=4096)
        row = warehouse.rows("SELECT checkpoint FROM sync_state WHERE resource = 'orders_bulk' AND brand_id = @b",
                             {"b": brand_id})
        if row and row[0]["checkpoint"]:
            phases.append(json.loads(row[0]["checkpoint"])["phase"])
        if result.status == "ok":
            break
        assert result.status == "incomplete"
    assert result.status == "ok"
    assert {"poll", "fetch"} <= set(phases)
    assert len(sandbox.shop(brand_id).bulk.ops) == 1  # resumed, never restarted
    diffs = testing.differences(warehouse, sandbox.shop(brand_id).state.truth(), brand_id)
    assert all(not d for d in diffs.values()), {t: d[:3] for t, d in diffs.items() if d}


def test_a_download_dropped_midway_resumes_with_a_range_request(brands, sandbox, warehouse, run_sync,
                                                                bulk_settings):
    brand_id = brands[0]
    sandbox.shop(brand_id).faults = FaultPlan.of([Fault("download_drop", 1)])
    result = run_sync(brand_id, settings=bulk_settings, bulk_block_bytes=8192)
    assert result.status == "ok", result.error
    assert sandbox.shop(brand_id).faults.downloads >= 2
    diffs = testing.differences(warehouse, sandbox.shop(brand_id).state.truth(), brand_id)
    assert all(not d for d in diffs.values())


def test_while_another_export_holds_the_slot_the_sync_waits_and_resumes(brands, sandbox, warehouse, run_sync,
                                                                        bulk_settings, clock):
    brand_id = brands[0]
    shop = sandbox.shop(brand_id)
    shop.bulk.concurrent_limit = 1
    other, errors = shop.bulk.run_query(bulk_orders_query(), shop.scopes)  # another app's job, running
    assert other is not None and not errors
    result = run_sync(brand_id, settings=bulk_settings, deadline_seconds=30)
    assert result.status == "incomplete"
    assert any("slot" in w for w in result.warnings)
    assert clock.sleeps, "it waited between attempts instead of spinning"
    shop.bulk.cancel(other.id)
    done = run_sync(brand_id, settings=bulk_settings)
    assert done.status == "ok" and done.mode == "bulk"


class WarehouseLoader:
    """A fresh in-memory DuckDB warehouse and loaders into it, so block handling is visible as rows."""

    def __init__(self) -> None:
        self.warehouse = DuckDBWarehouse(":memory:")
        self.warehouse.init_schema()

    def loader(self, ctx: records.BrandContext, **kwargs: Any) -> BulkLoader:
        return BulkLoader(self.warehouse, ctx, **kwargs)

    def warehouse_rows(self, table: str, key: str) -> dict[str, dict[str, Any]]:
        return {r[key]: r for r in self.warehouse.rows(f"SELECT * FROM {table}")}

    @property
    def orders(self) -> dict[str, dict[str, Any]]:
        return self.warehouse_rows("orders", "order_id")

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        return self.warehouse_rows("order_line_items", "line_item_id")


def test_children_before_their_parent_in_an_earlier_block_are_carried_until_it_arrives():
    ctx = records.BrandContext("b", "America/Chicago", "USD", "salt")
    mem = WarehouseLoader()
    progress = bulk.BulkProgress(phase="fetch", url="unused")
    first = b"".join(encode_line(x) for x in (bulk_item_line(1, 10), bulk_order_line(20), bulk_item_line(2, 20)))
    second = b"".join(encode_line(x) for x in (bulk_order_line(10), bulk_item_line(3, 10)))
    mem.loader(ctx).load_block(first, progress)
    assert set(mem.items) == {"gid://shopify/LineItem/2"}
    assert [p["line_item_id"] for p in progress.pending] == ["gid://shopify/LineItem/1"]
    # The checkpoint holds the carried child as JSON (a new process resumes from it).
    progress = bulk.BulkProgress.from_json(progress.to_json())
    mem.loader(ctx).load_block(second, progress)
    assert set(mem.items) == {f"gid://shopify/LineItem/{i}" for i in (1, 2, 3)}
    assert mem.items["gid://shopify/LineItem/1"]["order_date"].isoformat() == "2026-11-20"
    assert mem.items["gid://shopify/LineItem/1"]["price_amount"] == Decimal(20)
    assert progress.pending == []


def test_children_whose_parent_is_already_stored_are_resolved_from_the_store():
    ctx = records.BrandContext("b", "America/Chicago", "USD", "salt")
    mem = WarehouseLoader()
    progress = bulk.BulkProgress(phase="fetch", url="unused")
    mem.loader(ctx).load_block(encode_line(bulk_order_line(7)), progress)
    mem.loader(ctx).load_block(encode_line(bulk_item_line(70, 7)), progress)
    assert mem.items["gid://shopify/LineItem/70"]["order_id"] == "gid://shopify/Order/7"
    assert progress.pending == []


def test_the_columnar_parser_equals_the_row_mapper_over_a_world_export(world, clock):
    """Every order and line item of a world's export: the block parser's rows == records' rows."""
    from tower_dev.sandboxes.shopify_store.bulk_render import write_orders_jsonl
    from tower_dev.sandboxes.shopify_store.state import ShopState

    bw = world.brands[0]
    ctx = records.BrandContext(bw.brand["brand_id"], bw.brand["timezone"], bw.brand["currency"], bw.customer_salt)
    out = io.BytesIO()
    write_orders_jsonl(ShopState.from_brand_world(bw, clock=clock), out, seed=3)
    data = out.getvalue()

    parents: dict[str, dict[str, Any]] = {}
    children: list[dict[str, Any]] = []
    fos: dict[str, dict[str, Any]] = {}
    fo_lines: list[dict[str, Any]] = []
    for line in data.splitlines():
        obj = json.loads(line)
        if obj["id"].startswith(bulk.FULFILLMENT_ORDER_GID):
            fos[obj["id"]] = {**obj, "lineItems": {"nodes": []}}
        elif obj["id"].startswith(bulk.FULFILLMENT_ORDER_LINE_GID):
            fo_lines.append(obj)
        elif "__parentId" in obj:
            children.append(obj)
        else:
            parents[obj["id"]] = records.order_row(obj, ctx)
    want_items = {c["id"]: records.line_item_row(c, parents[c["__parentId"]]) for c in children}
    for fo_line in fo_lines:
        fos[fo_line["__parentId"]]["lineItems"]["nodes"].append(fo_line)
    want_fos, want_fo_lines = {}, {}
    for fo in fos.values():
        got_fos, got_lines = records.fulfillment_rows({"id": fo["__parentId"], "fulfillmentOrders": {"nodes": [fo]}},
                                                      ctx)
        want_fos.update({r["fulfillment_order_id"]: r for r in got_fos})
        want_fo_lines.update({r["fulfillment_order_line_item_id"]: r for r in got_lines})

    # Small blocks, so children meet parents across blocks (carried, or resolved from the store).
    mem = WarehouseLoader()
    progress = bulk.BulkProgress(phase="fetch", url="unused")
    blocks = []
    chunks = iter([data[i:i + 8192] for i in range(0, len(data), 8192)])
    assert mem.loader(ctx, block_bytes=64 * 1024).load(chunks, progress, lambda p: blocks.append(p.offset) or True)
    assert len(blocks) > 3 and progress.pending == []
    assert mem.orders == {k: dict(v) for k, v in parents.items()}
    assert mem.items == {k: dict(v) for k, v in want_items.items()}
    assert mem.warehouse_rows("fulfillment_orders", "fulfillment_order_id") == want_fos
    assert mem.warehouse_rows("fulfillment_order_line_items", "fulfillment_order_line_item_id") == want_fo_lines
    assert len(want_fos) == len(parents) and len(want_fo_lines) == len(want_items)
    # The export exercises what the mapping must get right.
    rows = list(parents.values())
    assert any(r["cancelled_at"] for r in rows) and any(r["refunded_amount"] for r in rows)
    assert any(r["utm_source"] for r in rows) and all(any(r[k] for r in rows) for k in records.CLICK_IDS)
    assert any(r["customer_hash"] for r in rows) and any(r["shipping_zip_prefix"] for r in rows)
    assert any(r["refunded_quantity"] for r in want_items.values())


def test_the_pipelined_loader_stops_after_a_block_and_the_next_run_resumes_from_its_offset():
    ctx = records.BrandContext("b", "America/Chicago", "USD", "salt")
    data = bulk_export(60)

    def chunks(start: int) -> Any:
        return iter([data[i:i + 500] for i in range(start, len(data), 500)])

    whole = WarehouseLoader()
    done = bulk.BulkProgress(phase="fetch", url="unused")
    assert whole.loader(ctx, block_bytes=2000).load(chunks(0), done)
    assert done.offset == len(data) and done.pending == [] and len(whole.items) == 120

    mem = WarehouseLoader()
    progress = bulk.BulkProgress(phase="fetch", url="unused")
    stops = []
    assert not mem.loader(ctx, block_bytes=2000).load(chunks(0), progress,
                                                      lambda p: stops.append(p.offset) is not None)
    # Stopped after the first block: the checkpoint is at its end, on a line boundary.
    assert stops == [progress.offset] and 0 < progress.offset < len(data)
    assert data[progress.offset - 1:progress.offset] == b"\n"
    runs = 1
    while progress.offset < len(data):
        progress = bulk.BulkProgress.from_json(progress.to_json())  # a new process resumes
        mem.loader(ctx, block_bytes=2000).load(chunks(progress.offset), progress, lambda p: False)
        runs += 1
    assert runs > 3 and progress.pending == []
    assert mem.orders == whole.orders and mem.items == whole.items


# -- scratch files: under the data dir, private, truncated after the parse, swept after a crash --------
def _modes(root: Any) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in sorted(root.rglob("*"))}


def test_blocks_wait_in_private_scratch_files_under_the_data_dir_and_are_emptied_once_loaded(tmp_path):
    ctx = records.BrandContext("b", "America/Chicago", "USD", "salt")
    data_dir = tmp_path / "data"
    seen: list[dict[str, Any]] = []
    mem = WarehouseLoader()
    loader = mem.loader(ctx, block_bytes=10**9, data_dir=data_dir)

    def look(progress: bulk.BulkProgress) -> bool:
        # The block is in the warehouse: its raw lines (customer ids, ZIPs, click ids) must be gone.
        files = {p.name: p.stat().st_size for p in (data_dir / "scratch").rglob("*.jsonl")}
        seen.append({"modes": _modes(data_dir / "scratch"), "sizes": files})
        return True

    data = bulk_export(30)
    # One block: when it is stored, the read-ahead has nothing left to write.
    assert loader.load(iter([data[:700], data[700:]]), bulk.BulkProgress(phase="fetch", url="u"), look)
    assert len(mem.orders) == 30 and len(seen) == 1
    modes = seen[0]["modes"]
    run_dir = next(k for k in modes if "/" not in k and k.startswith("shopify-bulk-"))
    assert modes[run_dir] == 0o700
    assert modes[f"{run_dir}/block-a.jsonl"] == 0o600 and modes[f"{run_dir}/.lock"] == 0o600
    assert seen[0]["sizes"] == {"block-a.jsonl": 0}
    assert (data_dir / "scratch").stat().st_mode & 0o777 == 0o700
    assert not list((data_dir / "scratch").glob("shopify-bulk-*"))  # gone when the load ends


_KILLED_LOAD = r"""
import sys

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.connectors.shopify import bulk, records
from tower.sync.shopify_bulk import BulkLoader

data_dir, jsonl = sys.argv[1], sys.argv[2]
data = open(jsonl, "rb").read()
warehouse = DuckDBWarehouse(":memory:")
warehouse.init_schema()
loader = BulkLoader(warehouse, records.BrandContext("b", "America/Chicago", "USD", "salt"), block_bytes=2000,
                    data_dir=data_dir)


def wait_to_be_killed(progress):
    print("stored", progress.offset, flush=True)
    sys.stdin.readline()  # the test kills this process while it waits here
    return True


loader.load(iter([data[i:i + 500] for i in range(0, len(data), 500)]), bulk.BulkProgress(phase="fetch", url="unused"),
            wait_to_be_killed)
"""


def test_a_bulk_load_killed_midway_leaves_its_scratch_only_under_the_data_dir_and_the_next_start_sweeps_it(
        tmp_path):
    import os
    import signal
    import subprocess
    import sys

    data_dir = (tmp_path / "data").resolve()
    jsonl = tmp_path / "export.jsonl"
    jsonl.write_bytes(bulk_export(60))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_LOAD, str(data_dir), str(jsonl)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp)})
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("stored"), line
        fds = f"/proc/{proc.pid}/fd"
        open_files = set()
        for fd in os.listdir(fds):
            try:
                open_files.add(os.readlink(f"{fds}/{fd}"))
            except OSError:
                continue
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    left = list((data_dir / "scratch").glob("shopify-bulk-*"))
    assert len(left) == 1, "the killed load left its directory (a kill runs no clean-up)"
    assert list(left[0].glob("block-*.jsonl"))  # the blocks it was working on lived there...
    assert not [f for f in open_files if f.startswith(("/dev/shm", str(tmp)))]  # ...and nowhere else
    assert list(tmp.iterdir()) == []
    modes = _modes(data_dir / "scratch")
    assert {k: v for k, v in modes.items() if not k.endswith(".jsonl")} == {
        ".lock": 0o600, left[0].name: 0o700, f"{left[0].name}/.lock": 0o600}
    assert {v for k, v in modes.items() if k.endswith(".jsonl")} == {0o600}

    # The next start sweeps it (the dead process's lock is gone with it).
    mem = WarehouseLoader()
    data = bulk_export(3)
    ctx = records.BrandContext("b", "America/Chicago", "USD", "salt")
    assert mem.loader(ctx, data_dir=data_dir).load(iter([data]), bulk.BulkProgress(phase="fetch", url="u"))
    assert not left[0].exists() and not list((data_dir / "scratch").glob("shopify-bulk-*"))


def test_a_sweep_keeps_a_live_runs_scratch_and_a_sync_sweeps_before_it_starts(brands, run_sync, settings):
    from tower.connectors.shopify import scratch

    with scratch.scratch_dir(settings.data_dir) as live:
        (live / "block.jsonl").write_bytes(b"{}\n")
        assert scratch.remove_stale(settings.data_dir) == []  # held by this (live) run
        assert live.exists()
    dead = scratch.scratch_root(settings.data_dir) / "shopify-bulk-dead"
    dead.mkdir()
    (dead / "block.jsonl").write_bytes(b'{"customer": {"id": "gid://shopify/Customer/1"}}\n')
    assert run_sync(brands[0]).status == "ok"  # an incremental sync: no bulk load needed to sweep
    assert not dead.exists()
