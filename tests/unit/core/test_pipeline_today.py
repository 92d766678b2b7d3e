"""A sync that touched only today (a quiet hour: today's stock snapshot, no new order) builds nothing and is
acknowledged, instead of failing until its message is dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tower.brands import add_brand
from tower.config import Settings
from tower.pipeline import handle_sync_completed
from tower.ports import Message
from tower.runtime import Runtime

NOON_CHICAGO = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def test_a_window_of_only_today_is_acknowledged_without_building(tmp_path: Path) -> None:
    runtime = Runtime(Settings(warehouse="duckdb:///:memory:", data_dir=tmp_path))
    runtime.warehouse.init_schema()
    add_brand(runtime.warehouse, brand_id="b1", name="B", timezone="America/Chicago", currency="USD", now=NOON_CHICAGO)
    seen: list[dict] = []
    runtime.bus.subscribe("watch", "tower-models-built", lambda m: seen.append(m.data))
    message = Message(topic="tower-sync-completed", attributes={}, message_id="m1",
                      data={"brand_id": "b1", "platform": "shopify", "window_start": "2026-11-23",
                            "window_end": "2026-11-24"})
    out = handle_sync_completed(runtime, message, now=NOON_CHICAGO)
    runtime.bus.drain()
    assert out["built"] is False and seen == []
    assert runtime.warehouse.rows("SELECT COUNT(*) AS n FROM model_runs")[0]["n"] == 0
    runtime.close()
