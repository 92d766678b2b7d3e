"""The TikTok streams, declared once, and the connector running them.

The product plan sketched ``report_type=BASIC`` with ``dimensions ["campaign_id", "country_code",
"province_name"]``. The real API does not accept that: geography lives in ``AUDIENCE`` reports
(TikTok's published OpenAPI description lists the report types and data levels; public connectors
use ``AUDIENCE`` + ``AUCTION_CAMPAIGN`` with ``["campaign_id", "stat_time_day", "country_code"]``,
and ``province_id``, not ``province_name``, for provinces). We follow the API.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from tower.connectors.ads_records import (
    AccountInfo,
    CampaignProductRecord,
    CampaignRecord,
    PerformanceRecord,
    add_products,
    mapping_read,
)
from tower.connectors.retry import FatalError, RetryPolicy
from tower.connectors.tiktok import records
from tower.connectors.tiktok.client import PLATFORM, TikTokClient

MAX_DAILY_SPAN_DAYS = 30  # TikTok refuses daily reports spanning more than 30 days


@dataclass(frozen=True)
class ReportStream:
    """A ``report/integrated/get`` query."""

    name: str
    report_type: str
    data_level: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]

    @property
    def geo_dimension(self) -> str:
        """The geography dimension of this report."""
        return self.dimensions[-1]

    def params(self, advertiser_id: str, start: date, end_inclusive: date) -> dict[str, Any]:
        """Query parameters (TikTok's ``start_date`` / ``end_date`` are inclusive, account-local)."""
        return {
            "advertiser_id": advertiser_id,
            "service_type": "AUCTION",
            "report_type": self.report_type,
            "data_level": self.data_level,
            "dimensions": list(self.dimensions),
            "metrics": list(self.metrics),
            "start_date": start.isoformat(),
            "end_date": end_inclusive.isoformat(),
        }


REPORT_BY_COUNTRY = ReportStream(
    "report_by_country",
    "AUDIENCE",
    "AUCTION_CAMPAIGN",
    ("campaign_id", "stat_time_day", "country_code"),
    records.REPORT_METRICS,
)
REPORT_BY_PROVINCE = ReportStream(
    "report_by_province",
    "AUDIENCE",
    "AUCTION_CAMPAIGN",
    ("campaign_id", "stat_time_day", "province_id"),
    records.REPORT_METRICS,
)
CAMPAIGN_FIELDS = (
    "campaign_id",
    "campaign_name",
    "budget",
    "budget_mode",
    "operation_status",
    "objective_type",
    "modify_time",
)
AD_FIELDS = ("ad_id", "campaign_id", "landing_page_url")
ADGROUP_FIELDS = ("adgroup_id", "campaign_id", "catalog_id", "product_set_id", "catalog_authorized_bc_id")


class TikTokConnector:
    """One TikTok advertiser through the Business API (the AdConnector shape)."""

    platform = PLATFORM

    def __init__(
        self,
        token: str,
        advertiser_id: str,
        *,
        origin: str,
        policy: RetryPolicy,
        page_size: int = 500,
    ) -> None:
        self.client = TikTokClient(token, origin=origin, policy=policy)
        self.account_id = str(advertiser_id)
        self.page_size = min(page_size, 1000)
        self._info: AccountInfo | None = None

    def account_info(self) -> AccountInfo:
        """Currency and timezone of the advertiser (``advertiser/info``)."""
        if self._info is None:
            data = self.client.get(
                "advertiser/info",
                {
                    "advertiser_ids": [self.account_id],
                    "fields": ["name", "currency", "timezone", "display_timezone"],
                },
            )
            items = data.get("list") or []
            if not items:
                raise FatalError(f"TikTok advertiser {self.account_id} not found", platform=PLATFORM)
            a = items[0]
            self._info = AccountInfo(
                self.account_id, a["currency"], a.get("display_timezone") or a["timezone"], a.get("name", "")
            )
        return self._info

    def campaigns(self) -> list[CampaignRecord]:
        """Every campaign with its daily budget (the products it promotes: :meth:`promoted_products`)."""
        info = self.account_info()
        return [
            records.campaign_record(item, account_id=self.account_id, currency=info.currency, timezone=info.timezone)
            for item in self.client.pages(
                "campaign/get", {"advertiser_id": self.account_id, "fields": list(CAMPAIGN_FIELDS)}, self.page_size
            )
        ]

    def promoted_products(self, campaign_ids: Collection[str]) -> dict[str, list[CampaignProductRecord]]:
        """The products each campaign promotes: catalog ad groups (``product_set_id`` → the set's catalog
        items) and ads' landing pages matched to Shopify product handles.

        Raises:
            MappingUnavailable: One of these reads failed (TikTok 40001 when the Business Center has not
                shared the catalog with the app, most often); nothing of the others is returned.
        """
        wanted = set(campaign_ids)
        found: dict[str, list[CampaignProductRecord]] = {}
        groups = mapping_read(PLATFORM, "ad groups (the product sets campaigns promote)", lambda: self.client.pages(
            "adgroup/get", {"advertiser_id": self.account_id, "fields": list(ADGROUP_FIELDS)}, self.page_size))
        for g in groups:
            cid = str(g.get("campaign_id"))
            if not g.get("product_set_id") or cid not in wanted:
                continue
            query = {"bc_id": g.get("catalog_authorized_bc_id"), "catalog_id": g.get("catalog_id"),
                     "product_set_id": g["product_set_id"]}
            items = mapping_read(
                PLATFORM, f"the products of product set {g['product_set_id']} (catalog {g.get('catalog_id')})",
                partial(self.client.pages, "catalog/set/product/get", query, self.page_size, key="products"))
            add_products(found, cid, records.catalog_products(cid, items))
        return found

    def destinations(self, campaign_ids: Collection[str]) -> dict[str, list[str]]:
        """The Shopify product handles each campaign's ads' landing pages name, as TikTok says them: the
        models match them to products, whichever of the Shopify and TikTok syncs ran first.

        Raises:
            MappingUnavailable: The ads read failed.
        """
        wanted = set(campaign_ids)
        ads = mapping_read(PLATFORM, "ads (their landing pages)", lambda: self.client.pages(
            "ad/get", {"advertiser_id": self.account_id, "fields": list(AD_FIELDS)}, self.page_size))
        return {cid: h for cid, h in records.landing_page_handles(ads).items() if cid in wanted}

    def _report(self, stream: ReportStream, start: date, end_inclusive: date) -> list[records.ReportRow]:
        rows: list[records.ReportRow] = []
        day = start
        while day <= end_inclusive:
            last = min(end_inclusive, day + timedelta(days=MAX_DAILY_SPAN_DAYS - 1))
            items = self.client.pages(
                "report/integrated/get", stream.params(self.account_id, day, last), self.page_size
            )
            rows.extend(records.parse_report_row(i, stream.geo_dimension) for i in items)
            day = last + timedelta(days=1)
        return rows

    def performance(
        self, start: date, end: date, state: dict[str, Any], save: Callable[[], None]
    ) -> list[PerformanceRecord]:
        """Normalised rows for ``[start, end)``: country totals, provinces where TikTok gives them."""
        info = self.account_info()
        until = end - timedelta(days=1)
        country = self._report(REPORT_BY_COUNTRY, start, until)
        province = self._report(REPORT_BY_PROVINCE, start, until)
        return records.join_country_province(
            country, province, account_id=self.account_id, currency=info.currency
        )

    # -- budgets -------------------------------------------------------------------------------
    def get_daily_budget(self, campaign_id: str) -> Decimal | None:
        """The campaign's daily budget (None unless ``BUDGET_MODE_DAY``)."""
        data = self.client.get(
            "campaign/get",
            {
                "advertiser_id": self.account_id,
                "filtering": {"campaign_ids": [campaign_id]},
                "fields": list(CAMPAIGN_FIELDS),
            },
        )
        items = data.get("list") or []
        if not items:
            raise FatalError(
                f"TikTok campaign {campaign_id} not found in advertiser {self.account_id}", platform=PLATFORM
            )
        info = self.account_info()
        return records.campaign_record(
            items[0], account_id=self.account_id, currency=info.currency, timezone=info.timezone
        ).daily_budget_amount

    def set_daily_budget(self, campaign_id: str, amount: Decimal) -> None:
        """``POST campaign/update/`` with ``budget`` in major units."""
        self.client.post(
            "campaign/update",
            {"advertiser_id": self.account_id, "campaign_id": campaign_id, "budget": float(amount)},
        )

    def close(self) -> None:
        """Release the HTTP session."""
        self.client.close()
