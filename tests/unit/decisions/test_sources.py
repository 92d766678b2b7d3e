"""Reading the model tables into the pure core's inputs, and the rules and alerts on them."""

from __future__ import annotations

from datetime import date

import pytest

from tower.brands import UnknownBrand
from tower.decisions.recommend import compute, thresholds_for
from tower.decisions.sources import load_facts, store_to_account_rates
from tower.runtime import Runtime
from tower_dev.samples import seed_model_tables

BRAND, OTHER = "acme-candles", "urban-wellness"
TODAY = date(2026, 11, 23)


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 1, tzinfo=UTC)
    runtime.warehouse.merge("brands", [{"brand_id": OTHER, "brand_name": "Urban Wellness Co.",
                                        "timezone": "America/Los_Angeles", "currency": "USD", "created_at": now,
                                        "updated_at": now}], ["brand_id"])
    seed_model_tables(runtime.warehouse, (BRAND, OTHER))
    return runtime


def test_facts_come_from_the_models_of_the_brand_only(seeded: Runtime) -> None:
    f = load_facts(seeded.warehouse, seeded.settings, BRAND, TODAY)
    assert f.extra == {"as_of_date": "2026-11-22", "window_days": 30} and f.currency == "USD"
    (sku_a, _sku_b) = f.performance
    assert (sku_a.product_title, sku_a.channel, sku_a.region_code) == ("SKU-A Vanilla Candle", "tiktok", "US-CA")
    assert (sku_a.spend, sku_a.roas, sku_a.days_of_cover, sku_a.spend_share) == (5000.0, 2.1, 8.0, 0.35)
    assert sku_a.unit_cost == 12.0 and sku_a.unit_price > 0
    (camp,) = sku_a.campaigns
    assert (camp.platform, camp.account_id, camp.campaign_id, camp.daily_budget) == ("tiktok", "acct-tiktok",
                                                                                    "c-tiktok", 200.0)
    # 14 days × $50 in US-CA in the window, this brand's only, on SKU-A by the campaign's product mix over the
    # window (rules/window_spend.sql): it also sold SKU-B in Texas for 7 of those days, $1,470 : $735
    assert camp.spend == pytest.approx(700.0 * 1470 / (1470 + 735))
    assert [a.mismatch for a in f.alignment] == ["overspending_low_stock", "aligned"]
    assert [(s.product_title, s.available_units, s.days_of_cover) for s in f.product_stock] == [
        ("SKU-C Ocean Candle", 1200.0, 120.0)]
    assert f.blended_period is not None and f.blended_period.revenue == 72000.0
    assert {p.channel for p in f.channel_periods} == {"meta", "tiktok", "google_ads"}


def test_rules_and_alerts_on_the_model_tables(seeded: Runtime) -> None:
    f = load_facts(seeded.warehouse, seeded.settings, BRAND, TODAY)
    recs, alerts = compute(f, thresholds_for(seeded, BRAND))
    by_type = {r.type: r for r in recs}
    assert by_type["reduce_spend"].recommended_change == -1000.0 and by_type["reduce_spend"].priority == "high"
    assert by_type["reduce_spend"].campaign_changes[0].campaign_id == "c-tiktok"
    assert by_type["increase_spend"].recommended_change == 500.0
    assert by_type["promotion"].impact["tied_capital"] == 15000.0
    kinds = {(a.type, a.severity) for a in alerts}
    assert ("stockout_risk", "critical") in kinds  # SKU-A: 45 units at 15 a day, advertised this week
    assert ("inventory_mismatch", "medium") in kinds
    assert ("roas_drop", "medium") in kinds  # Meta: 3.2× this week against 4.1× over the 4 weeks before


def test_no_models_yet_means_no_facts(runtime: Runtime) -> None:
    f = load_facts(runtime.warehouse, runtime.settings, BRAND, TODAY)
    assert f.performance == () and f.extra == {}
    with pytest.raises(UnknownBrand):
        load_facts(runtime.warehouse, runtime.settings, "nobody", TODAY)


def test_fx_direct_inverted_and_crossed(runtime: Runtime) -> None:
    runtime.warehouse.merge("fx_rates", [
        {"rate_date": date(2026, 11, 20), "base_currency": "USD", "quote_currency": "CAD", "rate": 1.4},
        {"rate_date": date(2026, 11, 20), "base_currency": "EUR", "quote_currency": "USD", "rate": 1.1},
        {"rate_date": date(2026, 11, 20), "base_currency": "EUR", "quote_currency": "SEK", "rate": 11.0},
    ], ["rate_date", "base_currency", "quote_currency"])
    rates = store_to_account_rates(runtime.warehouse, "USD", date(2026, 11, 22))
    assert rates["CAD"] == pytest.approx(1.4)
    assert rates["EUR"] == pytest.approx(1 / 1.1)
    assert rates["SEK"] == pytest.approx(11.0 / 1.1)
