"""The context: a compact JSON of the figures a weekly summary needs, and nothing else.

Its shape follows the product plan's ``_prepare_context`` (Phase 4, step 4.1): ``performance``
(current and previous week, by channel, with the changes precomputed) and ``inventory``
(misalignments), plus the top regions, stock risks, overstock, this week's recommendations and
alerts. Every figure a sentence may cite is in it — shares and week-over-week changes are computed
here, not left to the writer — because the grounding check accepts only numbers of the context.

Size: lists are capped (top regions, misalignments, …) so the context does not grow with the
catalogue; if it is still above the token budget, the longest list is halved until it fits. A
500-SKU × 50-region brand stays under ~4k tokens (tests and ``bench/ai_context.py`` measure it with
the :mod:`tower.ai.tokens` stand-in).

Merchant text (product and campaign names) goes in as JSON string values, trimmed and stripped of
control characters: it is data for the model, never instructions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tower import periods
from tower.ai.tokens import count_json_tokens
from tower.decisions.formatting import region_name
from tower.decisions.inputs import AlignmentRow, BrandFacts, PeriodRow, StockPosition, pooled_share
from tower.decisions.scoring import iso_week
from tower.periods import Period

DEFAULT_CAPS: dict[str, int] = {
    "top_regions": 5,
    "weak_regions": 3,
    "misalignments": 8,
    "stock_risks": 5,
    "overstock": 5,
    "recommendations": 5,
    "alerts": 8,
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e]")


def clean_text(text: Any, limit: int = 80) -> str:
    """Merchant text for a prompt: control and direction characters removed, whitespace collapsed, trimmed."""
    s = _CONTROL.sub(" ", str(text or ""))
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _money(x: float | None) -> float | None:
    if x is None:
        return None
    return round(float(x)) if abs(x) >= 100 else round(float(x), 2)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 2) if den > 0 else None


def pct_change(now: float | None, before: float | None) -> float | None:
    """Percent change from before to now (one decimal); None without a base."""
    if now is None or before is None or before == 0:
        return None
    return round((now / before - 1) * 100, 1)


def _week_block(rows: list[PeriodRow], current: bool, blended: PeriodRow | None) -> dict[str, Any]:
    def s(r: PeriodRow) -> float:
        return r.spend if current else r.prev_spend

    def v(r: PeriodRow) -> float:
        return r.revenue if current else r.prev_revenue

    # Totals are the store's: all spend against ALL Shopify revenue (the plan's "generated $72,000 in
    # Shopify revenue at a blended 3.9x"); channel shares are of that revenue, so they need not sum to 100%.
    total_spend = s(blended) if blended is not None else sum(s(r) for r in rows)
    total_revenue = v(blended) if blended is not None else sum(v(r) for r in rows)
    by_channel = {}
    for r in sorted(rows, key=lambda r: -v(r)):
        by_channel[r.channel] = {
            "spend": _money(s(r)),
            "revenue": _money(v(r)),
            "roas": _ratio(v(r), s(r)),
            "revenue_share_pct": round(v(r) / total_revenue * 100, 1) if total_revenue > 0 else None,
            "spend_share_pct": round(s(r) / total_spend * 100, 1) if total_spend > 0 else None,
        }
    block: dict[str, Any] = {
        "total_spend": _money(total_spend),
        "total_revenue": _money(total_revenue),
        "blended_roas": _ratio(total_revenue, total_spend),
        "by_channel": by_channel,
    }
    profit = (blended.profit if current else blended.prev_profit) if blended is not None else None
    if profit is not None:
        block["total_profit"] = _money(profit)
    return block


def _changes(rows: list[PeriodRow], cur: dict[str, Any], prev: dict[str, Any]) -> dict[str, Any]:
    by_channel = {}
    for r in rows:
        roas_now, roas_before = _ratio(r.revenue, r.spend), _ratio(r.prev_revenue, r.prev_spend)
        by_channel[r.channel] = {
            "spend_pct": pct_change(r.spend, r.prev_spend),
            "revenue_pct": pct_change(r.revenue, r.prev_revenue),
            "revenue_amount": _money(r.revenue - r.prev_revenue),
            "roas_from": roas_before,
            "roas_to": roas_now,
            "roas_pct": pct_change(r.revenue / r.spend if r.spend else None,
                                   r.prev_revenue / r.prev_spend if r.prev_spend else None),
        }
    return {
        "total_spend_pct": pct_change(cur["total_spend"], prev["total_spend"]),
        "total_revenue_pct": pct_change(cur["total_revenue"], prev["total_revenue"]),
        "total_revenue_amount": _money((cur["total_revenue"] or 0) - (prev["total_revenue"] or 0)),
        "blended_roas_pct": pct_change(cur["blended_roas"], prev["blended_roas"]),
        "by_channel": by_channel,
    }


def _regions(rows: Iterable[PeriodRow], top: int, weak: int, min_spend: float) -> tuple[list[Any], list[Any]]:
    agg: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for r in rows:
        if not r.region_code:
            continue
        a = agg[r.region_code]
        a[0] += r.spend
        a[1] += r.revenue
        a[2] += r.prev_spend
        a[3] += r.prev_revenue
    top_rows = sorted(agg.items(), key=lambda kv: (-kv[1][1], kv[0]))[:top]
    top_out = [{"region": k, "spend": _money(a[0]), "revenue": _money(a[1]), "roas": _ratio(a[1], a[0]),
                "revenue_change_pct": pct_change(a[1], a[3])} for k, a in top_rows]
    weak_rows = [r for r in rows if r.region_code and r.spend >= min_spend]
    weak_rows.sort(key=lambda r: (r.revenue / r.spend if r.spend else 0.0, r.channel, r.region_code))
    weak_out = [{"region": r.region_code, "channel": r.channel, "spend": _money(r.spend),
                 "revenue": _money(r.revenue), "roas": _ratio(r.revenue, r.spend),
                 "roas_before": _ratio(r.prev_revenue, r.prev_spend)} for r in weak_rows[:weak]]
    return top_out, weak_out


def _geo(regions: Iterable[str], limit: int = 4) -> str:
    # Named, not coded: the narrator and Claude write this string into sentences ("in California").
    rs = sorted({r for r in regions if r})
    return ", ".join(region_name(r) for r in rs[:limit]) + (f" and {len(rs) - limit} more" if len(rs) > limit else "")


def _misalignments(rows: Iterable[AlignmentRow], cap: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[AlignmentRow]] = defaultdict(list)
    for r in rows:
        if r.mismatch in kinds:
            groups[(r.product_id, r.mismatch)].append(r)
    items: list[dict[str, Any]] = []
    for (_, kind), rs in groups.items():
        covers = [r.days_of_cover for r in rs if r.days_of_cover is not None]
        spend = sum(r.spend for r in rs)
        items.append({
            "product": clean_text(rs[0].product_title, 60),
            "issue": kind,
            "doc": round(min(covers), 1) if covers else None,
            "ad_spend": _money(spend),
            "spend_share_pct": round(pooled_share(rs) * 100, 1),
            "channels": sorted({r.channel for r in rs}),
            "geo": _geo(r.region_code for r in rs),
        })
    items.sort(key=lambda i: (-(i["ad_spend"] or 0), i["product"]))
    return items[:cap]


def _overstock(rows: Iterable[AlignmentRow], cap: int) -> list[dict[str, Any]]:
    items = _misalignments(rows, 10_000, ("underspending_overstock",))
    items.sort(key=lambda i: (-(i["doc"] or 0), i["product"]))
    return [{k: i[k] for k in ("product", "doc", "ad_spend", "spend_share_pct", "geo")} for i in items[:cap]]


def _stock_risks(stock: Iterable[StockPosition], cap: int, within_days: float) -> list[dict[str, Any]]:
    risky = [s for s in stock if s.ad_spend > 0 and s.available_units > 0 and s.days_of_cover is not None
             and s.days_of_cover <= within_days]
    risky.sort(key=lambda s: (s.days_of_cover or 0.0, s.product_title))
    return [{"product": clean_text(s.product_title, 60), "days_of_cover": round(s.days_of_cover or 0.0, 1),
             "available_units": round(s.available_units), "velocity_per_day": round(s.velocity, 1),
             "ad_spend_7d": _money(s.ad_spend), "geo": _geo(s.region_codes)} for s in risky[:cap]]


def _rec(r: Mapping[str, Any]) -> dict[str, Any]:
    metrics = r.get("metrics") or {}
    keep = ("roas", "days_of_cover", "spend_share_pct", "change_pct", "window_days", "horizon_days")
    impact = r.get("impact") or {}
    # figures the card repeats: the ROAS of added spend is the row's ROAS; the uncapped raise is the raise
    # unless stock capped it
    redundant = {"roas_of_added_spend"} | (set() if impact.get("capped_by_stock") else {"uncapped_added_spend"})
    return {
        "id": r.get("id"),
        "type": r.get("type"),
        "priority": r.get("priority"),
        "product": clean_text(r.get("product"), 60),
        "channel": r.get("channel"),
        "region": _geo(r.get("regions") or ([r["region"]] if r.get("region") else [])),
        "action": clean_text(r.get("action"), 240),
        "reason": clean_text(r.get("reason"), 240),
        "expected_impact": clean_text(r.get("expected_impact"), 300),
        "current_spend": r.get("current_spend"),
        "recommended_change": r.get("recommended_change"),
        "new_spend": r.get("new_spend"),
        "metrics": {k: metrics[k] for k in keep if metrics.get(k) is not None},
        "impact": {k: v for k, v in impact.items() if v is not None and k not in redundant},
    }


def _alert(a: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": a.get("type"), "severity": a.get("severity"), "title": clean_text(a.get("title"), 160),
            "channel": a.get("channel") or "", "product": clean_text(a.get("product"), 60),
            "region": a.get("region") or ""}


def build_context(
    facts: BrandFacts,
    recommendations: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int = 4000,
    min_region_spend: float = 100.0,
    stockout_within_days: float = 14.0,
    caps: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The weekly-summary context of one brand.

    Seven parameters: the three inputs, then the brand's thresholds and list caps as keywords with
    their defaults (each is a setting or a brand override; nothing else groups them).

    Args:
        facts: The brand's facts (``channel_periods``, ``region_periods``, ``alignment``, ``stock``).
        recommendations: This week's ranked recommendation cards (``Recommendation.to_dict()``).
        alerts: Open alerts (``Alert.to_dict()``), most severe first.
        max_tokens: Token budget (stand-in tokenizer); lists are halved until the context fits.
        min_region_spend: Regions spending less this week are not listed among the weak ones.
        stockout_within_days: Cover at or below which an advertised product is a stock risk.
        caps: List lengths to start from (default :data:`DEFAULT_CAPS`).

    Returns:
        The context dict (JSON-ready).
    """
    caps = dict(caps or DEFAULT_CAPS)
    while True:
        ctx = _build(facts, recommendations, alerts, caps, min_region_spend, stockout_within_days)
        if count_json_tokens(ctx) <= max_tokens or all(v <= 1 for v in caps.values()):
            return ctx
        longest = max(caps, key=lambda k: (caps[k], k))
        caps[longest] = max(1, caps[longest] // 2)


def _days(period: Period) -> dict[str, str]:
    return {"first_day": period.start.isoformat(), "last_day": period.last_day.isoformat()}


def _build(facts: BrandFacts, recommendations: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]],
           caps: Mapping[str, int], min_region_spend: float, within_days: float) -> dict[str, Any]:
    today = facts.today
    channels = [r for r in facts.channel_periods if r.channel]
    cur = _week_block(channels, True, facts.blended_period)
    prev = _week_block(channels, False, facts.blended_period)
    top_regions, weak_regions = _regions(facts.region_periods, caps["top_regions"], caps["weak_regions"],
                                         min_region_spend)
    return {
        "brand": {"name": clean_text(facts.brand_name or facts.brand_id, 60), "currency": facts.currency},
        "week": iso_week(today),
        "period": {
            "current_week": _days(periods.resolve("last_week", today)),
            "previous_week": _days(periods.resolve("week_before", today)),
        },
        "performance": {
            "current_week": cur,
            "previous_week": prev,
            "changes": _changes(channels, cur, prev),
            "top_regions": top_regions,
            "weak_regions": weak_regions,
        },
        "inventory": {
            "misalignments": _misalignments(facts.alignment, caps["misalignments"],
                                            ("spending_on_stockout", "overspending_low_stock")),
            "stock_risks": _stock_risks(facts.stock, caps["stock_risks"], within_days),
            "overstock": _overstock(facts.alignment, caps["overstock"]),
        },
        "recommendations": [_rec(r) for r in recommendations[: caps["recommendations"]]],
        "alerts": [_alert(a) for a in alerts[: caps["alerts"]]],
    }
