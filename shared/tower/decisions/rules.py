"""The product plan's three recommendation rules (Phase 4, step 4.2), as pure functions.

Input: :class:`~tower.decisions.inputs.PerformanceRow` per product × channel × region over the
rules window, and each product's stock. Output: :class:`Recommendation` objects with the concrete
campaign budget changes, the reason with its numbers and an expected impact computed from the data.
Scoring, ids and the top-N cut are in :mod:`tower.decisions.scoring`.

Choices where the plan's sketch is ambiguous:

* Rule 1 (reduce) is judged where the plan judges it — on each product × channel × region row, with
  the alignment model's region-level spend share (the product's share of what the channel spends in
  that region: "of what TikTok spends in Texas, 35% pushes SKU-A") — and the rows on which it fires
  for the same product and channel make **one** recommendation that names its regions (the plan's
  "Cut TikTok spend on SKU-A in CA/TX by 20%"). Its spend, revenue and change are sums over those
  rows; its ROAS is Σ revenue ÷ Σ spend; its share is Σ spend ÷ Σ of the channel's spend in those
  regions; its days of cover are the lowest among them. (Judged against the brand's whole spend, a
  product pushed hard in two regions shows a small share even where it takes a third of the
  channel's spend there.)
* Rule 2 (increase) is judged on the product × channel as a whole, over every region it spends in:
  a raise moves campaign budgets, and a campaign's budget buys all its regions at once, so what
  the raise buys is the product's return on that channel (Σ revenue ÷ Σ spend), drawing on the stock
  of every location those regions are served from (Σ available ÷ Σ velocity). Its share is the
  plan's: the product × channel's spend ÷ the brand's whole ad spend (the SKU-B of the plan is "7%
  of spend"). Per region, a thinly supported product looks both noisy (a handful of orders a month)
  and large (a campaign confined to a few regions is most of the channel's spend there). A raise is
  not proposed where rule 1 cuts the same product × channel.
* Rows spending less than ``min_spend`` over the window are not judged: a ROAS on a few dollars of
  spend is noise, and a budget change there moves nothing.
* "Spend" and the change are amounts over the rules window (the plan's "$5,000/month"). A row's
  change is spread over its campaigns by their share of the row's spend and turned into a daily
  amount (÷ window days), because platforms move *daily* budgets; a campaign in several rows sums
  its parts.
* A campaign's proposed daily budget stays within ``max_step_pct`` of its current one (the ad
  issue's write path refuses larger steps) and above ``min_daily_budget``; when that clamps, the
  change says so.
* increase_spend's stock cap: over the horizon, baseline demand (velocity × horizon days) comes
  first; only the units left after it can serve extra sales. The extra spend is capped so that its
  expected extra units (incremental revenue after the diminishing-returns factor ÷ unit price) fit
  in them. Product × channels drawing on the same stock (same product and location) share it, best
  ROAS first. The raise is spread over the rows by their spend, and so onto their campaigns.
* promotion is judged per product over all its locations (the plan's "products with days_of_cover
  > 90"; the alignment model's product level), for every product whose cover exceeds the threshold,
  advertised or not; with no sales at all, every available unit is excess.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tower.decisions import formatting as fmt
from tower.decisions.inputs import CampaignRef, PerformanceRow, StockPosition, pooled_share
from tower.decisions.thresholds import RuleThresholds

REDUCE = "reduce_spend"
INCREASE = "increase_spend"
PROMOTION = "promotion"
TYPES = (REDUCE, INCREASE, PROMOTION)
MAX_BREAKDOWN = 12  # region rows kept on a card for "See details"


@dataclass(frozen=True)
class CampaignChange:
    """One campaign's daily budget, now and proposed (account currency, major units)."""

    platform: str
    account_id: str
    campaign_id: str
    campaign_name: str
    currency: str
    current_daily_budget: float
    proposed_daily_budget: float
    clamped: bool = False

    @property
    def change(self) -> float:
        return round(self.proposed_daily_budget - self.current_daily_budget, 2)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["change"] = self.change
        return d


@dataclass
class Recommendation:
    """A recommended action with its numbers; ``id``, ``score`` and ``priority`` come from scoring.

    Money is in the store currency and over the rules window unless a field says otherwise.
    ``region_code`` is the key of its regions (joined with commas) for the stable id.
    """

    type: str
    brand_id: str
    product_id: str
    product_title: str
    channel: str
    region_code: str
    currency: str
    current_spend: float
    recommended_change: float
    new_spend: float
    impact_size: float
    metrics: dict[str, Any]
    impact: dict[str, Any]
    action: str
    reason: str
    expected_impact: str
    campaign_changes: list[CampaignChange] = field(default_factory=list)
    regions: tuple[str, ...] = ()
    breakdown: list[dict[str, Any]] = field(default_factory=list)
    id: str = ""
    week: str = ""
    score: int = 0
    priority: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The recommendation card (the plan's shape plus the data behind it), JSON-ready."""
        return {
            "id": self.id,
            "brand_id": self.brand_id,
            "week": self.week,
            "type": self.type,
            "priority": self.priority,
            "score": self.score,
            "action": self.action,
            "reason": self.reason,
            "expected_impact": self.expected_impact,
            "product_id": self.product_id,
            "product": self.product_title,
            "channel": self.channel,
            "region": self.region_code,
            "regions": list(self.regions),
            "currency": self.currency,
            "current_spend": _r(self.current_spend),
            "recommended_change": _r(self.recommended_change),
            "new_spend": _r(self.new_spend),
            "metrics": self.metrics,
            "impact": self.impact,
            "campaign_changes": [c.to_dict() for c in self.campaign_changes],
            "breakdown": self.breakdown,
        }


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


# --- budgets ----------------------------------------------------------------------------------------


def spread_changes(parts: Iterable[tuple[tuple[CampaignRef, ...], float]], t: RuleThresholds) -> list[CampaignChange]:
    """Turn window changes of rows into daily budget changes of their campaigns.

    Args:
        parts: Per row: its campaigns (with their spend in the row and current daily budgets) and the
            row's change in store currency over the whole window (negative = cut).
        t: Thresholds (window length, step bounds, minimum budget).

    Returns:
        One change per campaign that has a daily budget of its own, in a stable order.
    """
    deltas: dict[tuple[str, str, str], float] = defaultdict(float)
    refs: dict[tuple[str, str, str], CampaignRef] = {}
    for campaigns, window_change in parts:
        with_budget = [c for c in campaigns if c.daily_budget is not None and c.daily_budget > 0]
        total = sum(max(c.spend, 0.0) for c in with_budget)
        for c in with_budget:
            share = (max(c.spend, 0.0) / total) if total > 0 else 1.0 / len(with_budget)
            key = (c.platform, c.account_id, c.campaign_id)
            deltas[key] += window_change * share / t.window_days * c.store_to_account_rate
            refs[key] = c
    out = []
    for key in sorted(deltas):
        c = refs[key]
        current = float(c.daily_budget or 0.0)
        proposed = current + deltas[key]
        lo = max(current * (1 - t.max_step_pct / 100.0), t.min_daily_budget)
        hi = current * (1 + t.max_step_pct / 100.0)
        clamped = not (lo - 1e-9 <= proposed <= hi + 1e-9)
        proposed = min(max(proposed, lo), hi)
        out.append(CampaignChange(
            platform=c.platform, account_id=c.account_id, campaign_id=c.campaign_id, campaign_name=c.campaign_name,
            currency=c.currency, current_daily_budget=_r(current), proposed_daily_budget=_r(proposed), clamped=clamped,
        ))
    return out


def campaign_changes(campaigns: tuple[CampaignRef, ...], window_change: float, t: RuleThresholds) -> list[CampaignChange]:
    """One row's change spread onto its campaigns' daily budgets (see :func:`spread_changes`)."""
    return spread_changes([(campaigns, window_change)], t)


# --- judging rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A row on which a rule fires, with the row's change and (for a raise) its stock effects."""

    row: PerformanceRow
    change: float
    uncapped: float = 0.0
    capped: bool = False
    extra_units: float = 0.0
    spare_units: float = 0.0


def reduce_hit(row: PerformanceRow, t: RuleThresholds) -> Hit | None:
    """Rule 1 on one row: ROAS below target, stock low and a large share of spend → cut 20%.

    A row with no stock left is a pause whatever its ROAS and share: every click it buys lands on a
    product that cannot be bought, so its whole spend goes (the alignment model's
    ``spending_on_stockout``, whose alert says the same "pause"). ``min_spend`` still applies.
    """
    if is_out_of_stock(row):
        return Hit(row, -row.spend) if row.spend >= max(t.min_spend, 1e-9) else None
    doc = row.days_of_cover
    if not (row.spend >= max(t.min_spend, 1e-9) and row.roas < t.reduce_roas_below and doc is not None
            and doc < t.reduce_cover_below_days and row.spend_share > t.reduce_share_above):
        return None
    return Hit(row, -row.spend * t.reduce_fraction)


def is_out_of_stock(row: PerformanceRow) -> bool:
    """No unit left at the stock the row draws on (the alignment model's ``inventory_units <= 0``)."""
    return row.available_units <= 0


@dataclass(frozen=True)
class Judged:
    """A product × channel as rule 2 sees it: sums over its rows and the stock they draw on."""

    rows: tuple[PerformanceRow, ...]
    spend: float
    revenue: float
    share: float
    available: float
    velocity: float
    stocks: tuple[tuple[str, str], ...]

    @property
    def roas(self) -> float:
        return self.revenue / self.spend if self.spend > 0 else 0.0

    @property
    def days_of_cover(self) -> float | None:
        if self.available <= 0:
            return 0.0
        return self.available / self.velocity if self.velocity > 0 else None

    @property
    def unit_price(self) -> float:
        return self.rows[0].unit_price


def judge_group(rows: Sequence[PerformanceRow]) -> Judged:
    """Sum one product × channel's rows; its stock is that of the distinct locations they draw on.

    A row at country level (no serving location) stands for the product's whole stock, so when one
    is present it alone gives the stock (adding the locations too would count them twice).
    """
    spend = sum(r.spend for r in rows)
    revenue = sum(r.revenue for r in rows)
    brand_spend = max((r.brand_spend for r in rows), default=0.0)
    if brand_spend > 0:
        share = spend / brand_spend
    else:  # rows built without the brand's total: their own shares, pooled
        share = pooled_share(rows)
    whole = [r for r in rows if not r.location_id]
    stock_rows = whole[:1] or list({r.stock_key: r for r in rows}.values())
    return Judged(tuple(rows), spend, revenue, share, sum(r.available_units for r in stock_rows),
                  sum(r.velocity for r in stock_rows), tuple(sorted(r.stock_key for r in stock_rows)))


def increase_hits(group: Judged, t: RuleThresholds, spare: dict[tuple[str, str], float]) -> list[Hit]:
    """Rule 2 on one product × channel: strong ROAS, healthy stock and a small share → raise 50%, within stock.

    Args:
        group: The product × channel (see :func:`judge_group`).
        t: Thresholds.
        spare: Units of each stock left for extra sales over the horizon; what this raise would
            sell is taken from it.

    Returns:
        The raise spread over the group's rows by their spend (empty when the rule does not fire).
    """
    doc = group.days_of_cover
    fires = (group.spend >= max(t.min_spend, 1e-9) and group.roas > t.increase_roas_above and doc is not None
             and doc > t.increase_cover_above_days and group.share < t.increase_share_below)
    if not fires:
        return []
    factor = t.diminishing_returns_factor
    uncapped = added = group.spend * t.increase_fraction
    capped = False
    left = sum(max(spare.get(k, 0.0), 0.0) for k in group.stocks)
    if group.unit_price > 0:
        # extra units sold = added × ROAS × factor ÷ unit price must fit in the spare units
        max_added = left * group.unit_price / (group.roas * factor)
        if max_added < added:
            added, capped = max_added, True
    if added < max(1.0, group.spend * 0.01):  # too small to be worth a budget change
        return []
    extra = added * group.roas * factor / group.unit_price if group.unit_price > 0 else 0.0
    for k in group.stocks:  # each stock gives its part of the extra units
        if left > 0:
            spare[k] = spare.get(k, 0.0) - extra * max(spare.get(k, 0.0), 0.0) / left
    hits = []
    for i, row in enumerate(group.rows):
        part = row.spend / group.spend
        hits.append(Hit(row, added * part, uncapped * part, capped, extra * part, left if i == 0 else 0.0))
    return hits


def _stock_totals(hits: Sequence[Hit]) -> tuple[float, float]:
    """Available units and daily sales over the distinct stocks (product × location) the rows draw on."""
    seen: dict[tuple[str, str], PerformanceRow] = {}
    for h in hits:
        seen.setdefault(h.row.stock_key, h.row)
    return sum(r.available_units for r in seen.values()), sum(r.velocity for r in seen.values())


def _summary(hits: Sequence[Hit]) -> dict[str, Any]:
    rows = [h.row for h in hits]
    spend = sum(r.spend for r in rows)
    revenue = sum(r.revenue for r in rows)
    covers = [r.days_of_cover for r in rows if r.days_of_cover is not None]
    return {"spend": spend, "revenue": revenue, "roas": revenue / spend if spend > 0 else 0.0,
            "share": pooled_share(rows), "doc": min(covers) if covers else None,
            "regions": tuple(sorted({r.region_code for r in rows if r.region_code}))}


def _where(regions: tuple[str, ...]) -> str:
    if not regions:
        return ""
    if len(regions) <= 4:
        return f" in {fmt.region_names(regions)}"
    return f" in {len(regions)} regions"


def _breakdown(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    rows = sorted(hits, key=lambda h: -h.row.spend)[:MAX_BREAKDOWN]
    return [{"region": h.row.region_code, "spend": _r(h.row.spend), "revenue": _r(h.row.revenue),
             "roas": _r(h.row.roas), "days_of_cover": None if h.row.days_of_cover is None else _r(h.row.days_of_cover, 1),
             "spend_share_pct": _r(h.row.spend_share * 100, 1), "change": _r(h.change)} for h in rows]


def _metrics(hits: Sequence[Hit], agg: dict[str, Any], t: RuleThresholds,
             stock: tuple[float, float]) -> dict[str, Any]:
    available, velocity = stock
    first = hits[0].row
    return {
        "spend": _r(agg["spend"]),
        "revenue": _r(agg["revenue"]),
        "roas": _r(agg["roas"]),
        "days_of_cover": None if agg["doc"] is None else _r(agg["doc"], 1),
        "spend_share_pct": _r(agg["share"] * 100, 1),
        "available_units": _r(available, 0),
        "velocity_per_day": _r(velocity, 2),
        "unit_cost": _r(first.unit_cost),
        "unit_price": _r(first.unit_price),
        "region_count": len(agg["regions"]),
        "window_days": t.window_days,
    }


def reduce_spend(hits: Sequence[Hit], brand_id: str, currency: str, t: RuleThresholds) -> Recommendation:
    """One reduce_spend recommendation from the rows of a product × channel where rule 1 fired."""
    agg = _summary(hits)
    row = hits[0].row
    change = sum(h.change for h in hits)
    spend = agg["spend"]
    available, velocity = _stock_totals(hits)
    metrics = _metrics(hits, agg, t, (available, velocity)) | {"change_pct": _r(change / spend * 100, 1)}
    # Fewer ad-driven sales stretch the stock: each cut removes change × ROAS of revenue, i.e. that
    # ÷ unit price units over the window, from the daily sales of the stock it draws on.
    saved_per_day = sum(-h.change * h.row.roas / h.row.unit_price for h in hits if h.row.unit_price > 0) / t.window_days
    days_gained = new_doc = None
    if velocity > 0 and available > 0 and saved_per_day > 0:
        old_doc = available / velocity
        new_doc = available / max(velocity - saved_per_day, velocity * 0.05)
        days_gained = new_doc - old_doc
        metrics["stock_days_of_cover"] = _r(old_doc, 1)
    impact = {
        "spend_saved": _r(-change),
        "revenue_at_risk": _r(sum(-h.change * h.row.roas for h in hits)),
        "stockout_days_avoided": None if days_gained is None else _r(days_gained, 1),
        "new_days_of_cover": None if new_doc is None else _r(new_doc, 1),
    }
    action, reason = _reduce_words(hits, agg, metrics, currency, t)
    metrics["paused_regions"] = sorted({h.row.region_code for h in hits if is_out_of_stock(h.row)})
    expected = f"Saves {fmt.money(change, currency)} of spend over {t.window_days} days"
    if days_gained is not None and days_gained >= 0.05:
        expected += (f" and stretches stock from {fmt.days(metrics['stock_days_of_cover'])} to "
                     f"{fmt.days(impact['new_days_of_cover'])} of cover ({fmt.days(impact['stockout_days_avoided'])} "
                     "more before a stockout)")
    return Recommendation(
        type=REDUCE, brand_id=brand_id, product_id=row.product_id, product_title=row.product_title,
        channel=row.channel, region_code=",".join(agg["regions"]), currency=currency, current_spend=spend,
        recommended_change=change, new_spend=spend + change, impact_size=abs(change), metrics=metrics, impact=impact,
        action=action, reason=reason, expected_impact=expected,
        campaign_changes=spread_changes([(h.row.campaigns, h.change) for h in hits], t), regions=agg["regions"],
        breakdown=_breakdown(hits),
    )


def _reduce_words(hits: Sequence[Hit], agg: dict[str, Any], metrics: dict[str, Any], currency: str,
                  t: RuleThresholds) -> tuple[str, str]:
    """The action and reason of a reduce card: "Pause" where the product is out of stock, "Cut" elsewhere.

    The pause uses the words of the ``spending_on_stockout`` alert on the same product, so the card
    and the alert give one instruction.
    """
    row = hits[0].row
    ch = fmt.channel_name(row.channel)
    spend, change = agg["spend"], sum(h.change for h in hits)
    out = [h for h in hits if is_out_of_stock(h.row)]
    low = [h for h in hits if not is_out_of_stock(h.row)]
    out_where = _where(tuple(sorted({h.row.region_code for h in out if h.row.region_code})))
    over = f"over {t.window_days} days"
    if not low:
        action = (f"Pause ads on {ch} for {row.product_title}{out_where} until it is restocked: cut their budgets by "
                  f"{fmt.money(change, currency)}, all of the {fmt.money(spend, currency)} it spent {over}")
        reason = (f"Out of stock{out_where}: {ch} spent {fmt.money(spend, currency)} {over} on clicks that "
                  f"cannot convert")
        return action, reason
    low_spend = sum(h.row.spend for h in low)
    low_where = _where(tuple(sorted({h.row.region_code for h in low if h.row.region_code})))
    low_roas = sum(h.row.revenue for h in low) / low_spend if low_spend > 0 else 0.0
    low_cut = -sum(h.change for h in low)
    stock_words = f"stock is low ({fmt.days(min(h.row.days_of_cover or 0.0 for h in low))} of cover)"
    if not out:
        action = (f"Cut {ch} spend on {row.product_title}{low_where} by {fmt.money(change, currency)} "
                  f"({fmt.pct(metrics['change_pct'])}), from {fmt.money(spend, currency)} to "
                  f"{fmt.money(spend + change, currency)} {over}")
        reason = (f"Low ROAS ({fmt.multiple(agg['roas'])}) while {stock_words} and this product takes "
                  f"{fmt.pct(metrics['spend_share_pct'])} of {fmt.possessive(ch)} spend there")
        return action, reason
    action = (f"Pause ads on {ch} for {row.product_title}{out_where} until it is restocked and cut them"
              f"{low_where} by {fmt.money(low_cut, currency)}: {fmt.money(change, currency)} in all, from "
              f"{fmt.money(spend, currency)} to {fmt.money(spend + change, currency)} {over}")
    reason = (f"Out of stock{out_where}; elsewhere low ROAS ({fmt.multiple(low_roas)}) while {stock_words} on a "
              f"large share of {fmt.possessive(ch)} spend")
    return action, reason


def increase_spend(hits: Sequence[Hit], brand_id: str, currency: str, t: RuleThresholds) -> Recommendation:
    """One increase_spend recommendation from the rows of a product × channel where rule 2 fired."""
    group = judge_group([h.row for h in hits])
    agg = _summary(hits) | {"share": group.share, "doc": group.days_of_cover}
    row = hits[0].row
    added = sum(h.change for h in hits)
    uncapped = sum(h.uncapped for h in hits)
    capped = any(h.capped for h in hits)
    spend = agg["spend"]
    factor = t.diminishing_returns_factor
    before_factor = sum(h.change * h.row.roas for h in hits)
    after_factor = before_factor * factor
    spare = sum(h.spare_units for h in hits if h.capped)
    metrics = _metrics(hits, agg, t, (group.available, group.velocity)) | {
        "change_pct": _r(added / spend * 100, 1), "horizon_days": t.horizon_days}
    if capped:
        metrics["spare_units"] = _r(spare, 0)
    impact = {
        "added_spend": _r(added),
        "uncapped_added_spend": _r(uncapped),
        "capped_by_stock": capped,
        "roas_of_added_spend": _r(before_factor / added),
        "incremental_revenue_before_factor": _r(before_factor),
        "diminishing_returns_factor": factor,
        "incremental_revenue": _r(after_factor),
        "diminishing_returns_effect": _r(after_factor - before_factor),
        "extra_units": _r(sum(h.extra_units for h in hits), 0),
    }
    ch = fmt.channel_name(row.channel)
    action = (f"Increase {ch} spend on {row.product_title}{_where(agg['regions'])} by {fmt.money(added, currency)} "
              f"({fmt.pct(metrics['change_pct'])}), from {fmt.money(spend, currency)} to "
              f"{fmt.money(spend + added, currency)} over {t.window_days} days")
    reason = (f"Strong ROAS ({fmt.multiple(agg['roas'])}) with healthy stock ({fmt.days(agg['doc'])} of cover) on only "
              f"{fmt.pct(metrics['spend_share_pct'])} of all ad spend")
    expected = (f"About {fmt.money(after_factor, currency)} incremental revenue: {fmt.money(before_factor, currency)} "
                f"at the current {fmt.multiple(impact['roas_of_added_spend'])} ROAS, times the {factor:g} "
                "diminishing-returns factor")
    if capped:
        expected += (f"; capped by stock ({fmt.units(spare)} spare over the next {t.horizon_days} days, "
                     f"the uncapped raise was {fmt.money(uncapped, currency)})")
    return Recommendation(
        type=INCREASE, brand_id=brand_id, product_id=row.product_id, product_title=row.product_title,
        channel=row.channel, region_code=",".join(agg["regions"]), currency=currency, current_spend=spend,
        recommended_change=added, new_spend=spend + added, impact_size=abs(added), metrics=metrics, impact=impact,
        action=action, reason=reason, expected_impact=expected,
        campaign_changes=spread_changes([(h.row.campaigns, h.change) for h in hits], t), regions=agg["regions"],
        breakdown=_breakdown(hits),
    )


def promotion(stock: StockPosition, brand_id: str, currency: str, t: RuleThresholds) -> Recommendation | None:
    """Rule 3: a product's stock covers more than the threshold → a limited-time discount or bundle.

    Args:
        stock: The product's stock across all locations, with its ad spend over the window.
        brand_id: The brand.
        currency: Store currency.
        t: Thresholds.

    Returns:
        The recommendation with the capital tied up in excess stock, or None.
    """
    available, velocity = stock.available_units, stock.velocity
    if available <= 0:
        return None
    doc = available / velocity if velocity > 0 else math.inf
    if doc <= t.promotion_cover_above_days:
        return None
    excess = available - velocity * t.promotion_cover_above_days
    tied = excess * stock.unit_cost
    regions = tuple(sorted({r for r in stock.region_codes if r}))
    metrics = {
        "days_of_cover": None if math.isinf(doc) else _r(doc, 1),
        "available_units": _r(available, 0),
        "velocity_per_day": _r(velocity, 2),
        "unit_cost": _r(stock.unit_cost),
        "excess_units": _r(excess, 0),
        "cover_threshold_days": t.promotion_cover_above_days,
        "ad_spend": _r(stock.ad_spend),
        "window_days": t.window_days,
    }
    impact = {"tied_capital": _r(tied), "excess_units": _r(excess, 0)}
    action = f"Launch a limited-time discount or bundle for {stock.product_title}"
    if math.isinf(doc):
        reason = (f"Overstock with no recent sales: {fmt.units(available)} in stock sell at {fmt.per_day(0.0)}, "
                  f"tying up {fmt.money(tied, currency)}")
    else:
        reason = (f"Overstock: {fmt.units(available)} in stock sell at {fmt.per_day(velocity)}, "
                  f"{fmt.days(doc)} of cover; {fmt.units(excess)} beyond {fmt.days(t.promotion_cover_above_days)} "
                  f"tie up {fmt.money(tied, currency)}")
    expected = f"Accelerate sell-through and free up to {fmt.money(tied, currency)} of tied capital"
    return Recommendation(
        type=PROMOTION, brand_id=brand_id, product_id=stock.product_id, product_title=stock.product_title,
        channel="", region_code="", currency=currency, current_spend=stock.ad_spend,
        recommended_change=0.0, new_spend=stock.ad_spend, impact_size=tied, metrics=metrics, impact=impact,
        action=action, reason=reason, expected_impact=expected, regions=regions,
    )


def apply_rules(
    rows: Sequence[PerformanceRow],
    brand_id: str,
    currency: str,
    t: RuleThresholds,
    product_stock: Sequence[StockPosition] = (),
) -> list[Recommendation]:
    """Every recommendation the three rules make (unscored, in a stable order).

    Args:
        rows: Product × channel × region rows over the window (rules 1 and 2).
        brand_id: The brand.
        currency: Store currency.
        t: Thresholds.
        product_stock: Each product's stock across all locations (rule 3).

    Returns:
        Recommendations of all three types: one per product × channel for rules 1 and 2.
    """
    ordered = sorted(rows, key=lambda r: (r.product_id, r.channel, r.region_code, r.location_id))
    reduces: dict[tuple[str, str], list[Hit]] = defaultdict(list)
    groups: dict[tuple[str, str], list[PerformanceRow]] = defaultdict(list)
    spare: dict[tuple[str, str], float] = {}
    for row in ordered:
        groups[(row.product_id, row.channel)].append(row)
        spare.setdefault(row.stock_key, row.available_units - row.velocity * t.horizon_days)
        hit = reduce_hit(row, t)
        if hit:
            reduces[(row.product_id, row.channel)].append(hit)
    judged = {k: judge_group(g) for k, g in groups.items() if k not in reduces}
    increases: dict[tuple[str, str], list[Hit]] = {}
    # the best returns get the spare stock first
    for k in sorted(judged, key=lambda k: (-judged[k].roas, k)):
        hits = increase_hits(judged[k], t, spare)
        if hits:
            increases[k] = hits
    out = [reduce_spend(reduces[k], brand_id, currency, t) for k in sorted(reduces)]
    out += [increase_spend(increases[k], brand_id, currency, t) for k in sorted(increases)]
    for stock in sorted(product_stock, key=lambda s: s.product_id):
        promo = promotion(stock, brand_id, currency, t)
        if promo:
            out.append(promo)
    return out
