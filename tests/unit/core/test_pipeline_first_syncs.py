"""A new brand's models are announced (recommend, summarize) only once each of its first syncs has finished.

The four first syncs of a brand finish in any order (the Shopify backfill usually last). A build after
only some of them models ads without their orders: announced, it would raise alerts (a ROAS collapse)
that the next build resolves, and which ones would depend on the order the syncs finished in (R2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tower.brands import add_brand
from tower.config import Settings
from tower.pipeline import handle_sync_completed
from tower.ports import Message
from tower.runtime import Runtime
from tower.sync.outcomes import first_syncs_pending, record_outcome

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def _integration(platform: str, account_id: str, status: str = "active") -> dict:
    return {"brand_id": "b1", "platform": platform, "account_id": account_id, "secret_ref": f"s-{platform}",
            "status": status, "connected_at": NOW, "last_synced_at": None, "updated_at": NOW}


def _completed(platform: str) -> Message:
    return Message(topic="tower-sync-completed", attributes={}, message_id=f"m-{platform}",
                   data={"brand_id": "b1", "platform": platform, "window_start": "2026-11-16",
                         "window_end": "2026-11-24"})


def test_models_are_announced_once_every_first_sync_has_finished(tmp_path: Path) -> None:
    runtime = Runtime(Settings(warehouse="duckdb:///:memory:", data_dir=tmp_path))
    runtime.warehouse.init_schema()
    add_brand(runtime.warehouse, brand_id="b1", name="B", timezone="America/Chicago", currency="USD", now=NOW)
    runtime.warehouse.insert("integrations", [
        _integration("shopify", "b1.myshopify.com"), _integration("meta", "act_1"),
        _integration("tiktok", "7001", status="needs_reauth"),  # not syncing: nothing to wait for
    ])
    announced: list[dict] = []
    runtime.bus.subscribe("watch", "tower-models-built", lambda m: announced.append(m.data))

    # the Meta sync finished first: its build runs (the dashboard reads models) but is not announced
    record_outcome(runtime.store, "b1", "meta", {"status": "ok", "accounts": [
        {"account_id": "act_1", "status": "ok", "window_start": "2026-11-16", "window_end": "2026-11-24"}]}, NOW)
    assert first_syncs_pending(runtime.warehouse, runtime.store, "b1") == ["shopify/b1.myshopify.com"]
    out = handle_sync_completed(runtime, _completed("meta"), now=NOW)
    runtime.bus.drain()
    assert out["announced"] is False and announced == []
    assert runtime.warehouse.rows("SELECT COUNT(*) AS n FROM model_runs")[0]["n"] > 0

    # a Shopify backfill cut at its deadline (partial) has not finished either
    record_outcome(runtime.store, "b1", "shopify", {"status": "partial", "shop_domain": "b1.myshopify.com"}, NOW)
    assert first_syncs_pending(runtime.warehouse, runtime.store, "b1") == ["shopify/b1.myshopify.com"]

    # a failed one has: the brand is not held back by an account that keeps failing
    record_outcome(runtime.store, "b1", "shopify", {"status": "failed", "shop_domain": "b1.myshopify.com"}, NOW)
    assert first_syncs_pending(runtime.warehouse, runtime.store, "b1") == []
    out = handle_sync_completed(runtime, _completed("shopify"), now=NOW)
    runtime.bus.drain()
    assert "announced" not in out and [m["brand_id"] for m in announced] == ["b1"]
    runtime.close()
