"""The models and the decisions read one calendar: the store's own day, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tower.decisions.sources import load_facts
from tower.pipeline import handle_models_built_recommend, handle_sync_completed
from tower.ports import Message
from tower.runtime import Runtime
from tower_dev.world import WorldParams, generate_world

# 22:00 on 25 November in New York, already 26 November in UTC
EVENING = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def test_an_evening_sync_builds_and_decides_on_the_stores_day(runtime: Runtime) -> None:
    world = generate_world(WorldParams(seed=3, brands=1, days=40, orders_per_day=30, end_date=date(2026, 11, 25)))
    (bw,) = world.brands
    assert bw.brand["timezone"] == "America/New_York"
    runtime.warehouse.insert("fx_rates", world.fx_rates)
    for table, rows in bw.tables.items():
        runtime.warehouse.insert(table, rows)
    brand = "acme-candles"
    message = Message(topic="tower-sync-completed", data={"brand_id": brand, "window_start": "2026-10-20"},
                      attributes={}, message_id="m-1")

    built = handle_sync_completed(runtime, message, now=EVENING)

    # 25 November is still in progress in New York: the last complete day is the 24th
    as_of = runtime.warehouse.rows("SELECT MAX(as_of_date) AS d FROM inventory_alignment WHERE brand_id = @b",
                                   {"b": brand})[0]["d"]
    assert as_of == date(2026, 11, 24) and built["brand_id"] == brand
    facts = load_facts(runtime.warehouse, runtime.settings, brand, date(2026, 11, 25))
    assert facts.extra["as_of_date"] == "2026-11-24" and facts.performance
    built_event = Message(topic="tower-models-built", data={"brand_id": brand}, attributes={}, message_id="m-2")
    assert handle_models_built_recommend(runtime, built_event, now=EVENING) is not None
