"""The first sync's progress (tower.sync.progress), written page by page as the real sync runs on the sandbox."""

from __future__ import annotations

from typing import Any

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_secrets import LocalSecrets
from tower.adapters.local_store import LocalStore
from tower.config import Settings
from tower.sync import progress
from tower.sync.run import Ports, RunOptions
from tower.sync.shopify import sync_shopify
from tower_dev.sandboxes.shopify_store.clock import FakeClock


def test_progress_is_written_as_the_sync_goes_with_a_time_left_from_the_rate_so_far(
        settings: Settings, warehouse: DuckDBWarehouse, secrets: LocalSecrets, store: LocalStore, clock: FakeClock,
        brands: list[str]) -> None:
    brand = brands[1]  # not the first brand: another zone and currency
    recorder = progress.ProgressRecorder(store, brand, "shopify", now=clock.now)
    recorder.start()
    seen: list[dict[str, Any]] = []

    def watch(*args: Any) -> None:
        clock.advance(2.0)  # each page takes two seconds of the fake clock
        recorder(*args)
        seen.append(dict(store.get(progress.doc_path(brand, "shopify")) or {}))
        seen[-1]["report"] = progress.report(store, brand, ["shopify"], clock.now())[0]

    result = sync_shopify(Ports(settings, warehouse, secrets, store), brand,
                          options=RunOptions(now=clock.now, sleep=clock.sleep, monotonic=clock.monotonic,
                                             progress=watch))
    assert result.status == "ok"
    orders = [s for s in seen if s["stage"] == "orders"]
    # written while the sync went: the stages in order, the rows only growing
    stages = [s["stage"] for s in seen]
    assert stages.index("locations") < stages.index("products") < stages.index("orders")
    rows = [s["rows"] for s in seen]
    # rows are the records read (an order with its lines is one)
    read = sum(result.stored[t] for t in ("locations", "products", "variants", "inventory_levels", "orders"))
    assert rows == sorted(rows) and rows[-1] == read
    assert all(s["status"] == "running" for s in seen)
    # the orders stage knows its size, so the time left is the orders left over the rate so far
    assert all(s["total"] == result.stored["orders"] for s in orders)
    assert orders[0]["report"]["eta_seconds"] is None  # the first page: no time has passed to measure a rate by
    for s in orders[1:]:
        elapsed = (s["updated_at"] - s["measured_from"]).total_seconds()
        rate = s["done"] / elapsed
        assert s["report"]["eta_seconds"] == round((s["total"] - s["done"]) / rate, 1)
    assert len(orders) > 1, "the world's brand should take more than one page of orders"
    progress.finish(store, brand, "shopify", result.as_dict(), clock.now())
    [done] = progress.report(store, brand, ["shopify"], clock.now())
    assert done["status"] == "ok" and done["eta_seconds"] == 0.0 and done["stage"] == "done"
    assert done["rows"] == read and done["error"] is None


def test_time_left_is_worked_out_from_rows_done_and_elapsed_time(store: LocalStore, clock: FakeClock) -> None:
    recorder = progress.ProgressRecorder(store, "b", "shopify", now=clock.now)
    recorder.start()
    recorder("products", 40, None)
    assert progress.report(store, "b", ["shopify"], clock.now())[0]["eta_seconds"] is None  # nothing to measure yet
    recorder("orders", 0, 1000)
    clock.advance(10.0)
    recorder("orders", 250, 1000)  # 250 orders in 10 s: 25 a second, 750 left
    [r] = progress.report(store, "b", ["shopify"], clock.now())
    assert r["eta_seconds"] == 30.0 and r["rows"] == 290 and r["stage"] == "orders"
    assert r["started_at"] is not None


def test_ad_chunks_measure_the_ads_progress_and_a_cut_off_sync_resumes_its_counts(
        store: LocalStore, clock: FakeClock) -> None:
    rec = progress.ProgressRecorder(store, "b", "meta", now=clock.now)
    rec.start()
    rec("act_1", 0, 4, 0)
    clock.advance(30.0)
    rec("act_1", 1, 4, 120)  # one chunk of four in 30 s: 90 s left
    [r] = progress.report(store, "b", ["meta"], clock.now())
    assert (r["rows"], r["eta_seconds"], r["stage"]) == (120, 90.0, "account act_1: chunk 2 of 4")
    progress.finish(store, "b", "meta", {"status": "partial", "accounts": []}, clock.now())
    resumed = progress.ProgressRecorder(store, "b", "meta", now=clock.now)
    resumed.start()  # the task that resumes it keeps the start and the counts
    [r] = progress.report(store, "b", ["meta"], clock.now())
    assert r["status"] == "running" and r["rows"] == 120
    progress.finish(store, "b", "meta", {"status": "needs_reauth", "accounts": [
        {"account_id": "act_1", "status": "needs_reauth", "error": "token expired (code 190)"}]}, clock.now())
    [r] = progress.report(store, "b", ["meta"], clock.now())
    assert r["status"] == "needs_reauth" and r["eta_seconds"] is None
    assert r["error"]["message"] == "token expired (code 190)" and "connect the account again" in r["error"]["fix"]
    assert progress.report(store, "b", ["tiktok"], clock.now())[0]["status"] == "not_started"


def test_the_pipeline_tasks_record_progress_when_there_is_a_store(settings: Settings, warehouse: DuckDBWarehouse,
                                                                   secrets: LocalSecrets, store: LocalStore) -> None:
    recorder = progress.recording(Ports(settings, warehouse, secrets, store), "b", "tiktok")
    assert recorder is not None
    [r] = progress.report(store, "b", ["tiktok"], recorder.now())
    assert r["status"] == "running" and r["stage"] == "starting" and r["rows"] == 0 and r["started_at"] is not None
    assert progress.recording(Ports(settings, warehouse, secrets, None), "b") is None
