"""Q&A: periods, the deterministic planner and answers, and Claude's tool loop through the SDK."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

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
        ("What did I spend and earn last week?", "channel_performance"),
        ("Which products are about to stock out?", "stock_cover"),
        ("Which advertised products are about to run out?", "stock_cover"),
        ("Which advertised products are out of stock?", "advertised_stockouts"),
        ("Am I spending ads on anything that is sold out?", "advertised_stockouts"),
    ],
)
def test_planner_maps_common_questions(question: str, query: str) -> None:
    plan = plan_question(question, TODAY)
    assert plan is not None and plan.query == query


def test_best_products_last_month_answers_with_numbers(seeded: Runtime) -> None:
    a = ask(seeded, BRAND, "Which products performed best last month?", TODAY, client=no_claude)
    assert a.author == "narrator" and a.queries[0]["tool"] == "top_products"
    assert a.answer.splitlines()[0] == ("Your top 3 products by revenue for last month, October (Oct 1 – "
                                        "Oct 31, 2026) were:")
    assert "1. SKU-A Vanilla Candle: $12,600 in revenue, 4.2× ROAS on $3,000 of ad spend" in a.answer
    assert "$126,000" not in a.answer  # the other brand's tenfold figures never show


def test_why_did_revenue_drop_this_week(seeded: Runtime) -> None:
    a = ask(seeded, BRAND, "Why did my revenue drop this week?", TODAY, client=no_claude)
    assert a.answer.startswith("Your revenue dropped by $560 (15.8%) compared to last week: $2,975 against $3,535.")
    assert "Meta revenue went from $2,800 to $2,240" in a.answer


def test_best_regions_this_month(seeded: Runtime) -> None:
    a = ask(seeded, BRAND, "Which regions are performing best this month?", TODAY, client=no_claude)
    assert "1. California: $6,510 in revenue, 3.1× ROAS on $2,100 of ad spend" in a.answer


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


def test_claude_is_given_region_names_and_writes_them(seeded: Runtime, client: ClaudeClient,
                                                     sandbox: AnthropicSandbox) -> None:
    a = ask(seeded, BRAND, "Which regions are performing best this month?", TODAY, client=client)
    assert a.author == "claude" and a.grounding == "passed"
    tool_result = sandbox.requests[1]["messages"][-1]["content"][0]["content"]
    assert '"region_code": "US-CA", "region_name": "California"' in tool_result.replace('":"', '": "').replace(
        '","', '", "')
    assert "California" in a.answer and "US-CA" not in a.answer


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
    assert "$987,654" not in a.answer and "California" in a.answer
    rows = seeded.warehouse.rows("SELECT grounding FROM ai_usage WHERE grounding IS NOT NULL ORDER BY grounding")
    assert [r["grounding"] for r in rows] == ["fail", "fail", "fallback"]


def _more_stock(rt: Runtime) -> None:
    """Two more products, worked by hand: SKU-D has 0 units at loc-1 and 300 at loc-2 (selling 2 and 1 a
    day: 300 ÷ 3 = 100 days of cover pooled, yet out of stock at one location); SKU-E is out everywhere;
    SKU-B gets a second location with 5 units selling 1 a day.
    Meta spent $600 in US-NY on SKU-D, which loc-1 serves: the alignment model's spending_on_stockout."""
    snap = date(2026, 11, 22)
    rt.warehouse.merge("products", [
        {"brand_id": BRAND, "product_id": f"gid://shopify/Product/{n}", "title": title, "status": "ACTIVE",
         "is_active": True} for n, title in ((4, "SKU-D Pine Candle"), (5, "SKU-E Rose Candle"))], ["brand_id", "product_id"])
    rt.warehouse.merge("days_of_cover", [
        {"brand_id": BRAND, "snapshot_date": snap, "variant_id": v, "product_id": p, "location_id": loc,
         "available": avail, "velocity_per_day": vel, "days_of_cover": None, "cover_status": "healthy"}
        for v, p, loc, avail, vel in (("v4a", "gid://shopify/Product/4", "loc-1", 0, 2.0),
                                       ("v4b", "gid://shopify/Product/4", "loc-2", 300, 1.0),
                                       ("v5", "gid://shopify/Product/5", "loc-1", 0, None),
                                       ("v1b", "gid://shopify/Product/2", "loc-2", 5, 1.0))],
        ["brand_id", "snapshot_date", "variant_id", "location_id"])
    base = {"brand_id": BRAND, "as_of_date": snap, "window_days": 30, "currency": "USD",
            "product_id": "gid://shopify/Product/4"}
    rt.warehouse.merge("inventory_alignment", [
        {**base, "level": "product_channel_region", "channel": "meta", "country_code": "US", "region_code": "US-NY",
         "location_id": "loc-1", "spend_amount": 600.0, "inventory_units": 0, "mismatch_type": "spending_on_stockout"},
        {**base, "level": "product", "spend_amount": 600.0, "inventory_units": 300, "days_of_cover": 100.0,
         "mismatch_type": "aligned"},
    ], ["brand_id", "as_of_date", "level", "product_id", "channel", "region_code"])


def test_stockout_risk_lists_products_already_out_and_locations_at_zero_first(seeded: Runtime) -> None:
    """Issue 15: NULLS LAST and a sum over locations hid the products most at risk."""
    _more_stock(seeded)
    a = ask(seeded, BRAND, "Which products are about to stock out?", TODAY, client=no_claude)
    assert a.queries[0]["tool"] == "stock_cover"
    # SKU-B: 650 + 5 units selling 10 + 1 a day = 59.5 days pooled, but loc-2's 5 units last 5 days
    assert a.answer.splitlines()[1:5] == [
        "- SKU-E Rose Candle: out of stock.",
        "- SKU-D Pine Candle: 300 units, 100 days of cover (overstock); out of stock at 1 of its 2 locations.",
        "- SKU-A Vanilla Candle: 45 units, 3 days of cover (low).",
        "- SKU-B Cedar Candle: 655 units, 60 days of cover (healthy); 5 days at its lowest location.",
    ]


def test_advertised_and_out_of_stock_lists_only_those(seeded: Runtime) -> None:
    _more_stock(seeded)
    a = ask(seeded, BRAND, "Which advertised products are out of stock?", TODAY, client=no_claude)
    assert a.queries[0]["tool"] == "advertised_stockouts"
    lines = a.answer.splitlines()
    assert lines[0] == ("Advertised products with no stock where their ads run (ad spend over the 30 days to "
                        "Nov 22, 2026):")
    assert lines[1:] == ["- SKU-D Pine Candle: Meta spent $600 in New York; 300 units left at other locations."]


def _uncredited_revenue(rt: Runtime) -> None:
    """$1,000 of last week's revenue that no ad was credited with (US-CA, 2026-11-20)."""
    rt.warehouse.merge("unified_performance", [
        {"brand_id": BRAND, "performance_date": date(2026, 11, 20), "attribution_model": "last_touch",
         "channel": None, "campaign_id": None, "region_code": "US-CA", "product_id": "gid://shopify/Product/2",
         "currency": "USD", "spend_amount": 0.0, "attributed_revenue_amount": 1000.0, "attributed_orders": 10.0,
         "profit_amount": 500.0}], ["brand_id", "performance_date", "attribution_model", "channel", "campaign_id",
                                    "region_code", "product_id"])


def test_spend_and_return_give_totals_and_blended_roas(seeded: Runtime) -> None:
    """By hand, last week (11-16 to 11-22): Meta $100 a day at $320 → $700 / $2,240; TikTok $50 a day at $105
    → $350 / $735; plus $1,000 of revenue no ad was credited with. Total $1,050 spent, $3,975 taken,
    $2,975 of it credited to ads, blended 3,975 ÷ 1,050 = 3.79×."""
    _uncredited_revenue(seeded)
    a = ask(seeded, BRAND, "What did I spend and earn last week?", TODAY, client=no_claude)
    assert a.queries[0]["tool"] == "channel_performance"
    assert a.answer.splitlines()[0] == ("For last week (Nov 16 – Nov 22, 2026): you spent $1,050 on ads; the store "
                                        "took $3,975 in revenue, $2,975 of it credited to ads, a blended 3.8× ROAS.")
    assert "- Meta: $2,240 in revenue, 3.2× ROAS on $700 of ad spend" in a.answer


def test_an_answer_carries_the_sql_and_the_rows_its_figures_come_from(seeded: Runtime) -> None:
    """Issue 16: the page shows the figures an answer used and the query behind them."""
    a = ask(seeded, BRAND, "Which products performed best last month?", TODAY, client=no_claude)
    (q,) = a.queries
    assert q["tool"] == "top_products" and "FROM unified_performance" in q["sql"]
    assert "product_title" in q["columns"] and len(q["data"]) == q["rows"] == 3
    top = q["data"][0]
    assert top["product_title"] == "SKU-A Vanilla Candle" and top["revenue"] == 12600.0
    assert "$12,600 in revenue" in a.answer  # the figure the answer quotes is the row's


def _cell(a: Any, figure: dict[str, Any]) -> Any:
    src = figure["source"]
    return a.queries[src["query"]]["data"][src["row"]][src["column"]]


def test_the_narrators_figures_are_the_cells_its_answer_quotes(seeded: Runtime) -> None:
    """Issue 16: the figures come from the rows, not the prose. By hand (the test above): last week Meta
    spent $700 and took $2,240; the totals row $1,050 spent and $3,975 taken. The period's dates are no figures."""
    _uncredited_revenue(seeded)
    a = ask(seeded, BRAND, "What did I spend and earn last week?", TODAY, client=no_claude)
    assert a.figures and a.dropped_figures == []
    by_text = {f["text"]: f for f in a.figures}
    assert by_text["$1,050"]["value"] == 1050.0 and by_text["$1,050"]["unit"] == "USD"
    assert by_text["$3,975"]["value"] == 3975.0
    meta = by_text["$2,240"]
    assert meta["value"] == 2240.0 and meta["label"].endswith("meta") and meta["source"]["tool"] == "channel_performance"
    for f in a.figures:
        assert _cell(a, f) == pytest.approx(f["value"]) and f["check"] == "matched"
    assert not any(f["text"] in ("2026", "16", "22") for f in a.figures)


def test_claudes_figures_are_checked_against_the_cells_they_cite(seeded: Runtime, client: ClaudeClient,
                                                                sandbox: AnthropicSandbox) -> None:
    """A figure on its cell is kept; one citing the wrong cell is found where it is; one no cell holds is dropped."""
    sandbox.push_reply([{"type": "tool_use", "id": "toolu_top", "name": "top_products",
                         "input": {"start_date": "2026-10-01", "end_date": "2026-11-01", "metric": "revenue"}}])
    reply = {"answer": "SKU-A Vanilla Candle led with $12,600 in revenue.",
             "figures": [
                 {"label": "Revenue, SKU-A", "value": 12600, "unit": "USD", "tool_use_id": "toolu_top",
                  "column": "revenue", "row": 0},
                 {"label": "Revenue, SKU-A (cited on the wrong row)", "value": 12600.0, "unit": "USD",
                  "tool_use_id": "toolu_top", "column": "revenue", "row": 2},
                 {"label": "Margin", "value": 98765.4, "unit": "USD", "tool_use_id": "toolu_top",
                  "column": "revenue", "row": 0}]}
    sandbox.push_reply(json.dumps(reply))
    a = ask(seeded, BRAND, "Which products performed best last month?", TODAY, client=client)
    assert a.author == "claude" and a.answer == reply["answer"]
    kept = {f["label"]: f for f in a.figures}
    assert kept["Revenue, SKU-A"]["check"] == "matched" and kept["Revenue, SKU-A"]["source"]["row"] == 0
    moved = kept["Revenue, SKU-A (cited on the wrong row)"]
    assert moved["check"] == "relocated" and moved["source"]["row"] == 0 and moved["value"] == 12600.0
    assert a.dropped_figures == [{"label": "Margin", "value": 98765.4, "reason": "not in the data"}]
    for f in a.figures:
        assert _cell(a, f) == f["value"]


def test_the_sandbox_model_answers_in_the_json_shape_and_its_figures_hold(seeded: Runtime, client: ClaudeClient,
                                                                          sandbox: AnthropicSandbox) -> None:
    a = ask(seeded, BRAND, "Which products performed best last month?", TODAY, client=client)
    assert a.author == "claude" and not a.answer.lstrip().startswith("{")
    assert a.figures and all(f["check"] == "matched" for f in a.figures) and a.dropped_figures == []
    assert '"figures"' in sandbox.requests[0]["system"][0]["text"] if isinstance(
        sandbox.requests[0]["system"], list) else '"figures"' in sandbox.requests[0]["system"]
    assert 12600.0 in [f["value"] for f in a.figures]
