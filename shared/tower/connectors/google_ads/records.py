"""Google Ads rows (raw ``GoogleAdsRow`` protobufs) → the normalised ad records.

* Money arrives in micros: ``cost_micros`` and ``campaign_budget.amount_micros`` ÷ 1,000,000.
  ``conversions`` and ``conversions_value`` are doubles in the account currency.
* Geography comes from ``user_location_view`` (where the users physically were, which is what
  orders ship to): ``user_location_view.country_criterion_id`` (2840 = US) and
  ``segments.geo_target_region`` (``geoTargetConstants/21176`` = Texas, ``…/20121`` = Ontario),
  mapped through the geo target constants the connector knows (the shipped seed, the warehouse's
  cache, and what it asked the API's ``geo_target_constant`` for); an empty region means Google
  could not place it, kept as ``region_code = ''``.
* Google splits one location's traffic over several rows (``targeting_location`` true / false);
  rows with the same campaign × day × country × region are summed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tower.connectors import geo
from tower.connectors.ads_records import (
    CampaignProductRecord,
    CampaignRecord,
    PerformanceRecord,
    destination_handles,
    from_micros,
    shopify_product_from_item_id,
)

PLATFORM = "google_ads"


def _enum_name(msg: Any, field: str) -> str:
    value = getattr(msg, field)
    return msg.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[value].name


def _float_decimal(v: float) -> Decimal:
    """A double as the shortest decimal that round-trips (12.3 → Decimal('12.3'), not 12.29999…)."""
    return Decimal(repr(float(v))) if v else Decimal(0)


def performance_records(rows: Iterable[Any], *, account_id: str, currency: str,
                        geo_targets: Mapping[int, geo.GeoTarget] | None = None) -> list[PerformanceRecord]:
    """``user_location_view`` rows → records, summed per campaign × day × country × region.

    ``geo_targets`` are the geo target constants known so far (default: the shipped seed); a region id
    not among them, or one that is no subdivision we map, stays at country level.
    """
    targets = geo.seed_geo_targets() if geo_targets is None else geo_targets
    acc: dict[tuple[str, date, str, str], dict[str, Any]] = {}
    for row in rows:
        country = geo.google_country_code(row.user_location_view.country_criterion_id)
        if country is None:
            country = "ZZ"  # a country our table does not know: kept, never dropped
        region_res = row.segments.geo_target_region
        cid = geo.google_criterion_id(region_res) if region_res else None
        target = targets.get(cid) if cid is not None else None
        iso = target.iso_3166_2 if target is not None else None
        region = iso if iso and geo.region_country(iso) == country else ""
        key = (str(row.campaign.id), date.fromisoformat(row.segments.date), country, region)
        a = acc.setdefault(
            key,
            {
                "name": row.campaign.name,
                "region_name": region_res if region else "",
                "cost": 0,
                "impressions": 0,
                "clicks": 0,
                "conversions": Decimal(0),
                "value": Decimal(0),
            },
        )
        a["cost"] += row.metrics.cost_micros
        a["impressions"] += row.metrics.impressions
        a["clicks"] += row.metrics.clicks
        a["conversions"] += _float_decimal(row.metrics.conversions)
        a["value"] += _float_decimal(row.metrics.conversions_value)
    return [
        PerformanceRecord(
            platform=PLATFORM,
            account_id=account_id,
            campaign_id=cid,
            campaign_name=a["name"],
            stat_date=d,
            country_code=country,
            region_code=region,
            region_name=a["region_name"],
            spend_amount=from_micros(a["cost"]),
            impressions=a["impressions"],
            clicks=a["clicks"],
            purchases=float(a["conversions"]),
            purchase_value_amount=a["value"],
            currency=currency,
        )
        for (cid, d, country, region), a in sorted(acc.items())
    ]


def geo_target_records(rows: Iterable[Any]) -> list[geo.GeoTarget]:
    """``geo_target_constant`` rows → geo targets (``target_type`` is a string; ``status`` an enum)."""
    return [
        geo.GeoTarget(int(r.geo_target_constant.id), r.geo_target_constant.name,
                      r.geo_target_constant.canonical_name, r.geo_target_constant.country_code,
                      r.geo_target_constant.target_type, _enum_name(r.geo_target_constant, "status"))
        for r in rows
    ]


def campaign_records(
    rows: Iterable[Any], *, account_id: str, currency: str, timezone: str
) -> list[CampaignRecord]:
    """``campaign`` rows (with ``campaign_budget``) → records; objective = advertising channel type."""
    out = []
    for row in rows:
        c, b = row.campaign, row.campaign_budget
        out.append(
            CampaignRecord(
                platform=PLATFORM,
                account_id=account_id,
                campaign_id=str(c.id),
                campaign_name=c.name,
                status=_enum_name(c, "status"),
                objective=_enum_name(c, "advertising_channel_type"),
                daily_budget_amount=from_micros(b.amount_micros).quantize(Decimal("0.01"))
                if b.amount_micros
                else None,
                budget_id=b.resource_name or c.campaign_budget or None,
                currency=currency,
                account_timezone=timezone,
            )
        )
    return out


def shopping_products(rows: Iterable[Any]) -> dict[str, list[CampaignProductRecord]]:
    """``shopping_performance_view`` rows: ``segments.product_item_id`` → promoted Shopify products."""
    out: dict[str, dict[str, CampaignProductRecord]] = {}
    for row in rows:
        pid = shopify_product_from_item_id(row.segments.product_item_id)
        if pid:
            cid = str(row.campaign.id)
            out.setdefault(cid, {}).setdefault(
                pid, CampaignProductRecord(PLATFORM, cid, pid, "shopping_item")
            )
    return {cid: list(v.values()) for cid, v in out.items()}


def final_url_handles(rows: Iterable[Any]) -> dict[str, list[str]]:
    """``ad_group_ad.ad.final_urls`` → the Shopify product handles each campaign links to."""
    return destination_handles(
        (str(row.campaign.id), str(url)) for row in rows for url in row.ad_group_ad.ad.final_urls
    )


@dataclass(frozen=True)
class ClickViewRecord:
    """One click Google's ``click_view`` reported: which campaign (and ad group) the gclid was on."""

    gclid: str
    account_id: str
    campaign_id: str
    ad_group_id: str | None
    click_date: date

    def row(self, brand_id: str, now: datetime) -> dict[str, object]:
        """A ``google_click_views`` row."""
        return {"brand_id": brand_id, "gclid": self.gclid, "account_id": self.account_id,
                "campaign_id": self.campaign_id, "ad_group_id": self.ad_group_id, "click_date": self.click_date,
                "synced_at": now}


def click_view_records(rows: Iterable[Any], *, account_id: str) -> list[ClickViewRecord]:
    """``click_view`` rows → one record per gclid (a row without a gclid, as App campaigns give, is skipped)."""
    out: dict[str, ClickViewRecord] = {}
    for row in rows:
        gclid = row.click_view.gclid
        if not gclid:
            continue
        out[gclid] = ClickViewRecord(gclid, account_id, str(row.campaign.id),
                                     str(row.ad_group.id) if row.ad_group.id else None,
                                     date.fromisoformat(row.segments.date))
    return list(out.values())
