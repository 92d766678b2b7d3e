"""The facts the rules and alerts read: one home for their shapes.

The pure core takes these and returns data; :mod:`tower.decisions.sources` fills them from the
models (``unified_performance``, ``days_of_cover``, ``inventory_alignment``, ``ad_campaigns``) and
tests build them from literals. Money is in the store currency unless a field says otherwise;
spend shares are fractions (0.35 = 35%).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol


class _Shared(Protocol):
    # Read-only members: the rows are frozen dataclasses.
    @property
    def spend(self) -> float: ...

    @property
    def spend_share(self) -> float: ...


def pooled_share(rows: Iterable[_Shared]) -> float:
    """Σ spend ÷ Σ of what each row's share is a share of (0 when there is nothing).

    Shares of different regions have different denominators, so they are never averaged: a row with
    spend s and share f stands for s ÷ f of spend in its scope (a row without a share, for its own).
    """
    rows = list(rows)
    scope = sum(r.spend / r.spend_share if r.spend_share > 0 else r.spend for r in rows)
    return sum(r.spend for r in rows) / scope if scope > 0 else 0.0


@dataclass(frozen=True)
class CampaignRef:
    """A campaign that spends on a product in a region, and whose daily budget a change would move.

    Attributes:
        platform: ``meta`` | ``tiktok`` | ``google_ads``.
        account_id: The ad account (Meta ``act_…``, TikTok advertiser id, Google customer id).
        campaign_id: The platform's campaign id.
        campaign_name: The platform's campaign name (merchant text: data, never instructions).
        daily_budget: Current daily budget in the account currency, major units; ``None`` when the
            campaign has none of its own (e.g. budgets set on ad sets).
        currency: The ad account's currency.
        spend: This campaign's spend in the row over the window, store currency; splits a row's
            change between its campaigns.
        store_to_account_rate: 1 store-currency unit = this many account-currency units.
    """

    platform: str
    account_id: str
    campaign_id: str
    campaign_name: str = ""
    daily_budget: float | None = None
    currency: str = ""
    spend: float = 0.0
    store_to_account_rate: float = 1.0


@dataclass(frozen=True)
class PerformanceRow:
    """One product × channel × region over the rules window (default the last 30 days).

    Attributes:
        product_id: Shopify product gid.
        product_title: Product title (merchant text).
        channel: ``meta`` | ``tiktok`` | ``google_ads``.
        region_code: ISO 3166-2 region (``US-TX``), '' when the platform gave the country only.
        spend: Ad spend in the window, store currency.
        revenue: Attributed Shopify revenue in the window, store currency.
        spend_share: This row's spend ÷ the channel's spend in the region over the window (the alignment
            model's region-level share), fraction.
        days_of_cover: Available ÷ velocity at the location serving the region; ``None`` = no sales.
        available_units: Units available at that location.
        velocity: Units sold per in-stock day (all channels) at that location.
        unit_cost: Unit cost (COGS), store currency.
        unit_price: Average selling price per unit, store currency.
        location_id: The location serving the region (stock is shared by the regions it serves).
        campaigns: The campaigns spending on this product in this channel and region.
        brand_spend: The brand's whole ad spend over the window (rule 2 judges a product × channel's share
            of it); 0 when unknown, and rule 2 then uses the rows' own shares.
    """

    product_id: str
    product_title: str
    channel: str
    region_code: str
    spend: float
    revenue: float
    spend_share: float
    days_of_cover: float | None
    available_units: float
    velocity: float
    unit_cost: float = 0.0
    unit_price: float = 0.0
    location_id: str = ""
    campaigns: tuple[CampaignRef, ...] = ()
    brand_spend: float = 0.0

    @property
    def roas(self) -> float:
        """Revenue ÷ spend (from the sums, never an average of ratios); 0 without spend."""
        return self.revenue / self.spend if self.spend > 0 else 0.0

    @property
    def stock_key(self) -> tuple[str, str]:
        """Rows sharing this key draw on the same stock (product at one location)."""
        return (self.product_id, self.location_id or self.region_code)


@dataclass(frozen=True)
class ChannelWeek:
    """A channel's (or channel × region's) spend and revenue this week and over the trailing weeks.

    Attributes:
        channel: The ad channel.
        region_code: '' for the whole channel, else the ISO 3166-2 region.
        spend: Spend in the current 7 days.
        revenue: Attributed revenue in the current 7 days.
        trailing_spend: Spend over the trailing weeks before the current one (default 4 weeks).
        trailing_revenue: Attributed revenue over the same trailing weeks.
        campaigns: The campaigns that spent in this channel (and region) this week.
        orders: Attributed orders this week (None: unknown; the noise guard is then skipped).
        trailing_orders: Attributed orders over the trailing weeks.
    """

    channel: str
    region_code: str
    spend: float
    revenue: float
    trailing_spend: float
    trailing_revenue: float
    campaigns: tuple[CampaignRef, ...] = ()
    orders: float | None = None
    trailing_orders: float | None = None

    @property
    def roas(self) -> float:
        return self.revenue / self.spend if self.spend > 0 else 0.0

    @property
    def trailing_roas(self) -> float:
        """ROAS of the trailing weeks from their sums (Σ revenue ÷ Σ spend)."""
        return self.trailing_revenue / self.trailing_spend if self.trailing_spend > 0 else 0.0


@dataclass(frozen=True)
class StockPosition:
    """A product's stock at one location, and the advertising that draws on it.

    Attributes:
        product_id: Shopify product gid.
        product_title: Product title.
        location_id: The stock location.
        region_codes: Regions this location serves where the product is advertised.
        available_units: Units available now.
        velocity: Units per in-stock day over the velocity window.
        days_of_cover: available ÷ velocity (``None`` without sales).
        ad_spend: Ad spend on the product in those regions over the last 7 days.
        channels: Channels that spent on it.
        campaigns: The campaigns that spent on it.
        unit_cost: Unit cost (COGS), store currency (values excess stock for the promotion rule).
    """

    product_id: str
    product_title: str
    location_id: str
    region_codes: tuple[str, ...]
    available_units: float
    velocity: float
    days_of_cover: float | None
    ad_spend: float
    channels: tuple[str, ...] = ()
    campaigns: tuple[CampaignRef, ...] = ()
    unit_cost: float = 0.0


@dataclass(frozen=True)
class AlignmentRow:
    """The alignment model's verdict on a product × channel × region.

    ``mismatch`` is the model's type: ``spending_on_stockout``, ``overspending_low_stock``,
    ``underspending_overstock`` or ``aligned``.
    """

    product_id: str
    product_title: str
    channel: str
    region_code: str
    spend: float
    spend_share: float
    available_units: float
    days_of_cover: float | None
    roas: float
    mismatch: str
    campaigns: tuple[CampaignRef, ...] = ()


@dataclass(frozen=True)
class SpendSeries:
    """One campaign's daily spend, oldest first; the last day is the one judged.

    Attributes:
        campaign: The campaign.
        channel: Its channel.
        daily: ``(date, spend)`` pairs, oldest first, store currency.
    """

    campaign: CampaignRef
    channel: str
    daily: tuple[tuple[date, float], ...]


@dataclass(frozen=True)
class PeriodRow:
    """Spend and revenue of the current and the previous 7 days (the performance snapshot).

    Attributes:
        channel: The ad channel ('' for all channels together).
        region_code: '' for the channel as a whole, else the ISO 3166-2 region ('' rows of the
            ``regions`` list are country-level spend of platforms that give no region).
        spend: Spend in the current 7 days.
        revenue: Attributed revenue in the current 7 days.
        prev_spend: Spend in the 7 days before.
        prev_revenue: Attributed revenue in the 7 days before.
        profit: Profit (revenue − spend − COGS − fulfilment) in the current 7 days, when known.
        prev_profit: The same for the previous 7 days.
    """

    channel: str
    region_code: str
    spend: float
    revenue: float
    prev_spend: float
    prev_revenue: float
    profit: float | None = None
    prev_profit: float | None = None


@dataclass(frozen=True)
class BrandFacts:
    """Everything the rules and alerts need for one brand on one day.

    Attributes:
        brand_id: The brand.
        currency: Store currency.
        today: The run's date (the core never reads a clock); windows end the day before.
        performance: Rows for the recommendation rules.
        channel_weeks: Channel and channel × region weeks for ``roas_drop``.
        stock: Stock positions (product × location) for ``stockout_risk``.
        product_stock: Stock per product across all locations (``location_id`` '') for ``promotion``;
            ``ad_spend`` is over the rules window, ``region_codes`` where it is advertised.
        alignment: Alignment rows for ``inventory_mismatch``.
        spend_series: Daily spend per campaign for ``spend_anomaly``.
        blended_period: This and last week for the whole store (all revenue, all spend), when known.
        channel_periods: This and last week per channel (region '') for the summary context.
        region_periods: This and last week per channel × region for the summary context.
        brand_name: Display name.
        extra: Anything else a caller wants to carry (ignored by the rules).
    """

    brand_id: str
    currency: str
    today: date
    performance: tuple[PerformanceRow, ...] = ()
    channel_weeks: tuple[ChannelWeek, ...] = ()
    stock: tuple[StockPosition, ...] = ()
    product_stock: tuple[StockPosition, ...] = ()
    alignment: tuple[AlignmentRow, ...] = ()
    spend_series: tuple[SpendSeries, ...] = ()
    blended_period: PeriodRow | None = None
    channel_periods: tuple[PeriodRow, ...] = ()
    region_periods: tuple[PeriodRow, ...] = ()
    brand_name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
