"""Alerts on the product plan's numbers, their boundaries, and their open/resolved life."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest

from tower.decisions.alerts import (
    INVENTORY_MISMATCH,
    ROAS_DROP,
    SPEND_ANOMALY,
    STOCKOUT_RISK,
    detect,
    inventory_mismatches,
    reconcile,
    roas_drops,
    robust_z,
    spend_anomalies,
    stockout_risks,
)
from tower.decisions.inputs import (
    AlignmentRow,
    BrandFacts,
    CampaignRef,
    ChannelWeek,
    SpendSeries,
    StockPosition,
)
from tower.decisions.thresholds import AlertThresholds

T = AlertThresholds()
CAMP = CampaignRef("tiktok", "adv-1", "789", "Broad prospecting", spend=3000.0)


def test_roas_drop_golden_tiktok_2_8_to_2_1() -> None:
    # trailing 4 weeks: $16,000 spend → $44,800 revenue (2.8×); this week $5,000 → $10,500 (2.1×)
    w = ChannelWeek("tiktok", "", 5000.0, 10500.0, 16000.0, 44800.0, campaigns=(CAMP,))
    (a,) = roas_drops([w], "USD", T)
    assert a.type == ROAS_DROP and a.channel == "tiktok"
    assert a.metrics["drop_pct"] == pytest.approx(25.0)
    assert a.severity == "high"
    assert "25%" in a.title and "2.1×" in a.title and "2.8×" in a.title
    assert "789" in a.recommended_action


def test_roas_drop_boundary_and_region_level() -> None:
    at_ratio = ChannelWeek("meta", "US-TX", 1000.0, 2380.0, 4000.0, 11200.0)  # 2.38 = 0.85 × 2.8
    assert roas_drops([at_ratio], "USD", T) == []
    below = ChannelWeek("meta", "US-TX", 1000.0, 2300.0, 4000.0, 11200.0)
    (a,) = roas_drops([below], "USD", T)
    assert a.region == "US-TX" and a.severity == "medium" and "in Texas" in a.title
    tiny = ChannelWeek("meta", "US-TX", 50.0, 10.0, 4000.0, 11200.0)
    assert roas_drops([tiny], "USD", T) == []  # too little spend to judge


def test_stockout_golden_45_units_at_15_a_day_is_critical() -> None:
    s = StockPosition("p1", "SKU-A", "loc-1", ("US-CA",), 45.0, 15.0, 3.0, 700.0, ("tiktok",), (CAMP,))
    (a,) = stockout_risks([s], "USD", T)
    assert a.type == STOCKOUT_RISK and a.severity == "critical"
    assert a.title.startswith("SKU-A will stock out in 3 days")
    assert "15 units/day" in a.explanation and "45 units" in a.explanation
    assert "Pause all ads promoting SKU-A" in a.recommended_action


@pytest.mark.parametrize(
    ("doc", "severity"), [(2.9, "critical"), (3.0, "critical"), (3.1, "high"), (7.0, "high"), (7.5, "medium"),
                          (14.0, "medium"), (14.1, None)],
)
def test_stockout_severity_boundaries(doc: float, severity: str | None) -> None:
    s = StockPosition("p1", "SKU-A", "loc-1", ("US-CA",), doc * 10, 10.0, doc, 100.0, ("meta",))
    got = stockout_risks([s], "USD", T)
    assert (got[0].severity if got else None) == severity


def test_stockout_needs_advertising_and_stock() -> None:
    not_advertised = StockPosition("p1", "A", "l", (), 45.0, 15.0, 3.0, 0.0)
    already_out = StockPosition("p1", "A", "l", (), 0.0, 15.0, 0.0, 500.0)
    assert stockout_risks([not_advertised, already_out], "USD", T) == []


def test_inventory_mismatch_groups_per_product_and_type() -> None:
    rows = [
        AlignmentRow("p1", "SKU-C", "meta", "US-TX", 800.0, 0.04, 0.0, 0.0, 1.0, "spending_on_stockout"),
        AlignmentRow("p1", "SKU-C", "tiktok", "US-CA", 400.0, 0.02, 0.0, 0.0, 0.5, "spending_on_stockout"),
        AlignmentRow("p2", "SKU-A", "tiktok", "US-CA", 5000.0, 0.35, 120.0, 8.0, 2.1, "overspending_low_stock"),
        AlignmentRow("p3", "SKU-B", "meta", "US-IL", 500.0, 0.03, 1950.0, 130.0, 4.0, "underspending_overstock"),
        AlignmentRow("p4", "SKU-D", "meta", "US-IL", 500.0, 0.03, 500.0, 30.0, 4.0, "aligned"),
    ]
    alerts = {a.product_id: a for a in inventory_mismatches(rows, "USD")}
    assert set(alerts) == {"p1", "p2"}
    assert alerts["p1"].metrics["spend"] == 1200.0 and alerts["p1"].severity == "high"
    assert "$1,200" in alerts["p1"].title
    assert alerts["p2"].metrics["mismatch"] == "overspending_low_stock"
    assert "35%" in alerts["p2"].title and "8 days" in alerts["p2"].title
    assert all(a.type == INVENTORY_MISMATCH for a in alerts.values())


def series(values: list[float]) -> SpendSeries:
    start = date(2026, 10, 1)
    return SpendSeries(CAMP, "tiktok", tuple((start + timedelta(days=i), v) for i, v in enumerate(values)))


def test_spend_anomaly_spike_and_quiet_days() -> None:
    normal = [100.0, 104.0, 96.0, 101.0, 99.0, 103.0, 97.0, 100.0, 102.0, 98.0] * 2
    (a,) = spend_anomalies([series([*normal, 400.0])], "USD", T)
    assert a.type == SPEND_ANOMALY and a.severity == "high" and a.metrics["spend"] == 400.0
    assert "$400" in a.title
    assert spend_anomalies([series([*normal, 106.0])], "USD", T) == []
    (drop,) = spend_anomalies([series([*normal, 0.0])], "USD", T)
    assert drop.severity == "low"


def test_spend_anomaly_flat_budget_and_short_history() -> None:
    assert math.isinf(robust_z([50.0] * 10, 80.0))
    assert robust_z([50.0] * 10, 60.0) == 0.0
    assert spend_anomalies([series([100.0] * 5 + [500.0])], "USD", T) == []  # too little history


def test_reconcile_does_not_reraise_open_alerts_and_resolves_gone_ones() -> None:
    w = ChannelWeek("tiktok", "", 5000.0, 10500.0, 16000.0, 44800.0)
    facts = BrandFacts("b1", "USD", date(2026, 11, 23), channel_weeks=(w,))
    first = detect(facts, T)
    changes = reconcile({}, first)
    assert [a.id for a in changes.raised] == [first[0].id] and not changes.resolved
    stored = {a.id: {"status": "open"} for a in changes.raised}
    second = reconcile(stored, detect(facts, T))
    assert second.raised == [] and [a.id for a in second.still_open] == [first[0].id]
    healthy = BrandFacts("b1", "USD", date(2026, 11, 30),
                         channel_weeks=(ChannelWeek("tiktok", "", 5000.0, 14000.0, 16000.0, 44800.0),))
    third = reconcile(stored, detect(healthy, T))
    assert third.raised == [] and third.resolved == [first[0].id]
    # once resolved, the same condition is raised again
    fourth = reconcile({first[0].id: {"status": "resolved"}}, detect(facts, T))
    assert [a.id for a in fourth.raised] == [first[0].id]


def test_a_budget_raised_last_week_is_not_an_anomaly() -> None:
    # 21 days around $100, then 7 days around $180: the last day at $203 is the new level, not a spike
    stepped = [100.0, 98.0, 103.0] * 7 + [181.0, 176.0, 184.0, 187.0, 188.0, 201.0, 200.0]
    assert spend_anomalies([series([*stepped, 203.0])], "USD", T) == []
    assert spend_anomalies([series([*stepped, 420.0])], "USD", T)[0].severity == "high"


def test_small_regions_need_a_drop_beyond_noise() -> None:
    # a region with 12 orders this week: a 30% drop is within noise (2 × √(1/12 + 1/48) ≈ 65%)
    noisy = ChannelWeek("meta", "US-WI", 150.0, 315.0, 600.0, 1800.0, orders=12.0, trailing_orders=48.0)
    assert roas_drops([noisy], "USD", T) == []
    # the same drop on a whole channel is judged by the plan's rule alone
    assert roas_drops([replace(noisy, region_code="")], "USD", T)
    # and a collapse in a big region is beyond noise
    big = ChannelWeek("meta", "US-CA", 3000.0, 4000.0, 12000.0, 36000.0, orders=80.0, trailing_orders=300.0)
    assert roas_drops([big], "USD", T)[0].metrics["drop_pct"] == pytest.approx(55.6, abs=0.1)
