"""Alerts: what needs attention now, detected from the models' facts, and their open/resolved life.

Four types (thresholds in :class:`~tower.decisions.thresholds.AlertThresholds`):

* ``roas_drop`` — a channel's, and a channel × region's, ROAS this week is below ``ratio`` × its
  trailing average (the trailing ROAS is Σ revenue ÷ Σ spend over the trailing weeks, not a mean of
  weekly ratios). A channel × region must also, when order counts are known, drop by more than
  ``roas_drop_min_z`` standard errors of noise, so small regions do not alert on a few orders' luck
  (a whole channel has the volume for the plan's rule as it stands). Severity high from
  a 25% drop (the plan's TikTok 2.8× → 2.1× example), else medium.
* ``stockout_risk`` — an advertised product whose stock at a location runs out within N days:
  critical at or below ``stockout_critical_days`` (inclusive, see the thresholds), high at or below
  ``stockout_high_days``, else medium. A product already at zero is ``inventory_mismatch`` instead.
* ``inventory_mismatch`` — the alignment model's ``spending_on_stockout`` (high) and
  ``overspending_low_stock`` (medium), one alert per product and mismatch with its channels and regions.
* ``spend_anomaly`` — a campaign's spend on the last day is far outside its recent range: outside the
  lookback days' [min, max], beyond the robust z-score ``0.6745 × (x − median) ÷ MAD``, and more
  than 50% away from the last 7 days' median (a budget raised last week is the new level, not an
  anomaly). When MAD is 0 (a flat budget) a day more than 50% away from the median counts as
  infinitely far. Both directions are flagged:
  a spike (medium; high above twice the recent maximum) and a drop (low).

Every alert has a stable id from its type and subject (channel / product / region or location /
campaign), so :func:`reconcile` can tell a new alert from one still open and close the ones whose
condition is gone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from tower import periods
from tower.decisions import formatting as fmt
from tower.decisions.inputs import (
    AlignmentRow,
    BrandFacts,
    CampaignRef,
    ChannelWeek,
    SpendSeries,
    StockPosition,
    pooled_share,
)
from tower.decisions.thresholds import AlertThresholds
from tower.fingerprints import digest

ROAS_DROP = "roas_drop"
STOCKOUT_RISK = "stockout_risk"
INVENTORY_MISMATCH = "inventory_mismatch"
SPEND_ANOMALY = "spend_anomaly"
TYPES = (ROAS_DROP, STOCKOUT_RISK, INVENTORY_MISMATCH, SPEND_ANOMALY)
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
ROAS_DROP_HIGH_PCT = 25.0
MAD_SCALE = 0.6745  # makes the MAD a consistent estimator of the standard deviation for normal data
FLAT_BUDGET_JUMP = 0.5


@dataclass
class Alert:
    """One alert, in the plan's shape (type, severity, channel, title, explanation, action) plus data."""

    type: str
    severity: str
    title: str
    explanation: str
    recommended_action: str
    subject: tuple[str, ...]
    channel: str = ""
    product_id: str = ""
    product: str = ""
    region: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    campaigns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        """Stable per type and subject: the same condition on the same thing is the same alert."""
        return alert_id(self.type, self.subject)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "severity": self.severity,
            "channel": self.channel,
            "product_id": self.product_id,
            "product": self.product,
            "region": self.region,
            "title": self.title,
            "explanation": self.explanation,
            "recommended_action": self.recommended_action,
            "metrics": self.metrics,
            "campaigns": self.campaigns,
        }


def alert_id(alert_type: str, subject: tuple[str, ...]) -> str:
    key = "|".join((alert_type, *subject))
    return "alert_" + digest(key)


def _campaign_dicts(campaigns: tuple[CampaignRef, ...], limit: int = 5) -> list[dict[str, Any]]:
    """An alert's campaign lines: one per campaign, its spend summed over the alert's rows (regions), so the
    lines add up to the spend its title states."""
    merged: dict[tuple[str, str, str], tuple[CampaignRef, float]] = {}
    for c in campaigns:
        key = (c.platform, c.account_id, c.campaign_id)
        merged[key] = (merged[key][0] if key in merged else c, c.spend + (merged[key][1] if key in merged else 0.0))
    top = sorted(merged.values(), key=lambda cs: (-cs[1], cs[0].platform, cs[0].campaign_id))[:limit]
    return [{"platform": c.platform, "account_id": c.account_id, "campaign_id": c.campaign_id,
             "campaign_name": c.campaign_name, "spend": round(spend, 2)} for c, spend in top]


def _campaign_label(c: CampaignRef) -> str:
    name = f"“{c.campaign_name}” " if c.campaign_name else ""
    return f"{fmt.channel_name(c.platform)} campaign {name}(id {c.campaign_id})"


def roas_drops(weeks: tuple[ChannelWeek, ...] | list[ChannelWeek], currency: str,
               t: AlertThresholds) -> list[Alert]:
    """``roas_drop`` alerts for channels and channel × regions.

    Args:
        weeks: This week and the trailing weeks' sums per channel ('' region) and channel × region.
        currency: Store currency.
        t: Thresholds.

    Returns:
        One alert per channel (or channel × region) whose ROAS fell below the ratio.
    """
    out = []
    for w in weeks:
        if w.spend < t.min_weekly_spend or w.trailing_spend <= 0 or w.trailing_revenue <= 0:
            continue
        now, before = w.roas, w.trailing_roas
        # compare rounded to 1e-9 so 2.38 vs 0.85 × 2.8 is "at" the ratio, as written, not below it
        if round(now - t.roas_drop_ratio * before, 9) >= 0:
            continue
        drop_pct = (1 - now / before) * 100.0
        if w.region_code and w.orders is not None and w.trailing_orders is not None:
            # a ratio of two order-driven sums: its relative noise is about √(1/n₁ + 1/n₂) (Poisson counts)
            noise = math.sqrt(1 / max(w.orders, 1.0) + 1 / max(w.trailing_orders, 1.0))
            if drop_pct / 100.0 <= t.roas_drop_min_z * noise:
                continue
        ch = fmt.channel_name(w.channel)
        where = f" in {fmt.region_name(w.region_code)}" if w.region_code else ""
        metrics = {
            "roas": round(now, 2), "trailing_roas": round(before, 2), "drop_pct": round(drop_pct, 1),
            "spend": round(w.spend, 2), "revenue": round(w.revenue, 2),
            "trailing_weeks": t.roas_trailing_weeks, "trailing_weekly_spend": round(w.trailing_spend / t.roas_trailing_weeks, 2),
        }
        weekly_before = w.trailing_spend / t.roas_trailing_weeks
        spend_note = ""
        if weekly_before > 0:
            spend_change = (w.spend / weekly_before - 1) * 100
            metrics["spend_change_pct"] = round(spend_change, 1)
            if abs(spend_change) >= 5:
                direction = "up" if spend_change > 0 else "down"
                spend_note = f" Spend was {direction} {fmt.pct(spend_change)} on a typical recent week."
        explanation = (
            f"{ch}{where} returned {fmt.multiple(now)} this week ({fmt.money(w.revenue, currency)} of revenue on "
            f"{fmt.money(w.spend, currency)} of spend), against {fmt.multiple(before)} over the previous "
            f"{t.roas_trailing_weeks} weeks, a drop of {fmt.pct(drop_pct)}.{spend_note}"
        )
        campaigns = sorted(w.campaigns, key=lambda c: -c.spend)
        if campaigns:
            action = f"Review {ch}{where} and reduce or pause the weakest campaigns, starting with " \
                     f"{_campaign_label(campaigns[0])}"
        else:
            action = f"Review {ch} campaigns{where} and reduce or pause the weakest"
        out.append(Alert(
            type=ROAS_DROP, severity="high" if round(drop_pct, 6) >= ROAS_DROP_HIGH_PCT else "medium",
            title=f"{ch} ROAS dropped {fmt.pct(drop_pct)}{where}: {fmt.multiple(now)} vs {fmt.multiple(before)}",
            explanation=explanation, recommended_action=action, subject=(w.channel, w.region_code),
            channel=w.channel, region=w.region_code, metrics=metrics, campaigns=_campaign_dicts(w.campaigns),
        ))
    return out


def stockout_risks(stock: tuple[StockPosition, ...] | list[StockPosition], currency: str,
                   t: AlertThresholds) -> list[Alert]:
    """``stockout_risk`` alerts for advertised products about to run out.

    Args:
        stock: Stock positions (product × location) with their recent ad spend.
        currency: Store currency.
        t: Thresholds.

    Returns:
        One alert per advertised product × location whose cover is within the window.
    """
    out = []
    for s in stock:
        doc = s.days_of_cover
        if s.ad_spend <= 0 or s.available_units <= 0 or doc is None or doc > t.stockout_within_days:
            continue
        if doc <= t.stockout_critical_days:
            severity, action = "critical", f"Pause all ads promoting {s.product_title} immediately and reorder"
        elif doc <= t.stockout_high_days:
            severity, action = "high", f"Cut ads promoting {s.product_title} and reorder now"
        else:
            severity, action = "medium", f"Reorder {s.product_title} or slow its ads before it runs out"
        regions = [r for r in s.region_codes if r]
        where = f" ({fmt.region_names(regions)})" if 0 < len(regions) <= 4 else ""
        channels = fmt.join_words([fmt.channel_name(c) for c in s.channels])
        explanation = (
            f"Current sales velocity is {fmt.per_day(s.velocity)} with {fmt.units(s.available_units)} remaining"
            f"{where}, about {fmt.days(doc)} of cover, while ads spent {fmt.money(s.ad_spend, currency)} on it "
            f"in the last 7 days" + (f" ({channels})." if channels else ".")
        )
        out.append(Alert(
            type=STOCKOUT_RISK, severity=severity,
            title=f"{s.product_title} will stock out in {fmt.days(doc)}{where}",
            explanation=explanation, recommended_action=action, subject=(s.product_id, s.location_id),
            product_id=s.product_id, product=s.product_title, region=", ".join(regions),
            metrics={"days_of_cover": round(doc, 1), "available_units": round(s.available_units),
                     "velocity_per_day": round(s.velocity, 2), "ad_spend_7d": round(s.ad_spend, 2),
                     "location_id": s.location_id},
            campaigns=_campaign_dicts(s.campaigns),
        ))
    return out


def inventory_mismatches(rows: tuple[AlignmentRow, ...] | list[AlignmentRow], currency: str) -> list[Alert]:
    """``inventory_mismatch`` alerts from the alignment model, one per product and mismatch type.

    Args:
        rows: Alignment rows (product × channel × region).
        currency: Store currency.

    Returns:
        Alerts for ``spending_on_stockout`` and ``overspending_low_stock``.
    """
    groups: dict[tuple[str, str], list[AlignmentRow]] = defaultdict(list)
    for r in rows:
        if r.mismatch in ("spending_on_stockout", "overspending_low_stock"):
            groups[(r.product_id, r.mismatch)].append(r)
    out = []
    for (product_id, kind), rs in sorted(groups.items()):
        spend = sum(r.spend for r in rs)
        share = pooled_share(rs)
        regions = sorted({r.region_code for r in rs if r.region_code})
        channels = sorted({r.channel for r in rs})
        ch_words = fmt.join_words([fmt.channel_name(c) for c in channels])
        where = f" in {fmt.region_names(regions)}" if 0 < len(regions) <= 4 else ""
        title_name = rs[0].product_title
        campaigns = tuple(c for r in rs for c in r.campaigns)
        covers = [r.days_of_cover for r in rs if r.days_of_cover is not None]
        doc = min(covers) if covers else None
        if kind == "spending_on_stockout":
            severity = "high"
            title = f"Spending {fmt.money(spend, currency)} on {title_name}, which is out of stock{where}"
            explanation = (f"{ch_words} spent {fmt.money(spend, currency)} promoting {title_name}{where}, "
                           f"where it has no stock left: those clicks cannot convert.")
            action = f"Pause ads on {ch_words} for {title_name}{where} until it is restocked"
        else:
            severity = "medium"
            title = f"{title_name} takes {fmt.share_pct(share)} of {ch_words} spend{where} with {fmt.days(doc)} of stock"
            explanation = (f"{ch_words} put {fmt.money(spend, currency)} ({fmt.share_pct(share)} of its spend in "
                           f"those regions) behind {title_name}{where}, which has only {fmt.days(doc)} of cover left.")
            action = f"Shift budget from {title_name} to products with healthy stock"
        out.append(Alert(
            type=INVENTORY_MISMATCH, severity=severity, title=title, explanation=explanation,
            recommended_action=action, subject=(product_id, kind), channel=",".join(channels),
            product_id=product_id, product=title_name, region=", ".join(regions),
            metrics={"mismatch": kind, "spend": round(spend, 2), "spend_share_pct": round(share * 100, 1),
                     "days_of_cover": None if doc is None else round(doc, 1),
                     "available_units": round(min(r.available_units for r in rs))},
            campaigns=_campaign_dicts(campaigns),
        ))
    return out


def robust_z(history: list[float], value: float) -> float:
    """How far value lies from the history, in robust standard deviations (median and MAD).

    Returns ``inf`` (signed) for a flat history when value is more than 50% away from it.
    """
    m = median(history)
    mad = median([abs(x - m) for x in history])
    if mad > 0:
        return MAD_SCALE * (value - m) / mad
    if m == 0:
        return math.inf if value > 0 else 0.0
    if abs(value - m) > FLAT_BUDGET_JUMP * abs(m):
        return math.copysign(math.inf, value - m)
    return 0.0


def spend_anomalies(series: tuple[SpendSeries, ...] | list[SpendSeries], currency: str,
                    t: AlertThresholds, min_history_days: int = 7) -> list[Alert]:
    """``spend_anomaly`` alerts: a campaign's last day far outside its recent range.

    Args:
        series: Daily spend per campaign, oldest first.
        currency: Store currency.
        t: Thresholds.
        min_history_days: Fewer days of history than this say nothing about "recent range".

    Returns:
        One alert per anomalous campaign.
    """
    out = []
    for s in series:
        if len(s.daily) < min_history_days + 1:
            continue
        day, value = s.daily[-1]
        history = [v for _, v in s.daily[-1 - t.anomaly_lookback_days:-1]]
        m = median(history)
        if max(value, m) < t.anomaly_min_spend:
            continue
        z = robust_z(history, value)
        lo, hi = min(history), max(history)
        week = median(history[-7:])
        shifted = abs(value - week) <= FLAT_BUDGET_JUMP * week if week > 0 else value == 0
        # far from the median, outside everything seen recently, and not just last week's level: a
        # budget stepped up last week is the new normal by now, not an anomaly
        if abs(z) <= t.anomaly_z or lo <= value <= hi or shifted:
            continue
        c = s.campaign
        ch = fmt.channel_name(s.channel)
        if z > 0:
            severity = "high" if value > 2 * hi else "medium"
            verb, action = "jumped to", f"Check {_campaign_label(c)} for a budget or bid change and cap it if unintended"
        else:
            severity = "low"
            verb, action = "fell to", f"Check whether {_campaign_label(c)} was paused, limited or disapproved"
        explanation = (f"{_campaign_label(c)} spent {fmt.money(value, currency)} on {periods.day_words(day)}, against a "
                       f"median of {fmt.money(m, currency)} a day over the previous {len(history)} days "
                       f"(range {fmt.money(lo, currency)} to {fmt.money(hi, currency)}).")
        out.append(Alert(
            type=SPEND_ANOMALY, severity=severity,
            title=f"{ch} spend {verb} {fmt.money(value, currency)} on {c.campaign_name or c.campaign_id} "
                  f"(usually {fmt.money(m, currency)})",
            explanation=explanation, recommended_action=action,
            subject=(c.platform, c.account_id, c.campaign_id), channel=s.channel,
            metrics={"spend": round(value, 2), "median_spend": round(m, 2), "min_spend": round(lo, 2),
                     "max_spend": round(hi, 2), "robust_z": None if math.isinf(z) else round(z, 1),
                     "date": day.isoformat(), "history_days": len(history)},
            campaigns=_campaign_dicts((c,)),
        ))
    return out


def detect(facts: BrandFacts, t: AlertThresholds) -> list[Alert]:
    """Every alert the facts raise, most severe first (stable order)."""
    alerts = [
        *roas_drops(facts.channel_weeks, facts.currency, t),
        *stockout_risks(facts.stock, facts.currency, t),
        *inventory_mismatches(facts.alignment, facts.currency),
        *spend_anomalies(facts.spend_series, facts.currency, t),
    ]
    return sorted(alerts, key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.type, a.id))


@dataclass
class AlertChanges:
    """What a detection run changes: new (or re-opened) alerts, still-open ones, and resolved ids."""

    raised: list[Alert]
    still_open: list[Alert]
    resolved: list[str]


def reconcile(existing: Mapping[str, Mapping[str, Any]], detected: list[Alert]) -> AlertChanges:
    """Compare this run's alerts with the stored ones.

    An alert whose id is stored and open is *not* raised again (its numbers are refreshed); one
    that is stored but resolved, or not stored, is raised; a stored open alert not detected now
    has resolved.

    Args:
        existing: Stored alerts by id (each with a ``status``: open | resolved).
        detected: This run's alerts.

    Returns:
        The changes to write and publish.
    """
    raised, still_open = [], []
    seen = set()
    for a in detected:
        seen.add(a.id)
        prev = existing.get(a.id)
        if prev is not None and prev.get("status") == "open":
            still_open.append(a)
        else:
            raised.append(a)
    resolved = sorted(i for i, doc in existing.items() if doc.get("status") == "open" and i not in seen)
    return AlertChanges(raised=raised, still_open=still_open, resolved=resolved)
