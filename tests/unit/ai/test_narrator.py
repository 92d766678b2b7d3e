"""The deterministic narrator: the plan's JSON shapes, plain English, 100% grounded."""

from __future__ import annotations

import pytest

from tower.ai import narrator
from tower.ai.context import build_context
from tower.ai.grounding import check, strings_of
from tower.ai.summarize import alert_context
from tower.decisions.recommend import Thresholds, compute
from tower.decisions.thresholds import AlertThresholds, RuleThresholds
from tower_dev.samples import synthetic_facts

T = Thresholds(RuleThresholds(), AlertThresholds())


@pytest.mark.parametrize(("skus", "regions", "seed"), [(5, 3, 1), (40, 10, 2), (120, 25, 3), (500, 50, 4)])
def test_weekly_summary_is_fully_grounded(skus: int, regions: int, seed: int) -> None:
    facts = synthetic_facts(skus=skus, regions=regions, seed=seed)
    recs, alerts = compute(facts, T)
    ctx = build_context(facts, [r.to_dict() for r in recs], [a.to_dict() for a in alerts])
    summary = narrator.weekly_summary(ctx)
    assert set(summary) == {"summary", "channel_performance", "inventory_insights", "recommendations"}
    assert set(summary["channel_performance"]) == {"meta", "tiktok", "google_ads"}
    assert all(set(r) >= {"action", "reason", "expected_impact", "priority"} for r in summary["recommendations"])
    report = check(strings_of(summary), ctx)
    assert report.ok, report.failures
    assert report.checked > 20
    for alert in alerts:
        actx = alert_context(alert.to_dict(), facts)
        text = narrator.explain_alert(actx)
        assert check([text], actx).ok, (text, check([text], actx).failures)


def test_summary_reads_like_the_plan() -> None:
    facts = synthetic_facts(skus=5, regions=3)
    recs, alerts = compute(facts, T)
    s = narrator.weekly_summary(build_context(facts, [r.to_dict() for r in recs], [a.to_dict() for a in alerts]))
    assert s["summary"].startswith("Last week (Nov 16 – Nov 22, 2026) you spent $")
    assert "TikTok spend increased 28%, but ROAS fell from" in s["summary"]
    assert "ROAS declined 25% week over week" in s["channel_performance"]["tiktok"]
    assert "You are heavily promoting SKU-A on TikTok in California" in s["inventory_insights"]
    assert "8 days of cover" in s["inventory_insights"]


def test_empty_week_says_so() -> None:
    facts = synthetic_facts(skus=1, regions=1)
    empty = build_context(type(facts)(brand_id="b", currency="USD", today=facts.today), [], [])
    s = narrator.weekly_summary(empty)
    assert "no ad spend" in s["summary"] and s["recommendations"] == []
    assert "in line" in s["inventory_insights"]


def test_summary_recommendations_carry_their_type() -> None:
    """Issue 15: ``tower summary`` printed None in its recommendations' type column."""
    facts = synthetic_facts(skus=5, regions=3)
    recs, alerts = compute(facts, T)
    s = narrator.weekly_summary(build_context(facts, [r.to_dict() for r in recs], [a.to_dict() for a in alerts]))
    assert s["recommendations"] and [r["type"] for r in s["recommendations"]] == [r.type for r in recs][
        : len(s["recommendations"])]
    assert {r["type"] for r in s["recommendations"]} <= {"reduce_spend", "increase_spend", "promotion"}
