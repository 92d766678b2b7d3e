"""Meta insights and campaign payloads → the normalised ad records.

**The purchase action type.** Meta reports one purchase under several overlapping action types
(``purchase``, ``omni_purchase``, ``offsite_conversion.fb_pixel_purchase``, ``onsite_web_purchase``,
``onsite_web_app_purchase``...); summing them counts one purchase four or five times (a known bug in
public connectors). We read **``omni_purchase``** only: it is Meta's own de-duplicated purchase count
across the pixel, the Conversions API, the app and on-Meta checkouts, and what Ads Manager shows as
"Purchases". Its value comes from ``action_values`` under the same type.

**The join of regions and countries.** ``breakdowns=region`` is a Meta "Type 1" breakdown: since
April 2021 it returns no off-Meta actions, so pixel purchases never appear on region rows, while
``breakdowns=country`` has them. So per campaign × day we pull:

1. spend, impressions and clicks by **region** (names such as "Texas", mapped to ISO 3166-2), and
2. spend, impressions, clicks, purchases and purchase value by **country**.

Then, per campaign × day × country (the country rows are the totals):

* every region row whose name maps to a subdivision of that country keeps its own spend,
  impressions and clicks;
* whatever the country total holds beyond those rows (Meta's "Unknown" region, names we cannot map)
  becomes one country-level row with ``region_code = ''``, so the rows always add up to Meta's
  country totals and nothing is guessed;
* the country's purchases and purchase value are **allocated to those rows in proportion to their
  spend** (impressions when the day had no spend; the country-level row when it had neither),
  by largest remainder in the value's smallest unit, so the allocated parts sum back to Meta's
  country figures exactly. Region-level purchases are therefore an estimate; the country totals
  (and everything summed above them) are exact.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from tower.connectors import geo
from tower.connectors.ads_records import (
    CampaignProductRecord,
    CampaignRecord,
    PerformanceRecord,
    decimal_of,
    destination_handles,
    from_minor_units,
    shopify_product_from_item_id,
)

log = logging.getLogger(__name__)

PLATFORM = "meta"
PURCHASE_ACTION_TYPE = "omni_purchase"
UNKNOWN_REGION = "Unknown"


@dataclass(frozen=True)
class GeoMetrics:
    """One insights row reduced to what we keep."""

    campaign_id: str
    campaign_name: str | None
    stat_date: date
    geo: str  # region name or country code, as Meta sent it
    spend: Decimal
    impressions: int
    clicks: int
    purchases: Decimal
    purchase_value: Decimal


def action_value(
    items: Iterable[Mapping[str, Any]] | None, action_type: str = PURCHASE_ACTION_TYPE
) -> Decimal:
    """The value of one action type in an ``actions`` / ``action_values`` list (0 when absent)."""
    for item in items or ():
        if item.get("action_type") == action_type:
            return decimal_of(item.get("value"))
    return Decimal(0)


def parse_insights_row(row: Mapping[str, Any], breakdown: str) -> GeoMetrics:
    """One raw insights row (``data[]`` item) → :class:`GeoMetrics`.

    Numbers arrive as strings (``"spend": "5339.5"`` in major units); ``date_start`` is the
    account-local day because ``time_increment=1``.

    Raises:
        ValueError: The row lacks ``campaign_id`` or ``date_start`` (we always ask for both).
    """
    missing = [k for k in ("campaign_id", "date_start") if not row.get(k)]
    if missing:
        raise ValueError(f"Meta insights row without {', '.join(missing)}: not a level=campaign daily row")
    return GeoMetrics(
        campaign_id=str(row["campaign_id"]),
        campaign_name=row.get("campaign_name"),
        stat_date=date.fromisoformat(row["date_start"]),
        geo=str(row.get(breakdown) or ""),
        spend=decimal_of(row.get("spend")),
        impressions=int(decimal_of(row.get("impressions"))),
        clicks=int(decimal_of(row.get("clicks"))),
        purchases=action_value(row.get("actions")),
        purchase_value=action_value(row.get("action_values")),
    )


def _quantum(value: Decimal, coarsest: int) -> Decimal:
    """The unit to allocate ``value`` in: its own finest digit, or ``10**coarsest`` if coarser."""
    exp = value.normalize().as_tuple().exponent if value else 0
    return Decimal(1).scaleb(min(int(exp) if isinstance(exp, int) else 0, coarsest))


def allocate(total: Decimal, weights: Sequence[Decimal], quantum: Decimal | None = None) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` so the parts sum to ``total`` exactly.

    Largest-remainder in units of ``quantum`` (default: the finest unit of ``total``, at least
    0.01). All-zero weights put everything on the last part.
    """
    if not weights:
        return []
    q = quantum or _quantum(total, -2)
    units = int((total / q).to_integral_value())
    wsum = sum(weights, Decimal(0))
    if wsum <= 0:
        return [Decimal(0)] * (len(weights) - 1) + [total]
    raw = [Decimal(units) * w / wsum for w in weights]
    floors = [int(r.to_integral_value(rounding=ROUND_FLOOR)) for r in raw]
    rest = units - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:rest]:
        floors[i] += 1
    parts = [Decimal(f) * q for f in floors]
    parts[-1] += total - sum(parts, Decimal(0))  # only non-zero if total is finer than q
    return parts


_Region = tuple[str, str, GeoMetrics]  # (ISO 3166-2 code, Meta's region name, the row)


def join_region_country(
    region_rows: Iterable[GeoMetrics],
    country_rows: Iterable[GeoMetrics],
    *,
    account_id: str,
    currency: str,
) -> list[PerformanceRecord]:
    """The documented join (module docstring): region rows + country totals → normalised records."""
    by_country: dict[tuple[str, date, str], list[_Region]] = defaultdict(list)
    for r in region_rows:
        sub = geo.meta_region(r.geo) if r.geo and r.geo != UNKNOWN_REGION else None
        if sub is not None:
            by_country[(r.campaign_id, r.stat_date, sub.country_code)].append((sub.iso_code, r.geo, r))
    out: list[PerformanceRecord] = []
    country_rows = list(country_rows)
    seen = {(c.campaign_id, c.stat_date, c.geo.upper()) for c in country_rows}
    for (cid, day, country), regions in sorted(by_country.items()):
        if (cid, day, country) in seen:
            continue
        # Region rows without a country total (Meta always sends one; be safe): keep them as they are.
        for iso, name, r in regions:
            out.append(PerformanceRecord(
                platform=PLATFORM, account_id=account_id, campaign_id=cid, campaign_name=r.campaign_name,
                stat_date=day, country_code=country, region_code=iso, region_name=name, spend_amount=r.spend,
                impressions=r.impressions, clicks=r.clicks, purchases=0.0, purchase_value_amount=Decimal(0),
                currency=currency,
            ))
    for c in sorted(country_rows, key=lambda x: (x.stat_date, x.campaign_id, x.geo)):
        regions = sorted(by_country.get((c.campaign_id, c.stat_date, c.geo.upper()), []), key=lambda t: t[0])
        out.extend(_country_records(c, regions, account_id=account_id, currency=currency))
    return out


def _country_records(c: GeoMetrics, regions: Sequence[_Region], *, account_id: str,
                     currency: str) -> list[PerformanceRecord]:
    """One country total's records: its mapped regions, the remainder at country level, purchases allocated."""
    parts: list[dict[str, Any]] = [
        {"region_code": iso, "region_name": name, "spend": r.spend, "impressions": r.impressions,
         "clicks": r.clicks}
        for iso, name, r in regions
    ]
    rest = {
        "region_code": "",
        "region_name": "",
        "spend": c.spend - sum((p["spend"] for p in parts), Decimal(0)),
        "impressions": c.impressions - sum(p["impressions"] for p in parts),
        "clicks": c.clicks - sum(p["clicks"] for p in parts),
    }
    if rest["spend"] < 0 or rest["impressions"] < 0 or rest["clicks"] < 0:
        # Regions adding up to more than the country: kept (totals stay Meta's), but said.
        log.warning("meta regions exceed their country total", extra={
            "platform": PLATFORM, "campaign_id": c.campaign_id, "stat_date": c.stat_date.isoformat()})
    has_rest = bool(rest["spend"] or rest["impressions"] or rest["clicks"]) or not parts
    if has_rest:
        parts.append(rest)
    weights = [p["spend"] for p in parts]
    if not any(weights):
        weights = [Decimal(p["impressions"]) for p in parts]
    if not any(weights) and not has_rest and (c.purchases or c.purchase_value):
        parts.append(rest)
        weights = [Decimal(0)] * (len(parts) - 1) + [Decimal(1)]
    purchases = allocate(c.purchases, weights, _quantum(c.purchases, 0))
    values = allocate(c.purchase_value, weights, _quantum(c.purchase_value, -2))
    return [
        PerformanceRecord(
            platform=PLATFORM, account_id=account_id, campaign_id=c.campaign_id, campaign_name=c.campaign_name,
            stat_date=c.stat_date, country_code=c.geo.upper(), region_code=p["region_code"],
            region_name=p["region_name"], spend_amount=p["spend"], impressions=p["impressions"],
            clicks=p["clicks"], purchases=float(n), purchase_value_amount=v, currency=currency,
        )
        for p, n, v in zip(parts, purchases, values, strict=True)
    ]


def campaign_record(
    row: Mapping[str, Any], *, account_id: str, currency: str, timezone: str
) -> CampaignRecord:
    """A ``/act_{id}/campaigns`` item → :class:`CampaignRecord` (``daily_budget`` is in minor units)."""
    budget = row.get("daily_budget")
    return CampaignRecord(
        platform=PLATFORM,
        account_id=account_id,
        campaign_id=str(row["id"]),
        campaign_name=row.get("name"),
        status=row.get("status"),
        objective=row.get("objective"),
        daily_budget_amount=from_minor_units(budget, currency) if budget not in (None, "", "0") else None,
        budget_id=str(row["id"]),
        currency=currency,
        account_timezone=timezone,
    )


def product_set_products(campaign_id: str, items: Iterable[Mapping[str, Any]]) -> list[CampaignProductRecord]:
    """Product-set items (``retailer_id`` = ``shopify_US_<product>_<variant>``) → promoted products."""
    seen: dict[str, CampaignProductRecord] = {}
    for item in items:
        pid = shopify_product_from_item_id(str(item.get("retailer_id") or ""))
        if pid:
            seen.setdefault(pid, CampaignProductRecord(PLATFORM, campaign_id, pid, "product_set"))
    return list(seen.values())


def destination_url_handles(ads: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Ads' creative link URLs → the Shopify product handles each campaign links to."""
    return destination_handles(
        (str(ad["campaign_id"]), str((ad.get("creative") or {}).get("link_url") or "")) for ad in ads
    )
