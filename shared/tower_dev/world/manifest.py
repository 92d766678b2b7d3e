"""The ground-truth manifest: what was planted in each brand, measured back from the generated data.

Every number here is computed from the same rows the tables hold (not copied from the plan), so a
model that follows the stated definitions finds the same values. Definitions (also written into
each brand's ``definitions`` entry):

* **Days of cover** of a variant at a location = ``available`` in the last snapshot ÷ velocity;
  velocity = units sold from that location over the last 30 store-local days (orders not
  cancelled, located through ``location_regions`` by shipping region) ÷ the in-stock days of those
  30 (days whose snapshot shows ``available`` > 0, or that sold units before selling out). The
  planted SKUs are in stock on all 30 days, so other reasonable definitions (all 30 days, counting
  cancelled orders) land within ±10 % of these values; the nominal targets (8 and 120 days) are
  met within ±15 %.
* **Truth ROAS** of a channel for a week = net revenue (``net_revenue_amount``) of the orders that
  channel's campaigns drove, by store-local order date ÷ the channel's spend with ``stat_date`` in
  the same dates, converted to store currency with that day's ``fx_rates``. ``utm_*`` figures
  count only the orders whose landing page carries the campaign's UTM tags (what deterministic
  attribution alone can see).
* **Over-reporting factor** = platform-reported purchase value (converted) ÷ truth net revenue of
  the orders the channel drove, over the whole history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from tower.names import AD_PLATFORMS
from tower_dev.world.ads import Campaign, PerformanceRows
from tower_dev.world.brands import OVER_REPORT
from tower_dev.world.context import BrandContext
from tower_dev.world.inventory import DOC_WINDOW, TARGET_DOC, Stock
from tower_dev.world.orders import OrderBook

DEFINITIONS = {
    "days_of_cover": "available in the last snapshot / (units sold from the location over the last 30 "
    "store-local days, orders not cancelled, located via location_regions / in-stock days "
    "of those 30: snapshot available > 0 or units sold that day)",
    "truth_roas": "net_revenue_amount of the orders a channel's campaigns drove (store-local order_date in "
    "the week) / the channel's spend with stat_date in the same dates, converted to store "
    "currency with fx_rates of stat_date",
    "utm_roas": "as truth_roas, counting only orders whose utm_campaign names the channel's campaign",
    "net_revenue_amount": "subtotal - discounts - merchandise refunds (refunded tax and shipping excluded); "
    "0 when cancelled",
    "fx_rates": "one row per day and ordered pair: 1 base_currency = rate quote_currency; both directions",
    "weeks": "7-day windows of store-local dates counted back from the world's last day: current = last 7 "
    "days, previous = the 7 before",
    "tolerances": "days of cover within 15% of the nominal target; ROAS targets met exactly in truth, "
    "within 0.05 per week after cent rounding; the over-reporting factor within 10% of nominal",
    "spend_share_30d": "spend of the campaigns carrying the situation over the last 30 days / the brand's "
    "total spend (store currency); a campaign promoting two SKUs counts fully for each",
    "roas_30d": "truth net revenue of the orders those campaigns drove over the last 30 days / their spend",
    "trailing_4w": "truth ROAS over the 4 weeks before the current one (the roas_drop alert's baseline)",
    "expected_findings": "what the product plan's rules must raise at least; other findings may exist, "
    "except on clean_products, which must raise none",
    "clean_products": "never advertised (no campaign, never in an ad-driven order), in stock with 20-80 days "
    "of cover at every location",
}


def _iso(ctx: BrandContext, day: int) -> str:
    return (ctx.params.start_date + timedelta(days=int(day))).isoformat()


def days_of_cover(ctx: BrandContext, stock: Stock) -> dict[str, np.ndarray]:
    """Per pair: available at the end, velocity over the last 30 days (in-stock days), days of cover."""
    window = min(DOC_WINDOW, ctx.days)
    recent = slice(ctx.days - window, ctx.days)
    sold = stock.sold[:, recent]
    in_stock = (stock.available[:, recent] > 0) | (sold > 0)
    days_in = in_stock.sum(axis=1)
    units = sold.sum(axis=1)
    velocity = np.where(days_in > 0, units / np.maximum(days_in, 1), 0.0)
    available = stock.available[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        doc = np.where(velocity > 0, available / velocity, np.inf)
    return {"available": available, "velocity": velocity, "doc": doc, "in_stock_days": days_in}


def _round(x: float, n: int = 2) -> float | None:
    return None if not np.isfinite(x) else round(float(x), n)


def build_brand_manifest(
    ctx: BrandContext,
    campaigns: list[Campaign],
    book: OrderBook,
    stock: Stock,
    perf: PerformanceRows,
    to_store: dict[str, np.ndarray],
    gids: dict[str, list[str]],
    stock_facts: dict,
    health_rank: int,
) -> dict[str, Any]:
    """The manifest entry of one brand (JSON-serialisable)."""
    cat = ctx.catalog
    days = ctx.days
    n_loc = len(ctx.locations)
    d = book.demand
    profile = ctx.profile
    end = ctx.params.end_date
    doc = days_of_cover(ctx, stock)

    # -- ROAS by channel and week -------------------------------------------------------------------
    platform_idx = np.array([AD_PLATFORMS.index(c.platform) for c in campaigns] + [-1])[d.campaign]
    order_week = (days - 1 - d.day) // 7
    row_week = (days - 1 - perf.day) // 7
    spend_store = np.zeros(perf.day.size)
    value_store = np.zeros(perf.day.size)
    for i, p in enumerate(AD_PLATFORMS):
        m = perf.platform == i
        spend_store[m] = perf.spend_cents[m] / 100 * to_store[p][perf.day[m]]
        value_store[m] = perf.value_cents[m] / 100 * to_store[p][perf.day[m]]
    net = book.net / 100

    def truth(i: int, weeks: list[int], tagged_only: bool = False) -> tuple[float, float, float]:
        om = (platform_idx == i) & np.isin(order_week, weeks)
        if tagged_only:
            om &= d.tagged
        rm = (perf.platform == i) & np.isin(row_week, weeks)
        rev, spend = float(net[om].sum()), float(spend_store[rm].sum())
        return rev, spend, (rev / spend if spend else float("nan"))

    roas_trend: dict[str, Any] = {}
    measured_factor: dict[str, Any] = {}
    for i, p in enumerate(AD_PLATFORMS):
        prev_t, cur_t = profile.roas[p]
        rc, sc, cur = truth(i, [0])
        rp, sp, prev = truth(i, [1])
        trailing = [w for w in (1, 2, 3, 4) if w * 7 + 7 <= days]
        _, _, trail = truth(i, trailing) if trailing else (0, 0, float("nan"))
        _, _, ucur = truth(i, [0], True)
        _, _, uprev = truth(i, [1], True)
        roas_trend[p] = {
            "previous": _round(prev),
            "current": _round(cur),
            "trailing_4w": _round(trail),
            "target_previous": prev_t,
            "target_current": cur_t,
            "utm_previous": _round(uprev),
            "utm_current": _round(ucur),
            "spend_previous": _round(sp),
            "spend_current": _round(sc),
            "revenue_previous": _round(rp),
            "revenue_current": _round(rc),
            "change": _round((cur - prev) / prev, 3) if prev else None,
        }
        all_rev = float(net[platform_idx == i].sum())
        all_val = float(value_store[perf.platform == i].sum())
        measured_factor[p] = _round(all_val / all_rev, 3) if all_rev else None

    # -- spend per campaign over the last 30 days (store currency) --------------------------------
    window = min(DOC_WINDOW, days)
    in_window = perf.day >= days - window
    camp_of_row = perf.campaign
    spend_30 = np.bincount(camp_of_row[in_window], weights=spend_store[in_window], minlength=len(campaigns))
    total_30 = float(spend_30.sum())
    rev_30 = np.bincount(
        d.campaign[(d.campaign >= 0) & (d.day >= days - window)],
        weights=net[(d.campaign >= 0) & (d.day >= days - window)],
        minlength=len(campaigns),
    )

    def sku_entry(v: int, situation: str) -> dict[str, Any]:
        camps = [c for c in campaigns if c.role == situation and v in c.pool]
        pairs = v * n_loc + np.arange(n_loc)
        serving = sorted(
            {
                int(ctx.serving[i])
                for i, r in enumerate(ctx.regions)
                if not camps or r.code in {ctx.regions[j].code for c in camps for j in c.regions}
            }
        )
        s30 = float(sum(spend_30[c.index] for c in camps))
        r30 = float(sum(rev_30[c.index] for c in camps))
        return {
            "label": cat.labels.get(v, ""),
            "product_id": gids["product"][int(cat.v_product[v])],
            "variant_id": gids["variant"][v],
            "inventory_item_id": gids["item"][v],
            "sku": cat.v_sku[v],
            "title": cat.p_title[int(cat.v_product[v])],
            "platform": camps[0].platform if camps else None,
            "campaign_ids": [c.campaign_id for c in camps],
            "locations": [gids["location"][j] for j in serving],
            "available_by_location": {
                gids["location"][j]: int(doc["available"][pairs[j]]) for j in range(n_loc)
            },
            "velocity_by_location": {
                gids["location"][j]: _round(doc["velocity"][pairs[j]], 3) for j in range(n_loc)
            },
            "days_of_cover_by_location": {
                gids["location"][j]: _round(doc["doc"][pairs[j]], 1) for j in range(n_loc)
            },
            "days_of_cover_total": _round(doc["available"][pairs].sum() / doc["velocity"][pairs].sum(), 1)
            if doc["velocity"][pairs].sum() > 0
            else None,
            "spend_share_30d": _round(s30 / total_30, 4) if total_30 else None,
            "spend_30d": _round(s30),
            "roas_30d": _round(r30 / s30) if s30 else None,
        }

    low = None
    for v in cat.variants_with_role("low_cover"):
        low = sku_entry(int(v), "low_cover_pushed")
        s = profile.situation("low_cover_pushed")
        low.update(
            {"regions": list(s.regions) if s else [], "expected_days_of_cover": TARGET_DOC["low_cover"]}
        )
        serving = [
            gids["location"][int(ctx.serving[i])]
            for i, r in enumerate(ctx.regions)
            if r.code in low["regions"]
        ]
        low["locations"] = sorted(set(serving))
        low["expected_days_of_cover_by_location"] = {
            loc: low["days_of_cover_by_location"][loc] for loc in low["locations"]
        }
    overstock = []
    s_over = profile.situation("overstock_unsupported")
    for v in cat.variants_with_role("overstock"):
        e = sku_entry(int(v), "overstock_unsupported")
        e.update(
            {
                "regions": list(s_over.regions) if s_over and s_over.regions else [],
                "expected_days_of_cover": TARGET_DOC["overstock"],
            }
        )
        if e["regions"]:
            e["locations"] = sorted(
                {
                    gids["location"][int(ctx.serving[i])]
                    for i, r in enumerate(ctx.regions)
                    if r.code in e["regions"]
                }
            )
        overstock.append(e)
    stockout = None
    for v in cat.variants_with_role("stockout"):
        stockout = sku_entry(int(v), "stockout_with_spend")
        k = stock_facts["stockout_days"]
        camps = [c.index for c in campaigns if c.role == "stockout_with_spend"]
        since_rows = np.isin(camp_of_row, camps) & (perf.day >= days - k + 1)
        last7 = np.isin(camp_of_row, camps) & (perf.day >= days - 7)
        stockout.update(
            {
                "stockout_since": _iso(ctx, days - k),
                "stockout_days": k,
                "available_at_end": int(doc["available"][v * n_loc : v * n_loc + n_loc].sum()),
                "spend_since_stockout": _round(float(spend_store[since_rows].sum())),
                "spend_last_7d": _round(float(spend_store[last7].sum())),
            }
        )

    # -- clean products: unadvertised, healthy everywhere ------------------------------------------
    clean = []
    for v in cat.variants_with_role("clean"):
        pairs = int(v) * n_loc + np.arange(n_loc)
        cover = doc["doc"][pairs]
        if np.all(doc["velocity"][pairs] > 0) and np.all((cover >= 20) & (cover <= 80)):
            clean.append(gids["product"][int(cat.v_product[v])])

    history = [
        {
            "variant_id": gids["variant"][v],
            "location_id": gids["location"][loc],
            "first_day": _iso(ctx, a),
            "last_day": _iso(ctx, b),
        }
        for v, loc, a, b in stock_facts["history"]
    ]
    findings = _expected_findings(low, overstock, stockout, roas_trend)
    high_cost = (
        {"regions": list(profile.high_cost_regions), "factor": profile.high_cost_factor}
        if profile.high_cost_regions
        else None
    )
    return {
        "brand_id": profile.brand_id,
        "brand_name": profile.name,
        "health": profile.health,
        "urgency_rank": health_rank,
        "timezone": profile.timezone,
        "currency": profile.currency,
        "ad_accounts": ctx.accounts.as_dict(),
        "windows": {
            "start_date": ctx.params.start_date.isoformat(),
            "end_date": end.isoformat(),
            "current_week": [(end - timedelta(days=6)).isoformat(), end.isoformat()],
            "previous_week": [(end - timedelta(days=13)).isoformat(), (end - timedelta(days=7)).isoformat()],
            "days_of_cover_window": [(end - timedelta(days=window - 1)).isoformat(), end.isoformat()],
        },
        "low_cover_pushed": low,
        "overstock_unsupported": overstock,
        "stockout_with_spend": stockout,
        "roas_trend": roas_trend,
        "channel_over_report_factor": dict(OVER_REPORT),
        "measured_over_report_factor": measured_factor,
        "clean_products": clean,
        "high_fulfillment_regions": high_cost,
        "stockout_history": history,
        "expected_findings": findings,
        "orders": int(d.n_orders),
        "line_items": int(d.line_order.size),
        "definitions": DEFINITIONS,
    }


def _expected_findings(
    low: dict | None, overstock: list[dict], stockout: dict | None, roas: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """What the product plan's rules should raise on this brand (for the decisions layer's tests)."""
    alerts: list[dict[str, Any]] = []
    recs: list[dict[str, Any]] = []
    for p, r in roas.items():
        if r["trailing_4w"] and r["current"] and r["current"] < 0.85 * r["trailing_4w"]:
            alerts.append(
                {"type": "roas_drop", "channel": p, "current": r["current"], "trailing_4w": r["trailing_4w"]}
            )
    if low:
        alerts.append({"type": "stockout_risk", "product_id": low["product_id"], "sku": low["sku"]})
        alerts.append(
            {
                "type": "inventory_mismatch",
                "mismatch": "overspending_low_stock",
                "product_id": low["product_id"],
            }
        )
        recs.append(
            {
                "type": "reduce_spend",
                "channel": low["platform"],
                "product_id": low["product_id"],
                "regions": low["regions"],
                "campaign_ids": low["campaign_ids"],
            }
        )
    if stockout:
        alerts.append(
            {
                "type": "inventory_mismatch",
                "mismatch": "spending_on_stockout",
                "product_id": stockout["product_id"],
                "channel": stockout["platform"],
            }
        )
    for e in overstock:
        recs.append({"type": "promotion", "product_id": e["product_id"], "sku": e["sku"]})
        if e["roas_30d"] and e["roas_30d"] > 4.0:
            recs.append(
                {
                    "type": "increase_spend",
                    "channel": e["platform"],
                    "product_id": e["product_id"],
                    "regions": e["regions"],
                    "campaign_ids": e["campaign_ids"],
                }
            )
    return {"alerts": alerts, "recommendations": recs}
