"""Accept (through the task queue), a second Accept, Undo, Dismiss and dry-run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tower import names
from tower.decisions import budget_actions
from tower.decisions.budget_actions import ActionError, accept, apply_budget_change_task, dismiss, undo
from tower.decisions.inputs import CampaignRef, PerformanceRow, StockPosition
from tower.decisions.rules import apply_rules
from tower.decisions.scoring import rank
from tower.decisions.store import (
    NotFoundError,
    find_recommendation,
    list_recommendations,
    save_recommendations,
)
from tower.decisions.thresholds import RuleThresholds
from tower.runtime import Runtime

BRAND = "acme-candles"
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def seed_recommendations(runtime: Runtime) -> dict[str, dict]:
    camps = (CampaignRef("tiktok", "adv-1", "789", "Broad prospecting", 200.0, "USD", 3000.0),
             CampaignRef("tiktok", "adv-1", "790", "Retargeting", 100.0, "USD", 2000.0))
    rows = [PerformanceRow("gid://shopify/Product/1", "SKU-A", "tiktok", "US-CA", 5000.0, 10500.0, 0.35, 8.0, 120.0,
                           15.0, 12.0, 40.0, "loc-west", camps)]
    stock = [StockPosition("gid://shopify/Product/3", "SKU-C", "", ("US-OH",), 1200.0, 10.0, 120.0, 0.0, unit_cost=50.0)]
    from datetime import date

    recs = rank(apply_rules(rows, BRAND, "USD", RuleThresholds(), stock), date(2026, 11, 23))
    cards = [r.to_dict() for r in recs]
    save_recommendations(runtime.store, BRAND, recs[0].week, "v1", cards, NOW)
    return {c["type"]: c for c in cards}


def drain(runtime: Runtime, platform: object) -> int:
    budget_actions.register(runtime, writer=platform)  # type: ignore[arg-type]
    return runtime.tasks.drain()


def test_accept_enqueues_then_applies_each_campaign(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    rec = seed_recommendations(runtime)["reduce_spend"]
    out = accept(runtime, rec["id"], writer=platform, now=NOW)
    assert out["status"] == "accepting" and out["task_id"] == out["decision_id"]
    assert platform.calls == []  # nothing moves until the task runs
    assert drain(runtime, platform) == 1
    # $1,000 over 30 days, split 60/40 by the campaigns' spend: −$20/day and −$13.33/day
    assert platform.budgets["789"] == pytest.approx(180.0) and platform.budgets["790"] == pytest.approx(86.67)
    _, doc = find_recommendation(runtime.store, rec["id"])
    assert doc["status"] == "applied"
    assert {c["campaign_id"]: c["before_amount"] for c in doc["applied_changes"]} == {"789": 200.0, "790": 100.0}
    decision = runtime.store.get(f"brands/{BRAND}/decisions/{out['decision_id']}")
    assert decision["status"] == "done" and decision["action"] == "accept"


def test_a_second_accept_changes_nothing(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    rec = seed_recommendations(runtime)["reduce_spend"]
    accept(runtime, rec["id"], writer=platform, now=NOW)
    again = accept(runtime, rec["id"], writer=platform, now=NOW)  # before the task ran
    assert again["changed"] is False
    drain(runtime, platform)
    assert accept(runtime, rec["id"], writer=platform, now=NOW)["changed"] is False
    assert drain(runtime, platform) == 0
    assert len([c for c in platform.calls if not c["dry_run"]]) == 2


def test_the_task_is_idempotent_when_delivered_twice(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    rec = seed_recommendations(runtime)["reduce_spend"]
    out = accept(runtime, rec["id"], writer=platform, now=NOW)
    payload = {"brand_id": BRAND, "recommendation_id": rec["id"], "decision_id": out["decision_id"],
               "action": "apply", "requested_by": "cli", "changes": out["changes"]}
    apply_budget_change_task(runtime, payload, writer=platform, now=NOW)
    apply_budget_change_task(runtime, payload, writer=platform, now=NOW)
    assert platform.budgets["789"] == pytest.approx(180.0)  # not 160


def test_undo_restores_the_previous_budgets(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    rec = seed_recommendations(runtime)["reduce_spend"]
    accept(runtime, rec["id"], writer=platform, now=NOW)
    drain(runtime, platform)
    out = undo(runtime, rec["id"], now=NOW)
    assert out["status"] == "undoing"
    drain(runtime, platform)
    assert platform.budgets == {"789": 200.0, "790": 100.0, "456": 40.0}
    _, doc = find_recommendation(runtime.store, rec["id"])
    assert doc["status"] == "undone"
    assert undo(runtime, rec["id"], now=NOW)["changed"] is False
    # accepted again after an undo: new change ids, applied again
    accept(runtime, rec["id"], writer=platform, now=NOW)
    drain(runtime, platform)
    assert platform.budgets["789"] == pytest.approx(180.0)


def test_dry_run_shows_what_would_change_and_changes_nothing(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    rec = seed_recommendations(runtime)["reduce_spend"]
    plan = accept(runtime, rec["id"], dry_run=True, writer=platform)
    assert plan["dry_run"] is True
    assert [(c["campaign_id"], c["before"], c["after"], c["status"]) for c in plan["changes"]] == [
        ("789", 200.0, 180.0, "dry_run"), ("790", 100.0, pytest.approx(86.67), "dry_run")]
    assert platform.budgets["789"] == 200.0
    assert find_recommendation(runtime.store, rec["id"])[1]["status"] == "open"
    assert runtime.tasks.drain() == 0


def test_refusals_are_recorded_and_shown(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    rec = seed_recommendations(runtime)["reduce_spend"]
    platform.budgets["789"] = 25.0  # the budget moved since: −$20/day is now −80%
    plan = accept(runtime, rec["id"], dry_run=True, writer=platform)
    assert plan["changes"][0]["status"] == "refused" and "beyond" in plan["changes"][0]["detail"]
    accept(runtime, rec["id"], writer=platform, now=NOW)
    drain(runtime, platform)
    _, doc = find_recommendation(runtime.store, rec["id"])
    assert doc["status"] == "failed"
    assert [c["status"] for c in doc["applied_changes"]] == ["refused", "applied"]


def test_dismiss_hides_with_a_reason_and_blocks_accept(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    rec = seed_recommendations(runtime)["reduce_spend"]
    with pytest.raises(ActionError, match="reason"):
        dismiss(runtime, rec["id"], "  ")
    out = dismiss(runtime, rec["id"], "Holiday stock arriving Friday", now=NOW)
    assert out["status"] == "dismissed"
    assert rec["id"] not in [d["id"] for d in list_recommendations(runtime.store, BRAND)]
    assert rec["id"] in [d["id"] for d in list_recommendations(runtime.store, BRAND, include_hidden=True)]
    with pytest.raises(ActionError, match="dismissed"):
        accept(runtime, rec["id"], writer=platform)


def test_dismissed_and_accepted_stay_so_through_rebuilds(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    cards = seed_recommendations(runtime)
    dismiss(runtime, cards["promotion"]["id"], "not this season", now=NOW)
    accept(runtime, cards["reduce_spend"]["id"], writer=platform, now=NOW)
    again = seed_recommendations(runtime)  # a rebuild in the same week makes the same ids
    assert again["reduce_spend"]["id"] == cards["reduce_spend"]["id"]
    assert find_recommendation(runtime.store, cards["promotion"]["id"])[1]["status"] == "dismissed"
    assert find_recommendation(runtime.store, cards["reduce_spend"]["id"])[1]["status"] == "accepting"


def test_a_promotion_moves_no_budget_and_needs_a_connected_store(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    """Accept launches a Shopify discount (tests/unit/decisions/test_promotions.py); with no store connected
    it is refused and nothing is queued."""
    promo = seed_recommendations(runtime)["promotion"]
    with pytest.raises(budget_actions.ConflictError, match="no Shopify store connected"):
        accept(runtime, promo["id"], writer=platform, now=NOW)
    assert runtime.tasks.drain() == 0 and platform.calls == []


def test_unknown_ids_and_bad_payloads(runtime: Runtime, platform) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError):
        accept(runtime, "rec_nope", writer=platform)
    with pytest.raises(ValueError, match="apply_budget_change payload"):
        apply_budget_change_task(runtime, {"action": "explode"}, writer=platform)
    assert names.QUEUE_BUDGET == "tower-budget-changes"
