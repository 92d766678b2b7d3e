"""The recommend step: store writes, alerts published once, resolved alerts closed, reruns idempotent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from tower import names
from tower.decisions.inputs import ChannelWeek
from tower.decisions.recommend import run_recommend
from tower.decisions.store import list_alerts, list_recommendations
from tower.ports import Message
from tower.runtime import Runtime
from tower_dev.samples import synthetic_facts

BRAND = "acme-candles"
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def published(runtime: Runtime) -> list[Message]:
    got: list[Message] = []
    runtime.bus.subscribe("test-alerts", names.TOPIC_ALERTS_RAISED, got.append)
    return got


def test_recommend_writes_top_five_and_raises_alerts_once(runtime: Runtime) -> None:
    got = published(runtime)
    facts = synthetic_facts(skus=30, regions=8, brand_id=BRAND, today=TODAY)
    first = run_recommend(runtime, BRAND, TODAY, now=NOW, facts=facts)
    assert len(first["recommendations"]) == 5 and first["week"] == "2026-W48"
    stored = list_recommendations(runtime.store, BRAND, "2026-W48")
    assert [d["id"] for d in stored] == [c["id"] for c in first["recommendations"]]
    assert all(d["status"] == "open" for d in stored)
    runtime.bus.drain()
    raised = {m.data["alert_id"] for m in got}
    assert raised == set(first["alerts"]["raised"]) and raised
    assert {m.data["type"] for m in got} >= {"roas_drop", "stockout_risk", "inventory_mismatch", "spend_anomaly"}
    # the same facts again: same documents, nothing published
    second = run_recommend(runtime, BRAND, TODAY, now=NOW, facts=facts)
    runtime.bus.drain()
    assert second["alerts"]["raised"] == [] and len(got) == len(raised)
    assert second["saved"]["refreshed"] == [c["id"] for c in first["recommendations"]]
    assert second["saved"]["created"] == []


def test_alerts_resolve_themselves_and_can_be_raised_again(runtime: Runtime) -> None:
    facts = synthetic_facts(skus=5, regions=3, brand_id=BRAND, today=TODAY)
    run_recommend(runtime, BRAND, TODAY, now=NOW, facts=facts)
    drop = next(a for a in list_alerts(runtime.store, BRAND) if a["type"] == "roas_drop" and a["channel"] == "tiktok")
    healed = replace(facts, channel_weeks=(ChannelWeek("tiktok", "", 5000.0, 14000.0, 16000.0, 44800.0),))
    out = run_recommend(runtime, BRAND, TODAY, now=NOW, facts=healed)
    assert drop["id"] in out["alerts"]["resolved"]
    doc = runtime.store.get(f"brands/{BRAND}/alerts/{drop['id']}")
    assert doc["status"] == "resolved" and doc["resolved_on"] == "2026-11-23"
    again = run_recommend(runtime, BRAND, TODAY, now=NOW, facts=facts)
    assert drop["id"] in again["alerts"]["raised"]
    assert runtime.store.get(f"brands/{BRAND}/alerts/{drop['id']}")["occurrences"] == 2


def test_recommendations_no_longer_made_are_superseded(runtime: Runtime) -> None:
    facts = synthetic_facts(skus=5, regions=3, brand_id=BRAND, today=TODAY)
    first = run_recommend(runtime, BRAND, TODAY, now=NOW, facts=facts)
    calm = replace(facts, performance=(), product_stock=())
    out = run_recommend(runtime, BRAND, TODAY, now=NOW, facts=calm)
    assert sorted(out["saved"]["superseded"]) == sorted(c["id"] for c in first["recommendations"])
    assert list_recommendations(runtime.store, BRAND, "2026-W48") == []


def test_brand_thresholds_override_settings(runtime: Runtime) -> None:
    facts = synthetic_facts(skus=5, regions=3, brand_id=BRAND, today=TODAY)
    runtime.store.set(f"brands/{BRAND}", {"thresholds": {"alerts": {"roas_drop_ratio": 0.5}}})
    out = run_recommend(runtime, BRAND, TODAY, now=NOW, facts=facts)
    types = [a["type"] for a in out["alerts"]["open"]]
    assert "roas_drop" not in types  # a 25% drop is above a 50% threshold


def test_the_event_handler_is_idempotent_and_drops_unknown_brands(runtime: Runtime) -> None:
    from tower.pipeline import handle_models_built_recommend
    from tower_dev.samples import seed_model_tables

    def event(brand_id: str) -> Message:
        return Message(topic="tower-models-built", data={"brand_id": brand_id}, attributes={}, message_id="m-1")

    got = published(runtime)
    seed_model_tables(runtime.warehouse, (BRAND,))
    moment = datetime(2026, 11, 23, 15, tzinfo=UTC)  # 10:00 in New York: store-local 2026-11-23
    first = handle_models_built_recommend(runtime, event(BRAND), now=moment)
    second = handle_models_built_recommend(runtime, event(BRAND), now=moment)  # delivered twice
    runtime.bus.drain()
    assert first is not None and second is not None
    assert [c["id"] for c in first["recommendations"]] == [c["id"] for c in second["recommendations"]]
    assert len(got) == len(first["alerts"]["raised"]) > 0 and second["alerts"]["raised"] == []
    assert handle_models_built_recommend(runtime, event("nobody"), now=moment) is None
