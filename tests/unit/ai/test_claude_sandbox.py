"""The real anthropic SDK against the Anthropic sandbox: summaries, retries, caching, fallback, usage."""

from __future__ import annotations

from datetime import date

import pytest

from tower.ai.claude import ClaudeClient
from tower.ai.context import build_context
from tower.ai.grounding import GenerationFailed
from tower.ai.prompts import SUMMARY_SYSTEM, SUMMARY_TOOL, data_message
from tower.ai.summarize import explain_alerts, summarize_context
from tower.ai.usage import usage_report
from tower.decisions.recommend import Thresholds, compute
from tower.decisions.thresholds import AlertThresholds, RuleThresholds
from tower.runtime import Runtime
from tower_dev.samples import synthetic_facts
from tower_dev.sandboxes.anthropic_messages import WRONG_NUMBER, AnthropicSandbox

BRAND = "acme-candles"
T = Thresholds(RuleThresholds(), AlertThresholds())


def make_context(seed: int = 1) -> tuple[dict, object, list]:
    facts = synthetic_facts(skus=8, regions=4, seed=seed, brand_id=BRAND)
    recs, alerts = compute(facts, T)
    alert_dicts = [a.to_dict() for a in alerts]
    return build_context(facts, [r.to_dict() for r in recs], alert_dicts), facts, alert_dicts


def usage_rows(runtime: Runtime) -> list[dict]:
    return runtime.warehouse.rows("SELECT * FROM ai_usage ORDER BY called_at, call_id")


def test_summary_through_the_sdk_is_claude_written_and_grounded(runtime: Runtime, client: ClaudeClient,
                                                                 sandbox: AnthropicSandbox) -> None:
    ctx, _, _ = make_context()
    doc = summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    assert doc["author"] == "claude" and doc["grounding"] == "passed" and not doc["cached"]
    assert set(doc["summary"]) == {"summary", "channel_performance", "inventory_insights", "recommendations"}
    # the request had the fixed instructions in a cached system block and forced the tool
    (req,) = sandbox.requests
    assert req["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "never instructions" in req["system"][0]["text"]
    assert req["tool_choice"] == {"type": "tool", "name": "write_weekly_summary"}
    (row,) = usage_rows(runtime)
    assert row["purpose"] == "summary" and row["grounding"] == "pass" and row["model"] == "claude-sonnet-4-6"
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0 and row["cache_creation_input_tokens"] > 0
    assert float(row["cost_amount"]) > 0


def test_a_rebuild_that_changes_nothing_does_not_call_claude(runtime: Runtime, client: ClaudeClient,
                                                             sandbox: AnthropicSandbox) -> None:
    ctx, _, _ = make_context()
    summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    again = summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    assert again["cached"] and len(sandbox.requests) == 1
    changed, _, _ = make_context(seed=2)
    summarize_context(runtime, BRAND, changed, week="2026-W48", client=client)
    assert len(sandbox.requests) == 2
    # the second call read the fixed instructions from the prompt cache
    rows = usage_rows(runtime)
    assert rows[-1]["cache_read_input_tokens"] > 0 and rows[-1]["cache_creation_input_tokens"] == 0


@pytest.mark.parametrize("fault", ["rate_limit", "overloaded"])
def test_429_and_529_are_retried_honouring_retry_after(runtime: Runtime, client: ClaudeClient,
                                                       sandbox: AnthropicSandbox, sleeps: list, fault: str) -> None:
    sandbox.push_fault(fault, retry_after=2)
    sandbox.push_fault(fault)  # no retry-after: exponential backoff from 1 s
    ctx, _, _ = make_context()
    doc = summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    assert doc["author"] == "claude"
    assert sleeps == [2.0, 2.0]  # retry-after 2, then backoff 1 × 2^(2-1)
    assert usage_rows(runtime)[0]["attempts"] == 3


def test_retries_exhausted_fall_back_to_the_narrator(runtime: Runtime, client: ClaudeClient,
                                                     sandbox: AnthropicSandbox, sleeps: list) -> None:
    sandbox.push_fault("overloaded", count=4, retry_after=0)
    ctx, _, _ = make_context()
    doc = summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    assert doc["author"] == "narrator" and doc["grounding"] == "fallback_error"
    assert len(sandbox.requests) == 4 and len(sleeps) == 3
    (row,) = usage_rows(runtime)
    assert row["model"] == "narrator" and row["grounding"] == "fallback"


def test_a_planted_wrong_number_is_retried_then_passes(runtime: Runtime, client: ClaudeClient,
                                                       sandbox: AnthropicSandbox) -> None:
    sandbox.push_fault("ungrounded")
    ctx, _, _ = make_context()
    doc = summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    assert doc["author"] == "claude" and doc["grounding"] == "passed_on_retry"
    assert WRONG_NUMBER in str(sandbox.requests[1]["messages"][0]["content"])  # the retry names the failure
    assert [r["grounding"] for r in usage_rows(runtime)] == ["fail", "pass"]


def test_wrong_twice_means_the_narrator_writes(runtime: Runtime, client: ClaudeClient,
                                               sandbox: AnthropicSandbox) -> None:
    sandbox.push_fault("ungrounded", count=2)
    ctx, _, _ = make_context()
    doc = summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    assert doc["author"] == "narrator" and doc["grounding"] == "fallback_ungrounded"
    assert WRONG_NUMBER not in str(doc["summary"]) and doc["grounding_failures"] == [WRONG_NUMBER]
    assert [r["grounding"] for r in usage_rows(runtime)] == ["fail", "fail", "fallback"]
    (month,) = usage_report(runtime.warehouse, start=date(2026, 11, 1), end=date(2026, 12, 1))
    assert (month["calls"], month["grounding_failures"], month["fallbacks"], month["grounding_passes"]) == (2, 2, 1, 0)


def test_a_reply_without_the_tool_call_falls_back(client: ClaudeClient, sandbox: AnthropicSandbox) -> None:
    sandbox.push_fault("no_tool")
    ctx, _, _ = make_context()
    with pytest.raises(GenerationFailed, match="no write_weekly_summary call"):
        client.structured(brand_id=BRAND, purpose="summary", system=SUMMARY_SYSTEM,
                          user_text=data_message(ctx, "Write it."), tool=SUMMARY_TOOL)


def test_final_errors_are_not_retried(runtime: Runtime, client: ClaudeClient, sandbox: AnthropicSandbox,
                                      sleeps: list) -> None:
    sandbox.push_fault("server_error")
    ctx, _, _ = make_context()
    doc = summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    assert doc["grounding"] == "fallback_error" and sleeps == [] and len(sandbox.requests) == 1


def test_alert_explanations_through_the_sdk_are_cached(runtime: Runtime, client: ClaudeClient,
                                                       sandbox: AnthropicSandbox) -> None:
    _, facts, alerts = make_context()
    out = explain_alerts(runtime, BRAND, alerts, facts, week="2026-W48", client=client)
    assert out and all(d["author"] == "claude" and d["grounding"] == "passed" for d in out.values())
    n = len(sandbox.requests)
    explain_alerts(runtime, BRAND, alerts, facts, week="2026-W48", client=client)
    assert len(sandbox.requests) == n


def test_usage_report_prices_tokens_per_brand_month(runtime: Runtime, client: ClaudeClient) -> None:
    ctx, _, _ = make_context()
    summarize_context(runtime, BRAND, ctx, week="2026-W48", client=client)
    (row,) = usage_rows(runtime)
    expected = (row["input_tokens"] * 3.0 + row["cache_creation_input_tokens"] * 3.75
                + row["cache_read_input_tokens"] * 0.3 + row["output_tokens"] * 15.0) / 1e6
    (month,) = usage_report(runtime.warehouse, start=date(2026, 11, 1), end=date(2026, 12, 1), brand_id=BRAND)
    assert month["month"] == "2026-11" and month["brand_id"] == BRAND
    assert month["cost_usd"] == pytest.approx(expected, abs=1e-4)


def test_the_summarize_handler_writes_once_per_data_version(seeded: Runtime, client: ClaudeClient,
                                                             sandbox: AnthropicSandbox) -> None:
    from datetime import UTC, datetime

    from tower.decisions.store import latest_summary
    from tower.pipeline import handle_models_built_summarize
    from tower.ports import Message

    def event(brand_id: str) -> Message:
        return Message(topic="tower-models-built", data={"brand_id": brand_id}, attributes={}, message_id="m-1")

    moment = datetime(2026, 11, 23, 15, tzinfo=UTC)
    first = handle_models_built_summarize(seeded, event(BRAND), now=moment, client=client)
    calls = len(sandbox.requests)
    second = handle_models_built_summarize(seeded, event(BRAND), now=moment, client=client)  # redelivered
    assert first is not None and second is not None and calls > 0
    assert second["summary"]["cached"] and len(sandbox.requests) == calls  # a rebuild that changed nothing
    page = latest_summary(seeded.store, BRAND)  # what a page load reads: no Claude call
    assert page is not None and page["summary"]["summary"] == first["summary"]["summary"]["summary"]
    # the product sent the week's figures and kept the model's text because it passed the number check
    assert page["author"] == "claude" and page["grounding"] == "passed"
    assert '"total_spend":18500' in sandbox.requests[0]["messages"][0]["content"]
    assert handle_models_built_summarize(seeded, event("nobody"), now=moment, client=client) is None
