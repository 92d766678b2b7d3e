"""Q&A: periods, the deterministic planner and answers, and Claude's tool loop through the SDK."""

from __future__ import annotations

from datetime import date

import pytest

from tower.ai import narrator
from tower.ai.claude import ClaudeClient
from tower.ai.qa import AskError, ask, parse_period, plan_question
from tower.runtime import Runtime
from tower_dev.sandboxes.anthropic_messages import AnthropicSandbox

BRAND, OTHER = "acme-candles", "urban-wellness"
TODAY = date(2026, 11, 23)


def no_claude() -> None:
    return None


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("Which products performed best last month?", date(2026, 10, 1), date(2026, 11, 1)),
        ("Which regions are performing best this month?", date(2026, 11, 1), TODAY),
        ("Why did my revenue drop this week?", date(2026, 11, 16), TODAY),
        ("How was last week?", date(2026, 11, 16), TODAY),
        ("and the week before?", date(2026, 11, 9), date(2026, 11, 16)),
        ("Spend in the last 14 days", date(2026, 11, 9), TODAY),
        ("and yesterday?", date(2026, 11, 22), TODAY),
        ("anything", date(2026, 10, 24), TODAY),
    ],
)
def test_periods(question: str, start: date, end: date) -> None:
    p = parse_period(question, TODAY)
    assert (p.start, p.end) == (start, end)


def test_this_month_on_the_first_uses_last_month() -> None:
    p = parse_period("this month", date(2026, 12, 1))
    assert (p.start, p.end) == (date(2026, 11, 1), date(2026, 12, 1))


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("Which products performed best last month?", "top_products"),
        ("Why did my revenue drop this week?", "week_over_week"),
        ("Which regions are performing best this month?", "region_performance"),
        ("Which SKUs are most profitable?", "top_products"),
        ("What is running out of stock?", "stock_cover"),
        ("How are my TikTok campaigns doing?", "campaign_detail"),
        ("How is each channel doing?", "channel_performance"),
    ],
)
def test_planner_maps_common_questions(question: str, query: str) -> None:
    plan = plan_question(question, TODAY)
    assert plan is not None and plan.query == query


def test_best_products_last_month_answers_with_numbers(seeded: Runtime) -> None:
    a = ask(seeded, BRAND, "Which products performed best last month?", TODAY, client=no_claude)
    assert a.author == "narrator" and a.queries[0]["tool"] == "top_products"
    assert a.answer.splitlines()[0] == ("Your top 3 products by revenue for last month, October (2026-10-01 to "
                                        "2026-10-31) were:")
    assert "1. SKU-A Vanilla Candle: $12,600 in revenue, 4.2× ROAS on $3,000 of ad spend" in a.answer
    assert "$126,000" not in a.answer  # the other brand's tenfold figures never show


def test_why_did_revenue_drop_this_week(seeded: Runtime) -> None:
    a = ask(seeded, BRAND, "Why did my revenue drop this week?", TODAY, client=no_claude)
    assert a.answer.startswith("Your revenue dropped by $560 (15.8%) compared to last week: $2,975 against $3,535.")
    assert "Meta revenue went from $2,800 to $2,240" in a.answer


def test_best_regions_this_month(seeded: Runtime) -> None:
    a = ask(seeded, BRAND, "Which regions are performing best this month?", TODAY, client=no_claude)
    assert "1. US-CA: $6,510 in revenue, 3.1× ROAS on $2,100 of ad spend" in a.answer


def test_says_plainly_when_it_cannot_answer(seeded: Runtime) -> None:
    a = ask(seeded, BRAND, "What's the weather in Paris?", TODAY, client=no_claude)
    assert a.answer == narrator.CANNOT_ANSWER and a.queries == []


def test_bad_questions_are_refused(seeded: Runtime) -> None:
    with pytest.raises(AskError, match="empty"):
        ask(seeded, BRAND, "   ", TODAY, client=no_claude)
    with pytest.raises(AskError, match="longer than"):
        ask(seeded, BRAND, "why " * 200, TODAY, client=no_claude)


def test_claude_answers_with_the_tool_loop(seeded: Runtime, client: ClaudeClient, sandbox: AnthropicSandbox) -> None:
    a = ask(seeded, BRAND, "Which products performed best last month?", TODAY, client=client)
    assert a.author == "claude" and a.grounding == "passed"
    assert [q["tool"] for q in a.queries] == ["top_products"]
    assert "$12,600" in a.answer
    first, second = sandbox.requests
    assert {t["name"] for t in first["tools"]} >= {"top_products", "week_over_week", "run_select"}
    tool_result = second["messages"][-1]["content"][0]
    assert tool_result["type"] == "tool_result" and '"rows":' in tool_result["content"]
    rows = seeded.warehouse.rows("SELECT purpose, stop_reason, grounding FROM ai_usage ORDER BY called_at, call_id")
    assert sorted((r["stop_reason"], r["grounding"]) for r in rows) == [("end_turn", "pass"), ("tool_use", None)]


def test_model_written_select_runs_guarded_for_this_brand_only(seeded: Runtime, client: ClaudeClient) -> None:
    a = ask(seeded, BRAND, "SQL: SELECT channel, SUM(spend_amount) AS spend FROM unified_performance "
                           "GROUP BY channel ORDER BY channel", TODAY, client=client)
    assert a.queries[0]["tool"] == "run_select" and a.queries[0]["rows"] == 3
    assert "spend: 4400" in a.answer and "44000" not in a.answer  # meta: 30 × 100 + 14 × 100, never the other brand
    assert a.grounding == "passed"


def test_ungrounded_answers_fall_back_to_the_deterministic_one(seeded: Runtime, client: ClaudeClient,
                                                               sandbox: AnthropicSandbox) -> None:
    sandbox.push_fault("ungrounded", count=2)
    # the first two text answers carry a planted number; tool calls in between are fine
    a = ask(seeded, BRAND, "Which regions are performing best this month?", TODAY, client=client)
    assert a.author == "narrator" and a.grounding == "fallback_ungrounded"
    assert "$987,654" not in a.answer and "US-CA" in a.answer
    rows = seeded.warehouse.rows("SELECT grounding FROM ai_usage WHERE grounding IS NOT NULL ORDER BY grounding")
    assert [r["grounding"] for r in rows] == ["fail", "fail", "fallback"]
