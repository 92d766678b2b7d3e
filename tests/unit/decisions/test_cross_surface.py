"""One number everywhere (issue 15 item 6): a product's spend reads the same on every surface that shows it.

On a world that is not the demo's (seed 4, one brand), built by the real models, each surface's figure for a
(product, channel, region, window) is compared with the same figure computed independently, in plain Python,
from the day-level rows of unified_performance over that window (tower_dev.reference.window_spend, the rule's
mirror): the dashboard API's channel drilldown, the inventory alerts (their totals and their campaign lines),
the stock alerts' last-7-days spend, the recommendations' current spend, the Q&A tool result the AI sees
(top_products) and the weekly summary's context.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest

from tower import sql as sqlfiles
from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.ai.context import build_context, clean_text
from tower.analytics.runner import build_models
from tower.analytics.snapshots import channel_drilldown
from tower.config import Settings
from tower.decisions.alerts import INVENTORY_MISMATCH, Alert
from tower.decisions.inputs import BrandFacts
from tower.decisions.recommend import Thresholds, compute
from tower.decisions.rules import MAX_BREAKDOWN, Recommendation, apply_rules
from tower.decisions.sources import load_facts
from tower.decisions.thresholds import AlertThresholds, RuleThresholds
from tower_dev.reference import window_spend
from tower_dev.world import WorldParams, generate_world

END = date(2026, 11, 22)
TODAY = END + timedelta(days=1)
CENT = 0.011  # surfaces round to cents (sums of rounded parts may differ by a cent)


@dataclass
class Surfaces:
    warehouse: DuckDBWarehouse
    brand_id: str
    facts: BrandFacts
    recommendations: list[Recommendation]
    alerts: list[Alert]
    window_days: int


@pytest.fixture(scope="module")
def built() -> Iterator[Surfaces]:
    world = generate_world(WorldParams(seed=4, brands=1, days=60, orders_per_day=100, end_date=END))
    wh = DuckDBWarehouse()
    wh.init_schema()
    settings = Settings(warehouse="duckdb:///:memory:")
    wh.merge("fx_rates", world.fx_rates, ["rate_date", "base_currency", "quote_currency"])
    (bw,) = world.brands
    brand_id = bw.brand["brand_id"]
    wh.insert("brands", [dict(bw.brand)])
    for table, rows in bw.tables.items():
        wh.insert(table, rows)
    build_models(wh, brand_id, END - timedelta(days=40), TODAY, settings, TODAY)
    facts = load_facts(wh, settings, brand_id, TODAY)
    t = Thresholds(RuleThresholds.from_settings(settings), AlertThresholds.from_settings(settings))
    window_days = int(facts.extra["window_days"])
    every = apply_rules(facts.performance, brand_id, facts.currency, replace(t.rules, window_days=window_days),
                        facts.product_stock)
    _top, alerts = compute(facts, t)
    yield Surfaces(wh, brand_id, facts, every, alerts, window_days)
    wh.close()


def by_hand(s: Surfaces, days: int) -> list[dict[str, Any]]:
    """Spend per campaign × geography × product over the ``days`` ending on the as-of day, in plain Python."""
    rows = s.warehouse.rows(
        "SELECT * FROM unified_performance WHERE brand_id = @b AND attribution_model = 'last_touch' "
        "AND performance_date > @lo AND performance_date <= @hi",
        {"b": s.brand_id, "lo": END - timedelta(days=days), "hi": END})
    promoted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in s.warehouse.rows("SELECT * FROM ad_campaign_products WHERE brand_id = @b", {"b": s.brand_id}):
        promoted[(r["platform"], r["campaign_id"])].add(r["product_id"])
    return window_spend(rows, promoted)


def sums(parts: list[dict[str, Any]], *keys: str) -> dict[tuple, float]:
    out: dict[tuple, float] = defaultdict(float)
    for p in parts:
        out[tuple(p[k] for k in keys)] += p["spend"]
    return dict(out)


def test_the_world_has_something_to_compare(built: Surfaces) -> None:
    assert built.facts.alignment and built.recommendations
    assert any(a.type == INVENTORY_MISMATCH for a in built.alerts)


def test_the_dashboard_api_reads_the_rules_figure(built: Surfaces) -> None:
    expected = sums(by_hand(built, built.window_days), "product_id", "channel", "region_code")
    seen = 0
    for channel in sorted({c for (_, c, _) in expected}):
        body = channel_drilldown(built.warehouse, built.brand_id, channel, END)
        for m in body["inventory_alignment"]["mismatches"]:
            assert m["spend"] == pytest.approx(expected.get((m["product"], channel, m["region"]), 0.0), abs=CENT)
            seen += 1
    assert seen


def test_alerts_and_their_campaign_lines_read_the_rules_figure(built: Surfaces) -> None:
    parts = by_hand(built, built.window_days)
    expected = sums(parts, "product_id", "channel", "region_code")
    per_campaign = sums(parts, "product_id", "channel", "region_code", "campaign_id")
    for alert in (a for a in built.alerts if a.type == INVENTORY_MISMATCH):
        rows = [r for r in built.facts.alignment
                if r.product_id == alert.product_id and r.mismatch == alert.metrics["mismatch"]]
        assert alert.metrics["spend"] == pytest.approx(
            sum(expected[(r.product_id, r.channel, r.region_code)] for r in rows), abs=CENT)
        for line in alert.campaigns:
            assert line["spend"] == pytest.approx(sum(
                per_campaign.get((r.product_id, r.channel, r.region_code, line["campaign_id"]), 0.0)
                for r in rows if r.channel == line["platform"]), abs=CENT)


def test_the_stock_positions_last_week_reads_the_rules_figure(built: Surfaces) -> None:
    locations = {(r["country_code"], r["region_code"]): r["location_id"] for r in built.warehouse.rows(
        "SELECT * FROM location_regions WHERE brand_id = @b", {"b": built.brand_id})}
    week: dict[tuple, float] = defaultdict(float)
    for p in by_hand(built, 7):
        if p["product_id"] is not None:
            week[(p["product_id"], locations.get((p["country_code"], p["region_code"]), ""))] += p["spend"]
    assert built.facts.stock
    for s in built.facts.stock:
        assert s.ad_spend == pytest.approx(week.get((s.product_id, s.location_id), 0.0)
                                           + week.get((s.product_id, ""), 0.0), rel=1e-9)


def test_recommendations_read_the_rules_figure(built: Surfaces) -> None:
    expected = sums(by_hand(built, built.window_days), "product_id", "channel", "region_code")
    checked = 0
    for rec in built.recommendations:
        if not rec.channel:  # promotions: the product's last-7-days spend, checked with the stock positions
            continue
        # the card's region lines (a country-level line has region ''), and their total when all are shown
        for line in rec.breakdown:
            assert line["spend"] == pytest.approx(expected[(rec.product_id, rec.channel, line["region"])], abs=CENT)
        if len(rec.breakdown) < MAX_BREAKDOWN:
            assert rec.current_spend == pytest.approx(
                sum(expected[(rec.product_id, rec.channel, line["region"])] for line in rec.breakdown), abs=CENT)
        checked += 1
    assert checked


def test_the_qa_tool_result_reads_the_rules_figure(built: Surfaces) -> None:
    expected = sums(by_hand(built, built.window_days), "product_id")
    start = END - timedelta(days=built.window_days - 1)
    rows = built.warehouse.rows(sqlfiles.load("queries/qa/top_products.sql"), {
        "brand_id": built.brand_id, "attribution_model": "last_touch", "start_date": start,
        "end_date": END + timedelta(days=1), "metric": "revenue", "row_limit": 1000})
    assert rows
    for r in rows:
        assert r["spend"] == pytest.approx(expected.get((r["product_id"],), 0.0), abs=CENT)
    # and the alignment's product level (the page's product view) says the same
    for a in built.warehouse.rows("SELECT * FROM inventory_alignment WHERE brand_id = @b AND as_of_date = @d "
                                  "AND level = 'product'", {"b": built.brand_id, "d": END}):
        assert float(a["spend_amount"]) == pytest.approx(expected.get((a["product_id"],), 0.0), abs=CENT)


def test_the_weekly_summary_context_reads_the_rules_figure(built: Surfaces) -> None:
    expected = sums(by_hand(built, built.window_days), "product_id", "channel", "region_code")
    ctx = build_context(built.facts, [r.to_dict() for r in built.recommendations],
                        [a.to_dict() for a in built.alerts], max_tokens=100_000)
    ids = {clean_text(r.product_title, 60): r.product_id for r in built.facts.alignment}
    kinds = {"misalignments": None, "overstock": "underspending_overstock"}
    checked = 0
    for key, kind in kinds.items():
        for item in ctx["inventory"][key]:
            issue = item.get("issue", kind)
            rows = [r for r in built.facts.alignment if r.product_id == ids[item["product"]] and r.mismatch == issue]
            assert item["ad_spend"] == pytest.approx(  # the summary shows whole currency units
                sum(expected.get((r.product_id, r.channel, r.region_code), 0.0) for r in rows), abs=0.5 + CENT)
            checked += 1
    for card, rec in zip(ctx["recommendations"], built.recommendations, strict=False):  # in the cards' order
        assert (card["product"], card["channel"]) == (clean_text(rec.product_title, 60), rec.channel)
        assert card["current_spend"] == pytest.approx(rec.current_spend, abs=CENT)
        checked += 1
    assert checked

