"""Money: ad spend in another currency is converted at the day's rate, never added raw to store money."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tower.config import Settings

MON, FRI, SAT = date(2024, 5, 6), date(2024, 5, 10), date(2024, 5, 11)
WINDOW = (MON, date(2024, 5, 13))
MARTS = ("attributed_orders", "days_of_cover", "unified_performance", "attribution_reconciliation",
         "inventory_alignment", "performance_snapshots")


def spend_by_campaign(shop) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in shop.rows("unified_performance"):
        out[r["campaign_id"]] = out.get(r["campaign_id"], 0.0) + float(r["spend_amount"])
    return out


def test_no_model_adds_amounts_of_two_currencies(shop) -> None:
    """100 USD and 100 EUR on the same day: the brand spent 100 + 100 x 1.5 = 250 USD, not 200."""
    shop.fx(FRI, "EUR", "USD", 1.5)
    shop.spend("meta", "usd", FRI, 100.0, purchase_value=300.0)
    shop.spend("tiktok", "eur", FRI, 100.0, currency="EUR", purchase_value=300.0)
    shop.order(datetime(2024, 5, 10, 20, tzinfo=UTC), revenue=500.0)
    result = shop.build(*WINDOW)
    assert result.warnings == []

    assert spend_by_campaign(shop) == pytest.approx({"usd": 100.0, "eur": 150.0})
    (blended,) = shop.rows("performance_snapshots", "scope = 'blended' AND as_of_date = @d", d=date(2024, 5, 12))
    assert float(blended["spend_amount"]) == pytest.approx(250.0)
    assert blended["roas"] == pytest.approx(500.0 / 250.0)
    recon = {r["platform"]: r for r in shop.rows("attribution_reconciliation", "attribution_model = 'linear'")}
    assert float(recon["tiktok"]["spend_amount"]) == pytest.approx(150.0)
    assert float(recon["tiktok"]["platform_reported_revenue_amount"]) == pytest.approx(450.0)
    # every money column of every mart is in the store currency, whatever the ad account bills in
    for mart in MARTS:
        currencies = {r["currency"] for r in shop.rows(mart) if "currency" in r}
        assert currencies <= {"USD"}, mart


def test_rates_are_taken_direct_inverted_or_crossed(make_shop) -> None:
    cad = make_shop(brand_id="maple", currency="CAD", timezone="America/Toronto")
    cad.fx(FRI, "EUR", "CAD", 1.5)  # a reference feed quoting everything against EUR
    cad.fx(FRI, "EUR", "USD", 1.2)
    cad.fx(FRI, "CAD", "GBP", 0.5)  # inverted: 1 CAD = 0.5 GBP, so 1 GBP = 2 CAD
    cad.spend("meta", "in-usd", FRI, 120.0, currency="USD")
    cad.spend("tiktok", "in-eur", FRI, 10.0, currency="EUR")
    cad.spend("google_ads", "in-gbp", FRI, 10.0, currency="GBP")
    cad.build(*WINDOW)
    # 120 USD = 120 / 1.2 EUR = 100 EUR = 150 CAD
    assert spend_by_campaign(cad) == pytest.approx({"in-usd": 150.0, "in-eur": 15.0, "in-gbp": 20.0})


def test_a_weekend_without_rates_uses_fridays(shop) -> None:
    shop.fx(FRI, "EUR", "USD", 1.1)
    shop.spend("tiktok", "eur", SAT, 100.0, currency="EUR")
    result = shop.build(*WINDOW)
    assert result.warnings == []
    assert spend_by_campaign(shop) == pytest.approx({"eur": 110.0})


def test_spend_without_any_rate_is_left_out_and_reported_never_summed_raw(shop) -> None:
    shop.fx(date(2024, 4, 1), "EUR", "USD", 1.1)  # more than a week stale by the 10th
    shop.spend("meta", "usd", FRI, 100.0)
    shop.spend("tiktok", "eur", FRI, 100.0, currency="EUR")
    result = shop.build(*WINDOW)
    assert result.warnings and "EUR" in result.warnings[0] and "no exchange rate" in result.warnings[0]
    assert spend_by_campaign(shop) == pytest.approx({"usd": 100.0})
    (blended,) = shop.rows("performance_snapshots", "scope = 'blended' AND as_of_date = @d", d=date(2024, 5, 12))
    assert float(blended["spend_amount"]) == pytest.approx(100.0)


def test_unit_costs_and_fulfilment_make_profit(shop) -> None:
    """Revenue 100 − spend 20 − COGS 2 × 15 − fulfilment 7 (the region's) = 43; ROAS 5; ROI 43 / 20."""
    shop.region("US-TX", fulfillment=7.0)
    shop.product("mug", cost=15.0)
    shop.spend("meta", "m", FRI, 20.0)
    shop.order(datetime(2024, 5, 10, 20, tzinfo=UTC), {"mug": 2}, revenue=100.0)
    shop.build(*WINDOW)
    (meta_sale,) = shop.rows("unified_performance", "channel = 'meta' AND spend_amount > 0")
    assert float(meta_sale["attributed_revenue_amount"]) == pytest.approx(100.0)
    assert float(meta_sale["cogs_amount"]) == pytest.approx(30.0)
    assert float(meta_sale["fulfillment_cost_amount"]) == pytest.approx(7.0)
    assert float(meta_sale["profit_amount"]) == pytest.approx(43.0)
    assert meta_sale["roas"] == pytest.approx(5.0)
    assert meta_sale["roi"] == pytest.approx(43.0 / 20.0)


def test_fulfilment_falls_back_to_the_per_order_setting(shop) -> None:
    shop.region("US-TX", fulfillment=None)
    shop.order(datetime(2024, 5, 10, 20, tzinfo=UTC), revenue=100.0)
    shop.build(*WINDOW, Settings(fulfillment_cost_per_order=4.5))
    (row,) = shop.rows("unified_performance")
    assert row["channel"] is None  # nothing spent: the store's revenue stays, unattributed
    assert float(row["fulfillment_cost_amount"]) == pytest.approx(4.5)
    assert float(row["profit_amount"]) == pytest.approx(95.5)


def test_a_sold_variant_without_cost_leaves_profit_unknown(shop) -> None:
    shop.product("mystery", cost=None)
    shop.order(datetime(2024, 5, 10, 20, tzinfo=UTC), {"mystery": 1}, revenue=100.0)
    shop.build(*WINDOW)
    (row,) = shop.rows("unified_performance")
    assert row["cogs_amount"] is None and row["profit_amount"] is None
