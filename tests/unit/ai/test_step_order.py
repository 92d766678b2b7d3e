"""Recommend and summarize answer the same models-built event, in either order and more than once.

Both are subscribed to ``tower-models-built``; Pub/Sub promises neither order nor a single delivery.
The recommend step writes the alert documents, the summarize step the alerts' explanations: whichever
runs second joins them, so an alert ends explained either way (issue 12, R2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tower.ai.claude import ClaudeClient
from tower.decisions.store import explanation_path, list_alerts
from tower.pipeline import handle_models_built_recommend, handle_models_built_summarize
from tower.ports import Message
from tower.runtime import Runtime

BRAND = "acme-candles"  # the brand conftest seeds
MOMENT = datetime(2026, 11, 23, 15, tzinfo=UTC)


def _event() -> Message:
    return Message(topic="tower-models-built", data={"brand_id": BRAND}, attributes={}, message_id="m-1")


def _explained(runtime: Runtime, result: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Per explained alert: what its alert document shows, and what its explanation document holds."""
    week = result["week"]
    docs = {a["id"]: a for a in list_alerts(runtime.store, BRAND)}
    out = {}
    for alert_id in result["explanations"]:
        explanation = runtime.store.get(explanation_path(BRAND, week, alert_id)) or {}
        out[alert_id] = (docs[alert_id].get("ai_explanation"), explanation.get("explanation"))
    return out


def test_summarize_delivered_before_recommend_leaves_every_alert_explained(seeded: Runtime,
                                                                           client: ClaudeClient) -> None:
    summarized = handle_models_built_summarize(seeded, _event(), now=MOMENT, client=client)
    assert summarized is not None and summarized["explanations"]
    assert list_alerts(seeded.store, BRAND) == []  # the recommend step has not written the alerts yet

    assert handle_models_built_recommend(seeded, _event(), now=MOMENT) is not None
    shown = _explained(seeded, summarized)
    assert shown and all(on_alert == stored and stored for on_alert, stored in shown.values()), shown

    # redeliveries of either step, in any order, keep it so
    handle_models_built_summarize(seeded, _event(), now=MOMENT, client=client)
    handle_models_built_recommend(seeded, _event(), now=MOMENT)
    assert _explained(seeded, summarized) == shown


def test_recommend_delivered_before_summarize_ends_in_the_same_alerts(seeded: Runtime, client: ClaudeClient) -> None:
    assert handle_models_built_recommend(seeded, _event(), now=MOMENT) is not None
    summarized = handle_models_built_summarize(seeded, _event(), now=MOMENT, client=client)
    assert summarized is not None
    shown = _explained(seeded, summarized)
    assert shown and all(on_alert == stored and stored for on_alert, stored in shown.values()), shown
