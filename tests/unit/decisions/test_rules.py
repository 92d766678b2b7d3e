"""The three recommendation rules on the product plan's own numbers (Phase 4, step 4.2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tower.decisions.inputs import CampaignRef, PerformanceRow, StockPosition
from tower.decisions.rules import INCREASE, PROMOTION, REDUCE, apply_rules, campaign_changes
from tower.decisions.scoring import rank
from tower.decisions.thresholds import RuleThresholds, ThresholdError, apply_overrides

T = RuleThresholds()
TODAY = date(2026, 11, 23)


def row(**kw: object) -> PerformanceRow:
    base: dict[str, object] = {
        "product_id": "gid://shopify/Product/1", "product_title": "SKU-A", "channel": "tiktok",
        "region_code": "US-CA", "spend": 1000.0, "revenue": 3000.0, "spend_share": 0.05, "days_of_cover": 20.0,
        "available_units": 200.0, "velocity": 10.0, "unit_cost": 10.0, "unit_price": 40.0, "location_id": "loc-west",
    }
    base.update(kw)
    return PerformanceRow(**base)  # type: ignore[arg-type]


def test_rule1_reduce_spend_golden() -> None:
    camp = CampaignRef("tiktok", "adv-1", "789", "Broad prospecting", daily_budget=200.0, currency="USD",
                       spend=5000.0)
    r = row(spend=5000.0, revenue=10500.0, days_of_cover=8.0, spend_share=0.35, available_units=120.0,
            velocity=15.0, campaigns=(camp,))
    recs = apply_rules([r], "b1", "USD", T)
    assert [x.type for x in recs] == [REDUCE]
    rec = rank(recs, TODAY)[0]
    assert rec.recommended_change == pytest.approx(-1000.0)
    assert rec.new_spend == pytest.approx(4000.0)
    assert rec.priority == "high" and rec.score == 4
    assert "2.1×" in rec.reason and "8 days" in rec.reason and "35%" in rec.reason
    assert "$1,000" in rec.action and "$4,000" in rec.action
    # the campaign's daily budget moves by the window change ÷ 30 days
    (change,) = rec.campaign_changes
    assert (change.platform, change.account_id, change.campaign_id) == ("tiktok", "adv-1", "789")
    assert change.current_daily_budget == 200.0
    assert change.proposed_daily_budget == pytest.approx(200.0 - 1000.0 / 30, abs=0.01)
    assert rec.impact["spend_saved"] == 1000.0
    assert rec.impact["stockout_days_avoided"] > 0


def test_rule2_increase_spend_golden_shows_the_factor() -> None:
    r = row(channel="meta", region_code="US-IL", spend=1000.0, revenue=4800.0, days_of_cover=65.0,
            spend_share=0.07, available_units=650.0, velocity=10.0,
            campaigns=(CampaignRef("meta", "act_1", "c1", daily_budget=40.0, spend=1000.0),))
    (rec,) = apply_rules([r], "b1", "USD", T)
    assert rec.type == INCREASE
    assert rec.recommended_change == pytest.approx(500.0)
    assert rec.impact["incremental_revenue_before_factor"] == pytest.approx(2400.0)
    assert rec.impact["diminishing_returns_factor"] == 0.7
    assert rec.impact["incremental_revenue"] == pytest.approx(1680.0)
    assert rec.impact["diminishing_returns_effect"] == pytest.approx(-720.0)
    assert rec.impact["capped_by_stock"] is False
    assert "$2,400" in rec.expected_impact and "$1,680" in rec.expected_impact
    assert rec.campaign_changes[0].proposed_daily_budget == pytest.approx(40.0 + 500 / 30, abs=0.01)


def test_rule2_is_capped_by_what_stock_can_fulfil() -> None:
    # 40 days of cover, horizon 30: 100 spare units at $40 → at most $4,000 incremental revenue
    # after the factor → added spend ≤ 4000 / (4.8 × 0.7) ≈ $1,190 < 50% of $4,000
    r = row(channel="meta", spend=4000.0, revenue=19200.0, days_of_cover=40.0, spend_share=0.05,
            available_units=400.0, velocity=10.0)
    (rec,) = apply_rules([r], "b1", "USD", T)
    assert rec.impact["capped_by_stock"] is True
    assert rec.recommended_change == pytest.approx(100 * 40 / (4.8 * 0.7), rel=1e-6)
    assert rec.impact["extra_units"] == pytest.approx(100, abs=0.5)
    assert "capped by stock" in rec.expected_impact


def test_rows_sharing_stock_share_the_spare_units_best_roas_first() -> None:
    a = row(channel="meta", region_code="US-IL", spend=4000.0, revenue=20000.0, days_of_cover=40.0,
            available_units=400.0, velocity=10.0)
    b = row(channel="google_ads", region_code="US-IN", spend=4000.0, revenue=18000.0, days_of_cover=40.0,
            available_units=400.0, velocity=10.0)
    recs = [x for x in apply_rules([a, b], "b1", "USD", T) if x.type == INCREASE]
    # the first (5.0×) takes all 100 spare units; nothing is left for the second
    assert [x.channel for x in recs] == ["meta"]


def test_rule2_judges_the_product_on_its_channel_against_all_ad_spend() -> None:
    """A campaign confined to two states is 15% of Meta's spend there but 2% of the brand's; one state
    returns 3.0×, the other 6.0×: the product on Meta returns 4.5×, so the raise covers both states."""
    camp = CampaignRef("meta", "act_1", "mid", daily_budget=20.0, spend=600.0)
    rows = [row(channel="meta", region_code=rc, spend=300.0, revenue=rev, spend_share=0.15, days_of_cover=90.0,
                available_units=900.0, velocity=10.0, brand_spend=30_000.0, campaigns=(camp,))
            for rc, rev in (("US-IA", 900.0), ("US-OH", 1800.0))]
    (rec,) = apply_rules(rows, "b1", "USD", T)
    assert rec.type == INCREASE and rec.regions == ("US-IA", "US-OH")
    assert rec.metrics["roas"] == 4.5 and rec.metrics["spend_share_pct"] == 2.0
    assert rec.recommended_change == pytest.approx(300.0)
    assert rec.impact["incremental_revenue_before_factor"] == pytest.approx(1350.0)
    assert "2% of all ad spend" in rec.reason
    # the same product taking 12% of the brand's spend is not under-supported
    assert apply_rules([replace(r, brand_spend=5000.0) for r in rows], "b1", "USD", T) == []


def test_rule2_stays_silent_where_rule1_cuts_the_same_product_and_channel() -> None:
    cut = row(channel="meta", region_code="US-CA", spend=5000.0, revenue=10500.0, days_of_cover=8.0,
              spend_share=0.35, location_id="loc-west")
    strong = row(channel="meta", region_code="US-NY", spend=20_000.0, revenue=200_000.0, days_of_cover=200.0,
                 spend_share=0.05, available_units=4000.0, velocity=20.0, location_id="loc-east")
    assert [r.type for r in apply_rules([cut, strong], "b1", "USD", T)] == [REDUCE]


def stock(**kw: object) -> StockPosition:
    base: dict[str, object] = {
        "product_id": "gid://shopify/Product/3", "product_title": "SKU-C", "location_id": "",
        "region_codes": ("US-OH",), "available_units": 1200.0, "velocity": 10.0, "days_of_cover": 120.0,
        "ad_spend": 300.0, "unit_cost": 50.0,
    }
    base.update(kw)
    return StockPosition(**base)  # type: ignore[arg-type]


def test_rule3_promotion_states_tied_capital() -> None:
    recs = apply_rules([], "b1", "USD", T, product_stock=[stock()])
    (promo,) = recs
    assert promo.type == PROMOTION
    # units beyond 90 days of cover: 1200 − 10 × 90 = 300, × $50 = $15,000
    assert promo.impact["excess_units"] == 300
    assert promo.impact["tied_capital"] == pytest.approx(15000.0)
    assert "$15,000" in promo.reason and "120 days" in promo.reason
    assert promo.campaign_changes == []
    assert rank(recs, TODAY)[0].priority == "medium"  # a promotion is capped at medium (see scoring)


def test_promotion_with_no_sales_counts_every_unit_as_excess() -> None:
    (promo,) = apply_rules([], "b1", "USD", T, product_stock=[stock(velocity=0.0, days_of_cover=None,
                                                                     available_units=50.0, unit_cost=8.0)])
    assert promo.impact["tied_capital"] == pytest.approx(400.0)
    assert apply_rules([], "b1", "USD", T, product_stock=[stock(days_of_cover=90.0, available_units=900.0)]) == []


def test_clean_rows_make_no_recommendation() -> None:
    assert apply_rules([row()], "b1", "USD", T) == []
    # boundaries are strict, as the plan writes them
    assert apply_rules([row(spend=5000.0, revenue=12500.0, days_of_cover=8.0, spend_share=0.35)], "b1", "USD", T) == []
    assert apply_rules([row(spend=5000.0, revenue=10000.0, days_of_cover=14.0, spend_share=0.35)], "b1", "USD", T) == []
    assert apply_rules([row(spend=5000.0, revenue=10000.0, days_of_cover=8.0, spend_share=0.10)], "b1", "USD", T) == []
    assert apply_rules([row(spend=1000.0, revenue=4000.0, days_of_cover=65.0, spend_share=0.07)], "b1", "USD", T) == []


def test_budget_steps_stay_within_bounds_and_split_by_campaign_spend() -> None:
    camps = (
        CampaignRef("meta", "act_1", "c1", daily_budget=10.0, spend=750.0),
        CampaignRef("meta", "act_1", "c2", daily_budget=100.0, spend=250.0),
        CampaignRef("meta", "act_1", "c3", daily_budget=None, spend=0.0),
    )
    changes = {c.campaign_id: c for c in campaign_changes(camps, -600.0, T)}
    assert set(changes) == {"c1", "c2"}  # c3 has no budget of its own
    # c1 would lose 600 × 0.75 / 30 = $15/day of a $10 budget: clamped to −50%
    assert changes["c1"].proposed_daily_budget == 5.0 and changes["c1"].clamped
    assert changes["c2"].proposed_daily_budget == pytest.approx(95.0)


def test_account_currency_conversion_of_daily_changes() -> None:
    camp = CampaignRef("tiktok", "adv", "c", daily_budget=1000.0, currency="SEK", spend=1.0,
                       store_to_account_rate=10.0)
    (change,) = campaign_changes((camp,), -300.0, T)
    assert change.proposed_daily_budget == pytest.approx(900.0)  # $10/day = 100 SEK/day


def test_brand_overrides_are_checked() -> None:
    t = apply_overrides(T, {"reduce_roas_below": 3, "window_days": 14})
    assert t.reduce_roas_below == 3.0 and t.window_days == 14
    with pytest.raises(ThresholdError, match="unknown threshold"):
        apply_overrides(T, {"reduce_roas": 3})
    with pytest.raises(ThresholdError, match="must be a number"):
        apply_overrides(T, {"reduce_roas_below": "3"})


def test_regions_where_a_rule_fires_make_one_recommendation() -> None:
    camp = CampaignRef("tiktok", "adv-1", "789", "CA/TX push", daily_budget=200.0, currency="USD", spend=2500.0)
    ca = row(region_code="US-CA", spend=3000.0, revenue=4800.0, days_of_cover=8.0, spend_share=0.31,
             available_units=120.0, velocity=15.0, location_id="loc-west", campaigns=(camp,))
    tx = row(region_code="US-TX", spend=2000.0, revenue=2800.0, days_of_cover=7.5, spend_share=0.34,
             available_units=90.0, velocity=12.0, location_id="loc-south", campaigns=(camp,))
    ny = row(region_code="US-NY", spend=1000.0, revenue=5000.0, days_of_cover=40.0, spend_share=0.05)
    tiny = row(region_code="US-VT", spend=20.0, revenue=10.0, days_of_cover=2.0, spend_share=0.9)
    (rec,) = [r for r in apply_rules([ny, tx, ca, tiny], "b1", "USD", T) if r.type == REDUCE]
    assert rec.regions == ("US-CA", "US-TX") and rec.region_code == "US-CA,US-TX"
    assert rec.recommended_change == pytest.approx(-1000.0)
    assert rec.metrics["roas"] == pytest.approx(1.52) and rec.metrics["days_of_cover"] == 7.5
    assert rec.metrics["spend_share_pct"] == pytest.approx(5000 / (3000 / 0.31 + 2000 / 0.34) * 100, abs=0.1)
    assert "in California and Texas by $1,000" in rec.action
    (change,) = rec.campaign_changes  # the campaign's two parts add up
    assert change.proposed_daily_budget == pytest.approx(200.0 - 1000.0 / 30, abs=0.01)
    assert [b["region"] for b in rec.breakdown] == ["US-CA", "US-TX"]


def test_out_of_stock_is_a_pause_that_matches_its_alert() -> None:
    """Issue 15: zero stock got "cut 20%" as a card and "pause" in its alert; both now say pause.

    By hand: the row spent $900 over the window at a ROAS of 4.0 on a 5% share, none of which
    would trip rule 1; with 0 units left the whole $900 goes, spread over 30 days = $30/day off the
    campaign's $100 budget.
    """
    from tower.decisions.alerts import inventory_mismatches
    from tower.decisions.inputs import AlignmentRow

    camp = (CampaignRef("tiktok", "adv1", "c1", daily_budget=100.0, spend=900.0),)
    r = row(spend=900.0, revenue=3600.0, spend_share=0.05, days_of_cover=0.0, available_units=0.0, velocity=3.0,
            campaigns=camp)
    (card,) = apply_rules([r], "b1", "USD", T)
    assert card.type == REDUCE
    assert card.recommended_change == pytest.approx(-900.0)
    assert card.metrics["paused_regions"] == ["US-CA"]
    (change,) = card.campaign_changes
    assert change.proposed_daily_budget == pytest.approx(70.0)
    (alert,) = inventory_mismatches([AlignmentRow("gid://shopify/Product/1", "SKU-A", "tiktok", "US-CA", 900.0, 0.05,
                                                  0.0, 0.0, 4.0, "spending_on_stockout")], "USD")
    assert alert.recommended_action == "Pause ads on TikTok for SKU-A in California until it is restocked"
    assert card.action.startswith(alert.recommended_action)
    assert "Out of stock in California" in card.reason and "cut 20%" not in card.action.lower()


def test_a_product_out_in_one_region_and_low_in_another_is_one_card() -> None:
    out = row(region_code="US-CA", location_id="loc-west", spend=900.0, revenue=3600.0, spend_share=0.05,
              days_of_cover=0.0, available_units=0.0)
    low = row(region_code="US-TX", location_id="loc-south", spend=5000.0, revenue=10000.0, spend_share=0.35,
              days_of_cover=8.0, available_units=80.0)
    (card,) = apply_rules([out, low], "b1", "USD", T)
    # by hand: all of CA's $900 and 20% of TX's $5,000 = $1,900
    assert card.recommended_change == pytest.approx(-1900.0)
    assert card.action.startswith("Pause ads on TikTok for SKU-A in California until it is restocked and cut them in Texas "
                                  "by $1,000")
    assert card.metrics["paused_regions"] == ["US-CA"]


def test_a_tiny_spend_on_a_stockout_is_not_worth_a_card() -> None:
    assert apply_rules([row(spend=T.min_spend / 2, revenue=0.0, days_of_cover=0.0, available_units=0.0)],
                       "b1", "USD", T) == []


def test_promotion_states_the_overstock_and_its_sales_rate() -> None:
    (promo,) = apply_rules([], "b1", "USD", T, product_stock=[stock()])
    # 1,200 units at 10 a day: 120 days of cover, 300 units beyond 90 days
    assert promo.reason.startswith("Overstock: 1,200 units in stock sell at 10 units/day, 120 days of cover")
    assert "No sales" not in promo.reason
