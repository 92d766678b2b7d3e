"""The brand routes' shapes and numbers: dashboard, alerts, recommendations, drilldown and Q&A."""

from __future__ import annotations

from typing import Any

import pytest
from api_seed import BRAND, GROWING, OTHER, WEEK, bearer
from flask.testing import FlaskClient

from tower.runtime import Runtime


@pytest.fixture
def get(client: FlaskClient, keys: dict[str, str]) -> Any:
    """GET with the agency's key; returns (status, json)."""

    def _get(path: str) -> tuple[int, Any]:
        r = client.get(path, headers=bearer(keys["agency"]))
        return r.status_code, r.json

    return _get


def test_dashboard_has_the_plans_shape_and_the_models_numbers(get: Any) -> None:
    status, body = get(f"/api/brands/{BRAND}/dashboard")
    assert status == 200
    assert list(body) == ["brand", "summary", "recommendations", "performance_snapshot", "alerts", "tiles", "range"]
    assert body["brand"] == {"brand_id": BRAND, "brand_name": "Acme Candles", "currency": "USD",
                             "timezone": "America/New_York", "today": "2026-11-23"}

    summary = body["summary"]
    assert summary["summary"].startswith("Last week (Nov 16 – Nov 22, 2026) you spent $18,500")
    assert set(summary["channel_performance"]) == {"meta", "tiktok", "google_ads"}
    assert summary["inventory_insights"] and summary["author"] == "narrator" and summary["week"] == WEEK
    assert summary["generated_at"] == "2026-11-23T15:00:00+00:00"  # ISO 8601, not an HTTP date

    recs = body["recommendations"]
    assert [r["type"] for r in recs] == ["reduce_spend", "promotion", "increase_spend"]
    assert all(r["status"] == "open" and r["week"] == WEEK for r in recs)
    top = recs[0]
    assert (top["priority"], top["channel"], top["recommended_change"]) == ("high", "tiktok", -1000.0)
    assert {"action", "reason", "expected_impact"} <= set(top)

    perf = body["performance_snapshot"]
    assert (perf["as_of_date"], perf["period_days"], perf["currency"]) == ("2026-11-22", 7, "USD")
    assert (perf["total_spend"], perf["total_revenue"], perf["blended_roas"]) == (18500.0, 72000.0, 3.89)
    assert perf["by_channel"]["meta"] == {"spend": 11000.0, "revenue": 46200.0, "roas": 4.2}
    assert perf["by_channel"]["tiktok"] == {"spend": 5000.0, "revenue": 10500.0, "roas": 2.1}
    assert perf["previous_week"]["by_channel"]["tiktok"]["roas"] == 2.8
    assert (perf["previous_week"]["total_spend"], perf["previous_week"]["blended_roas"]) == (17000.0, 5.0)
    assert perf["changes"]["by_channel"]["tiktok"]["roas_pct"] == -25.0  # "TikTok ROAS dropped 25%"
    assert (perf["changes"]["spend_pct"], perf["changes"]["revenue_pct"]) == (8.8, -15.3)

    alerts = body["alerts"]
    assert [a["severity"] for a in alerts] == ["critical", "medium", "medium"]
    assert alerts[0]["title"] == "SKU-A Vanilla Candle will stock out in 3 days (California)"


def test_dashboard_of_a_brand_known_only_to_the_warehouse(get: Any) -> None:
    status, body = get(f"/api/brands/{OTHER}/dashboard")
    assert status == 200
    assert body["brand"]["brand_name"] == "Urban Wellness"  # no brands/{id} document: the warehouse row
    assert body["summary"] is None  # summarize has not run for it
    assert body["performance_snapshot"]["total_spend"] == 185000.0  # its own (×10) figures, not acme's


def test_dashboard_before_any_model_was_built(get: Any) -> None:
    status, body = get(f"/api/brands/{GROWING}/dashboard")
    assert status == 200
    assert body["performance_snapshot"] == {
        "as_of_date": None, "period_days": None, "currency": None, "total_spend": 0.0, "total_revenue": 0.0,
        "blended_roas": None, "by_channel": {}, "previous_week": None, "changes": None}
    assert [r["id"] for r in body["recommendations"]] == [f"rec_{GROWING}_grow"] and body["alerts"] == []


def test_page_loads_never_reach_claude(runtime: Runtime, keys: dict[str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from api_seed import NOW

    from tower.ai import claude
    from tower.api.app import create_app

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("a page load called the Claude client")

    monkeypatch.setattr(claude, "client_for", refuse)  # what resolve_client calls for Q&A and summaries
    monkeypatch.setattr(claude.ClaudeClient, "create", refuse)
    runtime.settings = runtime.settings.model_copy(update={"anthropic_api_key": "sk-would-be-used"})
    c = create_app(runtime, clock=lambda: NOW).test_client()
    for path in ("dashboard", "alerts", "recommendations", "drilldown/channel/tiktok"):
        assert c.get(f"/api/brands/{BRAND}/{path}", headers=bearer(keys["agency"])).status_code == 200, path
    assert c.get("/api/agency/overview", headers=bearer(keys["agency"])).status_code == 200
    assert runtime.warehouse.rows("SELECT COUNT(*) AS n FROM ai_usage")[0]["n"] == 0


def test_alerts_are_open_ones_most_severe_first(get: Any, runtime: Runtime) -> None:
    status, body = get(f"/api/brands/{BRAND}/alerts")
    assert status == 200 and list(body) == ["alerts"]
    assert [a["type"] for a in body["alerts"]] == ["stockout_risk", "inventory_mismatch", "roas_drop"]
    first = body["alerts"][0]
    assert {"type", "severity", "title", "explanation", "recommended_action", "product"} <= set(first)

    resolved = body["alerts"][2]["id"]
    runtime.store.merge(f"brands/{BRAND}/alerts/{resolved}", {"status": "resolved"})
    assert [a["id"] for a in get(f"/api/brands/{BRAND}/alerts")[1]["alerts"]] == [
        a["id"] for a in body["alerts"][:2]]
    assert [a["id"] for a in get(f"/api/brands/{BRAND}/alerts?status=resolved")[1]["alerts"]] == [resolved]
    assert len(get(f"/api/brands/{BRAND}/alerts?status=all")[1]["alerts"]) == 3


def test_recommendations_of_a_week(get: Any) -> None:
    status, body = get(f"/api/brands/{BRAND}/recommendations")
    assert status == 200 and body["week"] == WEEK
    assert [r["type"] for r in body["recommendations"]] == ["reduce_spend", "promotion", "increase_spend"]
    assert get(f"/api/brands/{BRAND}/recommendations?week=2026-W01")[1] == {"week": "2026-W01",
                                                                            "recommendations": []}


@pytest.mark.parametrize("query, message", [
    ("week=last", "week must be an ISO week like 2026-W47, not 'last'"),
    ("include_hidden=maybe", "include_hidden must be true or false, not 'maybe'"),
])
def test_recommendations_bad_parameters(get: Any, query: str, message: str) -> None:
    status, body = get(f"/api/brands/{BRAND}/recommendations?{query}")
    assert status == 400 and body["error"] == {"code": "bad_parameter", "message": message}


def test_alerts_bad_status_is_400(get: Any) -> None:
    status, body = get(f"/api/brands/{BRAND}/alerts?status=closed")
    assert status == 400 and "status must be one of open, resolved, all" in body["error"]["message"]


def test_channel_drilldown_has_the_plans_shape(get: Any) -> None:
    status, body = get(f"/api/brands/{BRAND}/drilldown/channel/tiktok")
    assert status == 200
    assert list(body) == ["channel", "as_of_date", "performance", "top_campaigns", "inventory_alignment",
                          "recommendations"]
    assert body["performance"] == {"total_spend": 5000.0, "total_revenue": 10500.0, "roas": 2.1,
                                   "by_geo": {"US-CA": {"spend": 3000.0, "revenue": 5400.0, "roas": 1.8}}}
    # the 7 days to 2026-11-22 of unified_performance: $50 a day at 2.1x
    assert body["top_campaigns"] == [{"id": "c-tiktok", "name": "tiktok prospecting", "spend": 350.0, "roas": 2.1}]
    assert body["inventory_alignment"]["products_promoted"] == ["gid://shopify/Product/1"]
    (mismatch,) = body["inventory_alignment"]["mismatches"]
    assert (mismatch["issue"], mismatch["region"], mismatch["days_cover"]) == ("overspending_low_stock", "US-CA", 8.0)
    (advice,) = body["recommendations"]
    assert isinstance(advice, str) and "TikTok" in advice


def test_drilldown_of_a_channel_without_data_and_of_an_unknown_channel(get: Any) -> None:
    status, body = get(f"/api/brands/{GROWING}/drilldown/channel/meta")
    assert status == 200 and body["as_of_date"] is None and body["top_campaigns"] == []
    assert body["recommendations"] == ["Add $500 a week to Meta in US-IL behind SKU-B"]
    status, body = get(f"/api/brands/{BRAND}/drilldown/channel/snapchat")
    assert status == 404
    assert body["error"] == {"code": "unknown_channel",
                             "message": "unknown channel 'snapchat': use meta, tiktok, google_ads"}


def test_ask_answers_with_the_warehouses_numbers(client: FlaskClient, keys: dict[str, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    question = "Which products performed best last month?"
    r = client.post(f"/api/brands/{BRAND}/ask", headers=bearer(keys["agency"]), json={"question": question})
    assert r.status_code == 200, r.json
    assert (r.json["question"], r.json["author"]) == (question, "narrator")
    assert "$12,600" in r.json["answer"]  # October: SKU-A on Meta, 30 days × $420
    assert r.json["queries"][0]["tool"] == "top_products"


@pytest.mark.parametrize("kwargs, code, message", [
    ({}, "invalid_json", "the request body must be a JSON object"),
    ({"data": "question=hi", "content_type": "application/json"}, "invalid_json", "must be a JSON object"),
    ({"json": ["Which products?"]}, "invalid_json", "must be a JSON object"),
    ({"json": {}}, "invalid_body", "question: Field required"),
    ({"json": {"question": ""}}, "invalid_body", "question: String should have at least 1 character"),
    ({"json": {"question": "x" * 501}}, "invalid_body", "question: String should have at most 500 characters"),
    ({"json": {"question": 42}}, "invalid_body", "question: Input should be a valid string"),
    ({"json": {"question": "hi", "brand_id": "x"}}, "invalid_body", "brand_id: Extra inputs are not permitted"),
    ({"json": {"question": "   "}}, "bad_question", "the question is empty"),
])
def test_ask_bad_input_is_400_naming_the_problem(client: FlaskClient, keys: dict[str, str], kwargs: dict,
                                                 code: str, message: str) -> None:
    r = client.post(f"/api/brands/{BRAND}/ask", headers=bearer(keys["agency"]), **kwargs)
    assert r.status_code == 400
    assert r.json["error"]["code"] == code and message in r.json["error"]["message"]
