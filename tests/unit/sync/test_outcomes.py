"""Each sync's outcome lands on its integration's document, whoever ran it (tower.pipeline.finish_sync)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tower import names, pipeline
from tower.adapters.local_store import LocalStore
from tower.config import Settings
from tower.runtime import Runtime
from tower.sync.outcomes import document, documents, record_outcome, record_sandbox

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_an_ok_sync_is_the_last_and_the_last_successful_and_a_failure_keeps_the_success(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.sqlite")
    ok = {"status": "ok", "shop_domain": "shop-a.myshopify.com", "stored": {"orders": 5, "products": 2},
          "warnings": ["no inventory"], "window_start": "2026-11-01", "window_end": "2026-11-23"}
    record_outcome(store, "b1", "shopify", ok, NOW)
    record_outcome(store, "b1", "shopify", {**ok, "status": "failed", "stored": {"orders": 1},
                                            "error": "token shpat_abcdef0123456789 rejected"}, NOW)
    doc = document(store, "b1", "shopify", "shop-a.myshopify.com")
    assert doc["last_success"]["rows"] == {"orders": 5, "products": 2}
    assert doc["last_sync"]["status"] == "failed" and doc["last_sync"]["rows"] == {"orders": 1}
    assert "shpat_abcdef0123456789" not in doc["last_sync"]["error"]  # masked: operators read it


def test_an_ad_sync_records_each_account_and_the_sandbox_record_survives(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.sqlite")
    record_sandbox(store, "b1", "meta", "123", {"origin": "http://127.0.0.1:9", "world": {"seed": 3}})
    result = {"status": "partial", "accounts": [
        {"account_id": "123", "status": "ok", "rows": 40, "window_start": "2026-10-01", "window_end": "2026-11-23"},
        {"account_id": "456", "status": "partial", "rows": 7}]}
    record_outcome(store, "b1", "meta", result, NOW)
    by_account = {d["account_id"]: d for d in documents(store)}
    assert by_account["123"]["sandbox"]["world"] == {"seed": 3}
    assert by_account["123"]["last_success"]["rows"] == {"ad_performance": 40}
    assert "last_success" not in by_account["456"]
    record_sandbox(store, "b1", "meta", "123", None)
    assert "sandbox" not in document(store, "b1", "meta", "123")


def test_finish_sync_records_then_announces_the_window(tmp_path: Path) -> None:
    runtime = Runtime(Settings(warehouse="duckdb:///:memory:", store=f"local:///{tmp_path}/s.sqlite",
                               bus=f"local:///{tmp_path}/b.sqlite", tasks=f"local:///{tmp_path}/t.sqlite"))
    seen: list[dict] = []
    runtime.bus.subscribe("watch", names.TOPIC_SYNC_COMPLETED, lambda m: seen.append(m.data))
    pipeline.finish_sync(runtime, "b1", "shopify", {"status": "ok", "shop_domain": "s.myshopify.com",
                                                    "window_start": "2026-11-01", "window_end": "2026-11-02"})
    runtime.bus.drain()
    assert seen == [{"brand_id": "b1", "platform": "shopify", "window_start": "2026-11-01",
                     "window_end": "2026-11-02"}]
    assert document(runtime.store, "b1", "shopify", "s.myshopify.com")["last_sync"]["status"] == "ok"
    runtime.close()
