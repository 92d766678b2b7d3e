"""On the synthetic world, through the real models: planted situations are found, clean products are not.

The world's tables are loaded straight into an in-memory DuckDB (the connectors' own tests prove the
sync reproduces them), the models are built by the runner, and the decisions read them as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.analytics.runner import build_models
from tower.config import Settings
from tower.decisions.alerts import Alert
from tower.decisions.recommend import Thresholds, compute
from tower.decisions.rules import Recommendation, apply_rules
from tower.decisions.sources import load_facts
from tower.decisions.thresholds import AlertThresholds, RuleThresholds
from tower_dev.world import WorldParams, generate_world

END = date(2026, 11, 22)


@dataclass
class BrandFindings:
    manifest: dict[str, Any]
    recommendations: list[Recommendation]  # everything the rules make, before the top-5 cut
    top: list[Recommendation]
    alerts: list[Alert]


# seeds 4 and 2 are worlds where same-day ties once handed a planted campaign's untagged orders to broad budgets
@pytest.fixture(scope="module", params=[7, 4, 2], ids=["seed7", "seed4", "seed2"])
def findings(request: pytest.FixtureRequest) -> Iterator[dict[str, BrandFindings]]:
    world = generate_world(WorldParams(seed=request.param, brands=3, days=70, orders_per_day=100, end_date=END))
    wh = DuckDBWarehouse()
    wh.init_schema()
    settings = Settings(warehouse="duckdb:///:memory:")
    wh.merge("fx_rates", world.fx_rates, ["rate_date", "base_currency", "quote_currency"])
    today = END + timedelta(days=1)
    t = Thresholds(RuleThresholds.from_settings(settings), AlertThresholds.from_settings(settings))
    out = {}
    for bw in world.brands:
        brand_id = bw.brand["brand_id"]
        wh.insert("brands", [dict(bw.brand)])
        for table, rows in bw.tables.items():
            wh.insert(table, rows)
        build_models(wh, brand_id, END - timedelta(days=36), today, settings, today)
        facts = load_facts(wh, settings, brand_id, today)
        every = apply_rules(facts.performance, brand_id, facts.currency,
                            replace(t.rules, window_days=int(facts.extra["window_days"])), facts.product_stock)
        top, alerts = compute(facts, t)
        out[brand_id] = BrandFindings(world.manifest[brand_id], every, top, alerts)
    yield out
    wh.close()


def _has_rec(recs: list[Recommendation], expected: dict[str, Any]) -> bool:
    """A recommendation of the expected type on the product (and channel, within the planted regions)."""
    for r in recs:
        if r.type != expected["type"] or r.product_id != expected["product_id"]:
            continue
        if r.type == "promotion":
            return True
        if expected.get("channel") in (None, r.channel) and set(r.regions) <= set(expected.get("regions") or r.regions):
            return True
    return False


def _has_alert(alerts: list[Alert], expected: dict[str, Any]) -> bool:
    return any(a.type == expected["type"]
               and (not expected.get("channel") or expected["channel"] in a.channel.split(","))
               and (not expected.get("product_id") or expected["product_id"] == a.product_id)
               and (not expected.get("mismatch") or expected["mismatch"] == a.metrics.get("mismatch"))
               for a in alerts)


def test_every_planted_alert_is_raised(findings: dict[str, BrandFindings]) -> None:
    missing = [(b, e) for b, f in findings.items() for e in f.manifest["expected_findings"]["alerts"]
               if not _has_alert(f.alerts, e)]
    assert not missing
    assert sum(len(f.manifest["expected_findings"]["alerts"]) for f in findings.values()) >= 5


def test_planted_reductions_and_promotions_are_recommended(findings: dict[str, BrandFindings]) -> None:
    expected = [(b, e) for b, f in findings.items() for e in f.manifest["expected_findings"]["recommendations"]
                if e["type"] in ("reduce_spend", "promotion")]
    missing = [(b, e) for b, e in expected if not _has_rec(findings[b].recommendations, e)]
    assert expected and not missing
    # the urgent brand's reduction is its top recommendation, high priority, naming the campaign
    acme = findings["acme-candles"]
    cut = acme.top[0]
    assert (cut.type, cut.channel, cut.priority) == ("reduce_spend", "tiktok", "high")
    planted = acme.manifest["low_cover_pushed"]
    assert cut.product_id == planted["product_id"] and set(cut.regions) == set(planted["regions"])
    assert {c.campaign_id for c in cut.campaign_changes} >= set(planted["campaign_ids"])


def test_planted_increases_are_recommended(findings: dict[str, BrandFindings]) -> None:
    expected = [(b, e) for b, f in findings.items() for e in f.manifest["expected_findings"]["recommendations"]
                if e["type"] == "increase_spend"]
    assert expected
    assert all(_has_rec(findings[b].recommendations, e) for b, e in expected)


def test_clean_products_yield_nothing(findings: dict[str, BrandFindings]) -> None:
    for f in findings.values():
        clean = set(f.manifest["clean_products"])
        assert clean
        assert not [r.type for r in f.recommendations if r.product_id in clean]
        assert not [a.type for a in f.alerts if a.product_id in clean]


def test_the_healthy_brand_raises_no_alert(findings: dict[str, BrandFindings]) -> None:
    healthy = [f for f in findings.values() if f.manifest["health"] == "healthy"]
    assert healthy and all(f.alerts == [] for f in healthy)
