"""Reads the models into the pure core's inputs (:class:`~tower.decisions.inputs.BrandFacts`).

This is the I/O edge of ``decisions/``: SQL files under ``tower/sql/queries/decisions/`` (BigQuery
dialect, ``@params``), run on the warehouse port; everything after is pure.

Dates: the facts are as of the day before ``today`` (that day is complete; ``today`` is in progress)
or, when the models lag, the latest day the alignment model was built for within 30 days. Windows:

* rules: the alignment model's own window (``alignment_window_days``, 30 by default, the plan's "last
  30 days"), so a row's spend, ROAS and share are exactly the model's: its region-level spend share
  is the product's share of what the channel spends in that region ("of what TikTok spends in
  Texas, 35% pushes SKU-A"), the plan's spend share at the rules' grain.
* alerts: this week = the 7 days ending on the as-of day; trailing = the 4 weeks before (a setting);
  stock and its 7-day ad spend as of that day; spend anomalies over the lookback days.
* summary: the performance snapshots of the as-of day (7 days against the 7 before).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from tower import periods
from tower import sql as sqlfiles
from tower.brands import brand_row
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
from tower.decisions.thresholds import AlertThresholds

if TYPE_CHECKING:  # pragma: no cover
    from tower.config import Settings
    from tower.ports import Warehouse


def _q(name: str) -> str:
    return sqlfiles.load(f"queries/decisions/{name}.sql")


def as_of_date(warehouse: Warehouse, brand_id: str, today: date) -> date | None:
    """The day the facts are as of: the latest modelled day before ``today`` (None: no models yet)."""
    yesterday = periods.resolve("yesterday", today).start
    rows = warehouse.rows(_q("latest_as_of"), {"brand_id": brand_id, "as_of_date": yesterday})
    return rows[0]["as_of_date"] if rows and rows[0]["as_of_date"] else None


def _f(x: Any) -> float:
    return float(x) if x is not None else 0.0


def _opt(x: Any) -> float | None:
    return float(x) if x is not None else None


def store_to_account_rates(warehouse: Warehouse, store_currency: str, as_of: date) -> dict[str, float]:
    """Per account currency: how many units of it one store-currency unit buys (direct, inverted, crossed)."""
    rates: dict[tuple[str, str], float] = {
        (r["base_currency"], r["quote_currency"]): float(r["rate"])
        for r in warehouse.rows(_q("fx_latest"), {"as_of_date": as_of})
    }
    out: dict[str, float] = {store_currency: 1.0}
    currencies = {c for pair in rates for c in pair}
    for cur in currencies - {store_currency}:
        if (store_currency, cur) in rates:
            out[cur] = rates[(store_currency, cur)]
        elif (cur, store_currency) in rates:
            out[cur] = 1.0 / rates[(cur, store_currency)]
        else:
            for (base, quote), r in rates.items():
                if quote == store_currency and (base, cur) in rates:
                    out[cur] = rates[(base, cur)] / r
                    break
    return out


def _campaigns(rows: list[dict[str, Any]], fx: Mapping[str, float],
               key: Any) -> dict[Any, tuple[CampaignRef, ...]]:
    grouped: dict[Any, dict[tuple[str, str, str], CampaignRef]] = defaultdict(dict)
    for r in rows:
        k = key(r)
        ident = (r["channel"], r["account_id"] or "", r["campaign_id"])
        prev = grouped[k].get(ident)
        spend = _f(r["spend"]) + (prev.spend if prev else 0.0)
        grouped[k][ident] = CampaignRef(
            platform=r["channel"], account_id=r["account_id"] or "", campaign_id=r["campaign_id"],
            campaign_name=r["campaign_name"] or "", daily_budget=_opt(r["daily_budget"]),
            currency=r["account_currency"] or "", spend=spend,
            store_to_account_rate=fx.get(r["account_currency"] or "", 1.0),
        )
    return {k: tuple(v.values()) for k, v in grouped.items()}


def load_facts(
    warehouse: Warehouse,
    settings: Settings,
    brand_id: str,
    today: date,
    alert_thresholds: AlertThresholds | None = None,
) -> BrandFacts:
    """Everything the rules, alerts and summary context need for one brand, as of the day before today.

    Args:
        warehouse: Where the models are.
        settings: Attribution model and defaults.
        brand_id: The brand.
        today: The run's store-local date.
        alert_thresholds: For the trailing weeks and anomaly lookback (default from settings).

    Returns:
        The facts (empty lists when the models have not been built yet).

    Raises:
        tower.brands.UnknownBrand: No such brand.
    """
    brand = brand_row(warehouse, brand_id)
    currency = brand["currency"]
    t = alert_thresholds or AlertThresholds.from_settings(settings)
    as_of = as_of_date(warehouse, brand_id, today)
    if as_of is None:
        return BrandFacts(brand_id=brand_id, currency=currency, today=today, brand_name=brand["brand_name"])
    base = {"brand_id": brand_id, "as_of_date": as_of, "attribution_model": settings.attribution_model}
    fx = store_to_account_rates(warehouse, currency, as_of)

    rule_rows = warehouse.rows(_q("rule_rows"), {**base, "window_days": settings.alignment_window_days})
    window_days = int(rule_rows[0]["window_days"]) if rule_rows else settings.alignment_window_days
    performance, alignment = _performance(warehouse, base, fx, rule_rows, window_days)
    # the last 7 days of campaign spend: the stock positions' ad spend and the channel weeks' campaigns
    week = periods.week_to(as_of + timedelta(days=1))
    # campaign_spend reads (start_date, as_of_date]: the day before the week's first
    week_campaigns = warehouse.rows(_q("campaign_spend"), {**base, "start_date": week.start - timedelta(days=1)})
    spend_series = _series(
        warehouse.rows(_q("spend_series"), {**base, "start_date": as_of - timedelta(days=t.anomaly_lookback_days + 1)}),
        as_of,
    )
    blended, channel_periods, region_periods = _periods(warehouse, base)
    return BrandFacts(
        brand_id=brand_id, currency=currency, today=today, brand_name=brand["brand_name"],
        performance=performance, alignment=alignment,
        channel_weeks=_channel_weeks(warehouse, base, fx, week_campaigns, t.roas_trailing_weeks),
        stock=_stock_positions(warehouse, base, fx, week_campaigns),
        product_stock=_product_stock(warehouse, base), spend_series=spend_series, blended_period=blended,
        channel_periods=channel_periods, region_periods=region_periods,
        extra={"as_of_date": as_of.isoformat(), "window_days": window_days},
    )


def _performance(warehouse: Warehouse, base: Mapping[str, Any], fx: Mapping[str, float],
                 rule_rows: list[dict[str, Any]], window_days: int,
                 ) -> tuple[tuple[PerformanceRow, ...], tuple[AlignmentRow, ...]]:
    """The rules' rows (product × channel × region over the alignment window) and their alignment view."""
    window_campaigns = warehouse.rows(
        _q("campaign_spend"), {**base, "start_date": base["as_of_date"] - timedelta(days=window_days)})
    by_row = _campaigns(window_campaigns, fx,
                        lambda r: (r["product_id"], r["channel"], r["country_code"], r["region_code"]))
    performance = tuple(
        PerformanceRow(
            product_id=r["product_id"], product_title=r["product_title"], channel=r["channel"],
            region_code=r["region_code"], spend=_f(r["spend"]), revenue=_f(r["revenue"]),
            spend_share=_f(r["region_spend_share"]), days_of_cover=_opt(r["days_of_cover"]),
            available_units=_f(r["available_units"]), velocity=_f(r["velocity"]), unit_cost=_f(r["unit_cost"]),
            unit_price=_f(r["unit_price"]), location_id=r["location_id"], brand_spend=_f(r["brand_spend"]),
            campaigns=by_row.get((r["product_id"], r["channel"], r["country_code"], r["region_code"]), ()),
        )
        for r in rule_rows
    )
    alignment = tuple(
        AlignmentRow(
            product_id=p.product_id, product_title=p.product_title, channel=p.channel, region_code=p.region_code,
            spend=p.spend, spend_share=_f(r["region_spend_share"]), available_units=p.available_units,
            days_of_cover=p.days_of_cover, roas=p.roas, mismatch=r["mismatch_type"], campaigns=p.campaigns,
        )
        for p, r in zip(performance, rule_rows, strict=True)
    )
    return performance, alignment


def _product_stock(warehouse: Warehouse, base: Mapping[str, Any]) -> tuple[StockPosition, ...]:
    """Stock per product across its locations, with its ad spend."""
    return tuple(
        StockPosition(
            product_id=r["product_id"], product_title=r["product_title"], location_id="",
            region_codes=tuple(r["region_codes"] or ()), available_units=_f(r["available_units"]),
            velocity=_f(r["velocity"]), days_of_cover=_opt(r["days_of_cover"]), ad_spend=_f(r["ad_spend"]),
            unit_cost=_f(r["unit_cost"]),
        )
        for r in warehouse.rows(_q("product_stock"), base)
    )


def _stock_positions(warehouse: Warehouse, base: Mapping[str, Any], fx: Mapping[str, float],
                     week_campaigns: list[dict[str, Any]]) -> tuple[StockPosition, ...]:
    """Stock positions advertised in the last 7 days at their location (or at country level, no location)."""
    spend_at: dict[tuple[str, str], float] = defaultdict(float)
    regions_at: dict[tuple[str, str], set[str]] = defaultdict(set)
    channels_at: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in week_campaigns:
        if r["product_id"] is None:
            continue
        k = (r["product_id"], r["location_id"])
        spend_at[k] += _f(r["spend"])
        channels_at[k].add(r["channel"])
        if r["region_code"]:
            regions_at[k].add(r["region_code"])
    campaigns_at = _campaigns([r for r in week_campaigns if r["product_id"]], fx,
                              lambda r: (r["product_id"], r["location_id"]))
    stock = []
    for r in warehouse.rows(_q("stock_positions"), base):
        k = (r["product_id"], r["location_id"])
        country_level = (r["product_id"], "")  # spend of platforms that give no region reaches every location
        ad_spend = spend_at.get(k, 0.0) + spend_at.get(country_level, 0.0)
        if ad_spend <= 0:
            continue
        stock.append(StockPosition(
            product_id=r["product_id"], product_title=r["product_title"], location_id=r["location_id"],
            region_codes=tuple(sorted(regions_at.get(k, set()))), available_units=_f(r["available_units"]),
            velocity=_f(r["velocity"]), days_of_cover=_opt(r["days_of_cover"]), ad_spend=ad_spend,
            channels=tuple(sorted(channels_at.get(k, set()) | channels_at.get(country_level, set()))),
            campaigns=campaigns_at.get(k, ()) + campaigns_at.get(country_level, ()),
        ))
    return tuple(stock)


def _channel_weeks(warehouse: Warehouse, base: Mapping[str, Any], fx: Mapping[str, float],
                   week_campaigns: list[dict[str, Any]], trailing_weeks: int) -> tuple[ChannelWeek, ...]:
    """This week against the trailing weeks, per channel and per channel × region, with their campaigns."""
    week_by_channel = _campaigns(week_campaigns, fx, lambda r: (r["channel"], ""))
    week_by_region = _campaigns([r for r in week_campaigns if r["region_code"]], fx,
                                lambda r: (r["channel"], r["region_code"]))
    return tuple(
        ChannelWeek(
            channel=r["channel"], region_code=r["region_code"], spend=_f(r["spend"]), revenue=_f(r["revenue"]),
            trailing_spend=_f(r["trailing_spend"]), trailing_revenue=_f(r["trailing_revenue"]),
            orders=_opt(r["orders"]), trailing_orders=_opt(r["trailing_orders"]),
            campaigns=(week_by_channel if not r["region_code"] else week_by_region).get(
                (r["channel"], r["region_code"]), ()),
        )
        for r in warehouse.rows(_q("channel_weeks"), {**base, "trailing_weeks": trailing_weeks})
    )


def _periods(warehouse: Warehouse, base: Mapping[str, Any],
             ) -> tuple[PeriodRow | None, tuple[PeriodRow, ...], tuple[PeriodRow, ...]]:
    """The summary's 7 days against the 7 before: blended, per channel, per region."""
    blended = None
    channel_periods, region_periods = [], []
    for r in warehouse.rows(_q("period_rows"), base):
        row = PeriodRow(channel=r["channel"], region_code=r["region_code"], spend=_f(r["spend"]),
                        revenue=_f(r["revenue"]), prev_spend=_f(r["prev_spend"]), prev_revenue=_f(r["prev_revenue"]),
                        profit=_opt(r["profit"]), prev_profit=_opt(r["prev_profit"]))
        if r["scope"] == "blended":
            blended = row
        elif r["scope"] == "channel":
            channel_periods.append(row)
        else:
            region_periods.append(row)
    return blended, tuple(channel_periods), tuple(region_periods)


def _series(rows: list[dict[str, Any]], as_of: date) -> tuple[SpendSeries, ...]:
    """Daily spend per campaign from its first day in the lookback to the as-of day, missing days as 0."""
    by_campaign: dict[tuple[str, str, str], dict[date, float]] = defaultdict(dict)
    names: dict[tuple[str, str, str], str] = {}
    for r in rows:
        k = (r["channel"], r["account_id"] or "", r["campaign_id"])
        by_campaign[k][r["performance_date"]] = _f(r["spend"])
        names[k] = r["campaign_name"] or ""
    out = []
    for k in sorted(by_campaign):
        days = by_campaign[k]
        first = min(days)
        n = (as_of - first).days + 1
        daily = tuple((first + timedelta(days=i), days.get(first + timedelta(days=i), 0.0)) for i in range(n))
        out.append(SpendSeries(
            campaign=CampaignRef(platform=k[0], account_id=k[1], campaign_id=k[2], campaign_name=names[k]),
            channel=k[0], daily=daily,
        ))
    return tuple(out)

