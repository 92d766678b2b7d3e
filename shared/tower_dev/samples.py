"""Synthetic :class:`~tower.decisions.inputs.BrandFacts` of any size, for tests and benches.

Deterministic per seed. Rows are product × channel × region with plausible spend, ROAS, stock and
cover; the product plan's own examples can be planted (SKU-A overspending on low stock on TikTok,
SKU-B strong on Meta with healthy stock, SKU-C overstocked, TikTok's ROAS falling from 2.8× to 2.1×)
so a summary has something to say. Used to size the AI context for a 500-SKU × 50-region brand.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tower.decisions.inputs import (
    AlignmentRow,
    BrandFacts,
    CampaignRef,
    ChannelWeek,
    PerformanceRow,
    PeriodRow,
    SpendSeries,
    StockPosition,
)
from tower.names import AD_PLATFORMS

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Warehouse

US_STATES = ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"]


def _mismatch(spend: float, share: float, units: float, doc: float | None) -> str:
    if units <= 0 and spend > 0:
        return "spending_on_stockout"
    if doc is not None and doc < 14 and share > 0.15:
        return "overspending_low_stock"
    if units > 0 and (doc is None or doc > 90) and share < 0.05:
        return "underspending_overstock"
    return "aligned"


def synthetic_facts(
    *,
    skus: int = 40,
    regions: int = 10,
    seed: int = 1,
    today: date = date(2026, 11, 23),
    brand_id: str = "brand_synthetic",
    brand_name: str = "Synthetic Candles Co.",
    currency: str = "USD",
    plant_plan_examples: bool = True,
) -> BrandFacts:
    """A brand's facts with ``skus`` products advertised on three channels in ``regions`` regions."""
    rnd = random.Random(seed)
    region_codes = [f"US-{s}" for s in US_STATES[: max(1, min(regions, len(US_STATES)))]]
    if regions > len(US_STATES):
        region_codes += [f"CA-R{i}" for i in range(regions - len(US_STATES))]
    campaigns = {ch: CampaignRef(ch, f"acct-{ch}", f"{ch}-c{i}", f"{ch.title()} prospecting {i}",
                                 daily_budget=float(rnd.randint(50, 500)), currency=currency)
                 for i, ch in enumerate(AD_PLATFORMS)}
    perf: list[PerformanceRow] = []
    stock: list[StockPosition] = []
    product_stock: list[StockPosition] = []
    region_spend: dict[tuple[str, str], float] = {}
    raw = []
    for p in range(skus):
        pid = f"gid://shopify/Product/{1000 + p}"
        title = f"Product {p:03d}"
        velocity = rnd.uniform(0.5, 20.0)
        doc = rnd.choice([rnd.uniform(2, 13), rnd.uniform(20, 80), rnd.uniform(95, 200)])
        units = round(velocity * doc)
        cost = round(rnd.uniform(3, 40), 2)
        price = round(cost * rnd.uniform(2.0, 4.0), 2)
        product_stock.append(StockPosition(pid, title, "", tuple(region_codes[:3]), units, velocity, units / velocity,
                                           rnd.uniform(0, 2000), unit_cost=cost))
        for ch in AD_PLATFORMS:
            for rc in rnd.sample(region_codes, k=min(len(region_codes), rnd.randint(1, 4))):
                spend = round(rnd.uniform(20, 900), 2)
                roas = rnd.uniform(0.8, 6.0)
                raw.append((pid, title, ch, rc, spend, round(spend * roas, 2), units, velocity, cost, price))
                region_spend[(ch, rc)] = region_spend.get((ch, rc), 0.0) + spend
        if p < 20:
            stock.append(StockPosition(pid, title, "loc-main", tuple(region_codes[:2]), units, velocity,
                                       units / velocity, rnd.uniform(10, 700), ("meta", "tiktok"),
                                       (campaigns["meta"],), cost))
    for pid, title, ch, rc, spend, revenue, units, velocity, cost, price in raw:
        perf.append(PerformanceRow(pid, title, ch, rc, spend, revenue, spend / region_spend[(ch, rc)],
                                   units / velocity, units, velocity, cost, price, "loc-main",
                                   (CampaignRef(ch, f"acct-{ch}", campaigns[ch].campaign_id,
                                                campaigns[ch].campaign_name, campaigns[ch].daily_budget,
                                                currency, spend),)))
    if plant_plan_examples:
        tiktok = CampaignRef("tiktok", "acct-tiktok", "789", "Broad prospecting", 200.0, currency, 5000.0)
        meta = CampaignRef("meta", "acct-meta", "456", "Midwest scaling", 40.0, currency, 1000.0)
        perf += [
            PerformanceRow("gid://shopify/Product/1", "SKU-A", "tiktok", "US-CA", 5000.0, 10500.0, 0.35, 8.0,
                           120.0, 15.0, 12.0, 40.0, "loc-west", (tiktok,)),
            PerformanceRow("gid://shopify/Product/2", "SKU-B", "meta", "US-IL", 1000.0, 4800.0, 0.07, 65.0,
                           650.0, 10.0, 15.0, 45.0, "loc-midwest", (meta,)),
        ]
        product_stock.append(StockPosition("gid://shopify/Product/3", "SKU-C", "", ("US-OH",), 1200.0, 10.0, 120.0,
                                           300.0, unit_cost=50.0))
        stock.append(StockPosition("gid://shopify/Product/1", "SKU-A", "loc-west", ("US-CA", "US-TX"), 45.0, 15.0,
                                   3.0, 1200.0, ("tiktok",), (tiktok,), 12.0))
    alignment = [AlignmentRow(r.product_id, r.product_title, r.channel, r.region_code, r.spend, r.spend_share,
                              r.available_units, r.days_of_cover, r.roas,
                              _mismatch(r.spend, r.spend_share, r.available_units, r.days_of_cover), r.campaigns)
                 for r in perf]
    channel_totals = {ch: [0.0, 0.0] for ch in AD_PLATFORMS}
    regional: dict[tuple[str, str], list[float]] = {}
    for r in perf:
        channel_totals[r.channel][0] += r.spend / 4.3
        channel_totals[r.channel][1] += r.revenue / 4.3
        a = regional.setdefault((r.channel, r.region_code), [0.0, 0.0])
        a[0] += r.spend / 4.3
        a[1] += r.revenue / 4.3
    drift = {"meta": (1.0, 1.0), "tiktok": (1.28, 0.75), "google_ads": (0.95, 1.17)}
    channel_periods = []
    for ch, (s, v) in channel_totals.items():
        ds, dr = drift[ch]
        channel_periods.append(PeriodRow(ch, "", round(s, 2), round(v, 2), round(s / ds, 2), round(v / ds / dr, 2)))
    region_periods = [PeriodRow(ch, rc, round(s, 2), round(v, 2), round(s * rnd.uniform(0.8, 1.2), 2),
                                round(v * rnd.uniform(0.8, 1.2), 2)) for (ch, rc), (s, v) in sorted(regional.items())]
    spend_now = sum(p.spend for p in channel_periods)
    spend_before = sum(p.prev_spend for p in channel_periods)
    rev_now = sum(p.revenue for p in channel_periods) * 1.1
    rev_before = sum(p.prev_revenue for p in channel_periods) * 1.1
    blended = PeriodRow("", "", round(spend_now, 2), round(rev_now, 2), round(spend_before, 2), round(rev_before, 2),
                        round(rev_now * 0.3 - spend_now, 2), round(rev_before * 0.3 - spend_before, 2))
    weeks = [ChannelWeek("tiktok", "", 5000.0, 10500.0, 16000.0, 44800.0, (campaigns["tiktok"],)),
             ChannelWeek("meta", "", 11000.0, 46200.0, 44000.0, 184800.0, (campaigns["meta"],))]
    start = today - timedelta(days=29)
    series = [SpendSeries(campaigns["meta"], "meta",
                          tuple((start + timedelta(days=i), 100.0 + (i % 5)) for i in range(29)) + ((today - timedelta(days=1), 420.0),))]
    return BrandFacts(
        brand_id=brand_id, currency=currency, today=today, brand_name=brand_name, performance=tuple(perf),
        channel_weeks=tuple(weeks), stock=tuple(stock), product_stock=tuple(product_stock),
        alignment=tuple(alignment), spend_series=tuple(series), blended_period=blended,
        channel_periods=tuple(channel_periods), region_periods=tuple(region_periods),
        extra={"window_days": 30, "as_of_date": (today - timedelta(days=1)).isoformat()},
    )


def seed_model_tables(warehouse: Warehouse, brand_ids: tuple[str, ...]) -> None:
    """A few rows of the model tables (as the models would build them) for each brand, for tests.

    Each later brand gets ten times the figures of the first, so a leak between brands shows. The
    first brand's numbers are the plan's: SKU-A on TikTok in US-CA ($5,000 at 2.1×, 8 days of cover,
    35% of the region's TikTok spend), SKU-B on Meta in US-IL ($1,000 at 4.8×, 65 days, 7%), SKU-C
    overstocked (1,200 units at 10 a day); October has 30 days of steady rows, and Meta's revenue
    in US-CA falls 20% in the week to 2026-11-22.
    """
    now = datetime(2026, 11, 1, tzinfo=UTC)
    titles = ["SKU-A Vanilla Candle", "SKU-B Cedar Candle", "SKU-C Ocean Candle"]
    pid = [f"gid://shopify/Product/{i + 1}" for i in range(3)]
    products, variants, campaigns, up, doc, align, snaps = [], [], [], [], [], [], []
    for n, brand in enumerate(brand_ids):
        scale = 10.0 ** min(n, 1)
        for i, title in enumerate(titles):
            products.append({"brand_id": brand, "product_id": pid[i], "title": title, "status": "ACTIVE",
                             "is_active": True, "updated_at": now})
            variants.append({"brand_id": brand, "variant_id": f"v{i}", "product_id": pid[i], "sku": title[:5],
                             "price_amount": 40.0, "unit_cost_amount": [12.0, 15.0, 50.0][i], "currency": "USD",
                             "is_active": True, "updated_at": now})
        for ch, budget in (("meta", 100.0), ("tiktok", 200.0), ("google_ads", 40.0)):
            campaigns.append({"brand_id": brand, "platform": ch, "account_id": f"acct-{ch}", "campaign_id": f"c-{ch}",
                              "campaign_name": f"{ch} prospecting", "status": "ACTIVE",
                              "daily_budget_amount": budget * scale, "currency": "USD", "updated_at": now})

        def row(d: date, ch: str, region: str, product: int, spend: float, revenue: float,
                brand: str = brand, scale: float = scale) -> dict[str, Any]:
            return {"brand_id": brand, "performance_date": d, "attribution_model": "last_touch", "channel": ch,
                    "account_id": f"acct-{ch}", "campaign_id": f"c-{ch}", "campaign_name": f"{ch} prospecting",
                    "country_code": "US", "region_code": region, "product_id": pid[product], "currency": "USD",
                    "spend_amount": spend * scale, "attributed_orders": 2.0, "attributed_units": 3.0,
                    "attributed_revenue_amount": revenue * scale, "cogs_amount": revenue * scale * 0.3,
                    "fulfillment_cost_amount": 5.0, "profit_amount": revenue * scale * 0.7 - spend * scale - 5.0,
                    "roas": revenue / spend if spend else None, "location_id": "loc-1"}

        for day in range(1, 31):
            d = date(2026, 10, day)
            up += [row(d, "meta", "US-CA", 0, 100.0, 420.0), row(d, "tiktok", "US-TX", 1, 50.0, 105.0),
                   row(d, "google_ads", "US-IL", 2, 40.0, 140.0)]
        for day in range(9, 23):
            d = date(2026, 11, day)
            up.append(row(d, "meta", "US-CA", 0, 100.0, 400.0 if day < 16 else 320.0))
            up.append(row(d, "tiktok", "US-CA", 0, 50.0, 105.0))
        for snap in (date(2026, 10, 31), date(2026, 11, 22)):
            for i, (avail, vel) in enumerate([(45, 15.0), (650, 10.0), (1200, 10.0)]):
                doc.append({"brand_id": brand, "snapshot_date": snap, "variant_id": f"v{i}", "product_id": pid[i],
                            "location_id": "loc-1", "available": avail, "velocity_per_day": vel,
                            "days_of_cover": avail / vel, "cover_status": "healthy"})
        as_of = date(2026, 11, 22)
        base = {"brand_id": brand, "as_of_date": as_of, "window_days": 30, "currency": "USD"}
        align += [
            {**base, "level": "product_channel_region", "product_id": pid[0], "channel": "tiktok", "country_code": "US",
             "region_code": "US-CA", "location_id": "loc-1", "spend_amount": 5000.0 * scale,
             "scope_spend_amount": 14285.71 * scale, "spend_share": 0.35, "attributed_revenue_amount": 10500.0 * scale,
             "roas": 2.1, "inventory_units": 120, "velocity_per_day": 15.0, "days_of_cover": 8.0,
             "mismatch_type": "overspending_low_stock"},
            {**base, "level": "product_channel_region", "product_id": pid[1], "channel": "meta", "country_code": "US",
             "region_code": "US-IL", "location_id": "loc-1", "spend_amount": 1000.0 * scale,
             "scope_spend_amount": 14285.71 * scale, "spend_share": 0.07, "attributed_revenue_amount": 4800.0 * scale,
             "roas": 4.8, "inventory_units": 650, "velocity_per_day": 10.0, "days_of_cover": 65.0,
             "mismatch_type": "aligned"},
            {**base, "level": "product", "product_id": pid[2], "spend_amount": 300.0 * scale, "spend_share": 0.02,
             "attributed_revenue_amount": 900.0 * scale, "inventory_units": 1200, "velocity_per_day": 10.0,
             "days_of_cover": 120.0, "mismatch_type": "underspending_overstock"},
        ]
        sbase = {"brand_id": brand, "as_of_date": as_of, "period_days": 7, "currency": "USD"}
        for scope, ch, region, s, v, ps, pv in (
            ("blended", None, None, 18500.0, 72000.0, 17000.0, 85000.0),
            ("channel", "meta", None, 11000.0, 46200.0, 11000.0, 46200.0),
            ("channel", "tiktok", None, 5000.0, 10500.0, 3906.25, 10937.5),
            ("channel", "google_ads", None, 2500.0, 8750.0, 2100.0, 6300.0),
            ("channel_region", "tiktok", "US-CA", 3000.0, 5400.0, 2000.0, 5600.0),
        ):
            snaps.append({**sbase, "scope": scope, "channel": ch, "region_code": region,
                          "spend_amount": s * scale, "revenue_amount": v * scale, "prev_spend_amount": ps * scale,
                          "prev_revenue_amount": pv * scale, "profit_amount": None, "prev_profit_amount": None})
    warehouse.merge("products", products, ["brand_id", "product_id"])
    warehouse.merge("variants", variants, ["brand_id", "variant_id"])
    warehouse.merge("ad_campaigns", campaigns, ["brand_id", "platform", "account_id", "campaign_id"])
    warehouse.merge("unified_performance", up, ["brand_id", "performance_date", "attribution_model", "channel",
                                                "campaign_id", "region_code", "product_id"])
    warehouse.merge("days_of_cover", doc, ["brand_id", "snapshot_date", "variant_id", "location_id"])
    warehouse.merge("inventory_alignment", align, ["brand_id", "as_of_date", "level", "product_id", "channel",
                                                   "region_code"])
    warehouse.merge("performance_snapshots", snaps, ["brand_id", "as_of_date", "scope", "channel", "region_code"])
