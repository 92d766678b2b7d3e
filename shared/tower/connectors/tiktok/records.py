"""TikTok report and campaign payloads → the normalised ad records.

**Geography.** TikTok's reporting API gives geography only in ``AUDIENCE`` reports: by
``country_code`` (ISO alpha-2) and, in some combinations, by ``province_id`` (a TikTok location id,
which is a GeoNames id). Public connectors report province reports returning nothing at campaign
level for some accounts, so we treat the province as optional:

* per campaign × day × country, the **country** report row is the total;
* every **province** row that maps to a subdivision of that country keeps its own figures
  (``region_code`` = ISO 3166-2, ``region_name`` = TikTok's province id);
* whatever the country total holds beyond those rows (all of it when TikTok gave no provinces)
  becomes one row with ``region_code = ''`` and ``region_name = ''``: the data says "country only",
  and no region is guessed. Every metric is additive, so the rows sum to TikTok's country totals.

**Purchases.** ``complete_payment`` (the Complete Payment web event count) and
``total_complete_payment_rate`` (despite its name, TikTok's total Complete Payment *value*).
Metrics arrive as strings.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tower.connectors import geo
from tower.connectors.ads_records import (
    CampaignProductRecord,
    CampaignRecord,
    PerformanceRecord,
    decimal_of,
    destination_handles,
    shopify_product_from_item_id,
)

log = logging.getLogger(__name__)

PLATFORM = "tiktok"
PURCHASES_METRIC = "complete_payment"
PURCHASE_VALUE_METRIC = "total_complete_payment_rate"
REPORT_METRICS = ("campaign_name", "spend", "impressions", "clicks", PURCHASES_METRIC, PURCHASE_VALUE_METRIC)


@dataclass(frozen=True)
class ReportRow:
    """One report row reduced to what we keep."""

    campaign_id: str
    campaign_name: str | None
    stat_date: date
    geo: str  # country code or province id, as TikTok sent it
    spend: Decimal
    impressions: int
    clicks: int
    purchases: Decimal
    purchase_value: Decimal


def parse_report_row(row: Mapping[str, Any], geo_dimension: str) -> ReportRow:
    """One ``data.list`` item (``{"dimensions": {...}, "metrics": {...}}``) → :class:`ReportRow`.

    ``stat_time_day`` arrives as ``"YYYY-MM-DD 00:00:00"`` in the advertiser's timezone.

    Raises:
        ValueError: The row lacks ``campaign_id`` or ``stat_time_day`` (a lifetime or ad-level row).
    """
    dims = row.get("dimensions") or {}
    m = row.get("metrics") or {}
    missing = [k for k in ("campaign_id", "stat_time_day") if not dims.get(k)]
    if missing:
        raise ValueError(f"TikTok report row without {', '.join(missing)}: not a campaign × day row")
    return ReportRow(
        campaign_id=str(dims.get("campaign_id")),
        campaign_name=m.get("campaign_name"),
        stat_date=date.fromisoformat(str(dims["stat_time_day"])[:10]),
        geo=str(dims.get(geo_dimension) or ""),
        spend=decimal_of(m.get("spend")),
        impressions=int(decimal_of(m.get("impressions"))),
        clicks=int(decimal_of(m.get("clicks"))),
        purchases=decimal_of(m.get(PURCHASES_METRIC)),
        purchase_value=decimal_of(m.get(PURCHASE_VALUE_METRIC)),
    )


#: (spend, impressions, clicks, purchases, purchase value) of one record.
_Figures = tuple[Decimal, int, int, Decimal, Decimal]


def join_country_province(
    country_rows: Iterable[ReportRow], province_rows: Iterable[ReportRow], *, account_id: str, currency: str
) -> list[PerformanceRecord]:
    """The documented join (module docstring): country totals + optional provinces → records."""
    provinces: dict[tuple[str, date, str], list[tuple[str, ReportRow]]] = defaultdict(list)
    for p in province_rows:
        sub = geo.tiktok_region(p.geo)
        if sub is not None:
            provinces[(p.campaign_id, p.stat_date, sub.country_code)].append((sub.iso_code, p))
    out: list[PerformanceRecord] = []
    for c in sorted(country_rows, key=lambda r: (r.stat_date, r.campaign_id, r.geo)):
        parts = sorted(provinces.get((c.campaign_id, c.stat_date, c.geo.upper()), []), key=lambda t: t[0])
        for iso, p in parts:
            figures = (p.spend, p.impressions, p.clicks, p.purchases, p.purchase_value)
            out.append(_record(c, iso, p.geo, figures, account_id=account_id, currency=currency))
        rest: _Figures = (
            c.spend - sum((p.spend for _, p in parts), Decimal(0)),
            c.impressions - sum(p.impressions for _, p in parts),
            c.clicks - sum(p.clicks for _, p in parts),
            c.purchases - sum((p.purchases for _, p in parts), Decimal(0)),
            c.purchase_value - sum((p.purchase_value for _, p in parts), Decimal(0)),
        )
        if any(v < 0 for v in rest):
            # Provinces adding up to more than the country: kept (totals stay TikTok's), but said.
            log.warning("tiktok provinces exceed their country total", extra={
                "platform": PLATFORM, "campaign_id": c.campaign_id, "stat_date": c.stat_date.isoformat()})
        if any(rest) or not parts:
            out.append(_record(c, "", "", rest, account_id=account_id, currency=currency))
    return out


def _record(c: ReportRow, region: str, name: str, figures: _Figures, *, account_id: str,
            currency: str) -> PerformanceRecord:
    """A record of the country row ``c``, for one province (or, with ``region`` '', the country level)."""
    spend, impressions, clicks, purchases, value = figures
    return PerformanceRecord(
        platform=PLATFORM,
        account_id=account_id,
        campaign_id=c.campaign_id,
        campaign_name=c.campaign_name,
        stat_date=c.stat_date,
        country_code=c.geo.upper(),
        region_code=region,
        region_name=name,
        spend_amount=spend,
        impressions=impressions,
        clicks=clicks,
        purchases=float(purchases),
        purchase_value_amount=value,
        currency=currency,
    )


def campaign_record(
    row: Mapping[str, Any], *, account_id: str, currency: str, timezone: str
) -> CampaignRecord:
    """A ``campaign/get`` item → :class:`CampaignRecord`.

    ``budget`` is in major units; it is a daily budget only with ``BUDGET_MODE_DAY``.
    """
    daily = row.get("budget_mode") == "BUDGET_MODE_DAY"
    return CampaignRecord(
        platform=PLATFORM,
        account_id=account_id,
        campaign_id=str(row["campaign_id"]),
        campaign_name=row.get("campaign_name"),
        status=row.get("operation_status"),
        objective=row.get("objective_type"),
        daily_budget_amount=decimal_of(row.get("budget")).quantize(Decimal("0.01")) if daily else None,
        budget_id=str(row["campaign_id"]),
        currency=currency,
        account_timezone=timezone,
    )


def catalog_products(campaign_id: str, items: Iterable[Mapping[str, Any]]) -> list[CampaignProductRecord]:
    """A product set's catalog items → promoted Shopify products.

    Shopify's TikTok channel publishes ``sku_id`` as ``shopify_<COUNTRY>_<product>_<variant>`` and
    ``item_group_id`` as the product id; either identifies the Shopify product.
    """
    seen: dict[str, CampaignProductRecord] = {}
    for item in items:
        pid = shopify_product_from_item_id(str(item.get("sku_id") or ""))
        group = str(item.get("item_group_id") or "")
        if pid is None and group.isdigit():
            pid = f"gid://shopify/Product/{group}"
        if pid:
            seen.setdefault(pid, CampaignProductRecord(PLATFORM, campaign_id, pid, "product_set"))
    return list(seen.values())


def landing_page_handles(ads: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Ads' ``landing_page_url`` → the Shopify product handles each campaign links to."""
    return destination_handles((str(ad["campaign_id"]), str(ad.get("landing_page_url") or "")) for ad in ads)
