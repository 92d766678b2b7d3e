"""The Google Ads streams: GAQL queries declared once, and the connector running them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from tower.connectors import geo
from tower.connectors.ads_records import (
    AccountInfo,
    CampaignProductRecord,
    CampaignRecord,
    PerformanceRecord,
    add_products,
    mapping_read,
    to_micros,
)
from tower.connectors.google_ads import records
from tower.connectors.google_ads.client import PLATFORM, GoogleAdsApiClient, RefreshGrant
from tower.connectors.retry import FatalError, RetryPolicy


@dataclass(frozen=True)
class GaqlStream:
    """One GAQL query; ``{start}`` / ``{end}`` are inclusive dates, ``{campaign_id}`` a filter."""

    name: str
    query: str

    def render(self, **values: Any) -> str:
        """The query with its parameters (dates, ids and lists of ids only, validated by their types)."""
        clean = {k: (v.isoformat() if isinstance(v, date)
                     else ", ".join(str(int(i)) for i in v) if isinstance(v, (list, tuple, set, frozenset))
                     else int(v)) for k, v in values.items()}
        return " ".join(self.query.format(**clean).split())


CUSTOMER = GaqlStream(
    "customer",
    """
    SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone FROM customer""",
)
CAMPAIGNS = GaqlStream(
    "campaigns",
    """
    SELECT campaign.id, campaign.name, campaign.status, campaign.advertising_channel_type, campaign.campaign_budget,
           campaign_budget.resource_name, campaign_budget.amount_micros, campaign_budget.explicitly_shared
    FROM campaign WHERE campaign.status != 'REMOVED'""",
)
CAMPAIGN_BUDGET = GaqlStream(
    "campaign_budget",
    """
    SELECT campaign.id, campaign_budget.resource_name, campaign_budget.amount_micros,
           campaign_budget.explicitly_shared
    FROM campaign WHERE campaign.id = {campaign_id}""",
)
PERFORMANCE = GaqlStream(
    "performance_by_user_location",
    """
    SELECT campaign.id, campaign.name, segments.date, user_location_view.country_criterion_id,
           segments.geo_target_region, metrics.cost_micros, metrics.impressions, metrics.clicks,
           metrics.conversions, metrics.conversions_value
    FROM user_location_view WHERE segments.date BETWEEN '{start}' AND '{end}'""",
)
SHOPPING_PRODUCTS = GaqlStream(
    "shopping_products",
    """
    SELECT campaign.id, segments.product_item_id, metrics.impressions
    FROM shopping_performance_view WHERE segments.date BETWEEN '{start}' AND '{end}'""",
)
#: click_view answers for one day per query, and only for days back to 90 days before the request: the
#: connector asks today and the 89 days before it (90 days counting today), never further.
CLICK_VIEW_DAYS = 90
CLICK_VIEW = GaqlStream(
    "click_view",
    """
    SELECT click_view.gclid, campaign.id, ad_group.id, segments.date
    FROM click_view WHERE segments.date = '{day}'""",
)
AD_FINAL_URLS = GaqlStream("ad_final_urls", "SELECT campaign.id, ad_group_ad.ad.final_urls FROM ad_group_ad")
GEO_TARGET_CONSTANTS = GaqlStream(
    "geo_target_constants",
    """
    SELECT geo_target_constant.id, geo_target_constant.name, geo_target_constant.canonical_name,
           geo_target_constant.country_code, geo_target_constant.target_type, geo_target_constant.status
    FROM geo_target_constant WHERE geo_target_constant.id IN ({ids})""",
)


class GoogleAdsConnector:
    """One Google Ads customer through the google-ads SDK (the AdConnector shape)."""

    platform = PLATFORM

    def __init__(
        self,
        token: str,
        customer_id: str,
        *,
        developer_token: str,
        login_customer_id: str | None,
        endpoint: str,
        version: str,
        policy: RetryPolicy,
        products_lookback_days: int = 30,
        refresh: RefreshGrant | None = None,
    ) -> None:
        """Open the customer's SDK client (no call is made until the first read).

        Nine parameters: the token and customer, the four facts the SDK needs to reach Google Ads
        (developer token, manager id, endpoint, API version) and the retry policy, then two keyword
        knobs with their defaults (the product lookback, and what refreshes the token).
        """
        self.client = GoogleAdsApiClient(
            token,
            developer_token=developer_token,
            login_customer_id=login_customer_id,
            endpoint=endpoint,
            version=version,
            policy=policy,
            refresh=refresh,
        )
        self.account_id = customer_id.replace("-", "")
        self.products_lookback_days = products_lookback_days
        self.today: date | None = None
        self._info: AccountInfo | None = None
        # Geo target constants known so far, by id: the shipped seed, plus what the loader cached from
        # earlier syncs; ids still unknown are asked of geo_target_constant and kept in `resolved`.
        self.geo_targets: dict[int, geo.GeoTarget] = dict(geo.seed_geo_targets())
        self.resolved: dict[int, geo.GeoTarget] = {}

    def account_info(self) -> AccountInfo:
        """Currency and timezone of the customer."""
        if self._info is None:
            rows = self.client.search(self.account_id, CUSTOMER.render())
            if not rows:
                raise FatalError(f"Google Ads customer {self.account_id} not found", platform=PLATFORM)
            c = rows[0].customer
            self._info = AccountInfo(self.account_id, c.currency_code, c.time_zone, c.descriptive_name)
        return self._info

    def campaigns(self) -> list[CampaignRecord]:
        """Every campaign with its budget (the products it promotes: :meth:`promoted_products`)."""
        info = self.account_info()
        return records.campaign_records(
            self.client.search(self.account_id, CAMPAIGNS.render()),
            account_id=self.account_id,
            currency=info.currency,
            timezone=info.timezone,
        )

    def promoted_products(self, campaign_ids: Collection[str]) -> dict[str, list[CampaignProductRecord]]:
        """The products each campaign promotes: Shopping items served over the lookback
        (``shopping_performance_view``), and ads' final URLs matched to Shopify handles (``ad_group_ad``).

        Raises:
            MappingUnavailable: One of these reads failed (``PERMISSION_DENIED``, as for a user without
                access to the Shopping data or an account type that has none); nothing of the other is
                returned.
        """
        wanted = set(campaign_ids)
        end = self.today or date.today()
        start = end - timedelta(days=self.products_lookback_days)
        shopping = mapping_read(PLATFORM, "shopping_performance_view (the Shopping items campaigns served)",
                                lambda: self.client.search(self.account_id,
                                                           SHOPPING_PRODUCTS.render(start=start, end=end)))
        found: dict[str, list[CampaignProductRecord]] = {}
        for cid, prods in records.shopping_products(shopping).items():
            if cid in wanted:
                add_products(found, cid, prods)
        return found

    def destinations(self, campaign_ids: Collection[str]) -> dict[str, list[str]]:
        """The Shopify product handles each campaign's ads' final URLs name, as Google says them: the
        models match them to products, whichever of the Shopify and Google Ads syncs ran first.

        Raises:
            MappingUnavailable: The ``ad_group_ad`` read failed.
        """
        wanted = set(campaign_ids)
        ads = mapping_read(PLATFORM, "ad_group_ad (the ads' final URLs)",
                           lambda: self.client.search(self.account_id, AD_FINAL_URLS.render()))
        return {cid: h for cid, h in records.final_url_handles(ads).items() if cid in wanted}

    def performance(
        self, start: date, end: date, state: dict[str, Any], save: Callable[[], None]
    ) -> list[PerformanceRecord]:
        """Normalised rows for ``[start, end)`` from ``user_location_view``."""
        info = self.account_info()
        rows = list(self.client.search(
            self.account_id, PERFORMANCE.render(start=start, end=end - timedelta(days=1))
        ))
        self.resolve_geo_targets(row.segments.geo_target_region for row in rows)
        return records.performance_records(rows, account_id=self.account_id, currency=info.currency,
                                           geo_targets=self.geo_targets)

    def resolve_geo_targets(self, resource_names: Iterable[str]) -> list[geo.GeoTarget]:
        """Ask ``geo_target_constant`` for the region ids not known yet (one query); what it answered.

        An id the API does not return stays unknown (its rows stay at country level) and is asked again
        by the next sync.
        """
        ids = {geo.google_criterion_id(r) for r in resource_names if r} - {None} - set(self.geo_targets)
        if not ids:
            return []
        found = records.geo_target_records(
            self.client.search(self.account_id, GEO_TARGET_CONSTANTS.render(ids=sorted(i for i in ids if i)))
        )
        for target in found:
            self.geo_targets[target.criterion_id] = target
            self.resolved[target.criterion_id] = target
        return found

    def click_views(self, start: date, end: date) -> list[records.ClickViewRecord]:
        """The clicks ``click_view`` reports for the days of ``[start, end)`` it still holds: one query per
        day (click_view answers one day at a time), from today back :data:`CLICK_VIEW_DAYS` days at most;
        earlier days are skipped, not asked (Google refuses them).

        Raises:
            MappingUnavailable: A click_view read failed (a user without access to it, retries run out):
                the spend is synced all the same, and orders' gclids fall back to the click-id rule.
        """
        today = self.today or date.today()
        day = max(start, today - timedelta(days=CLICK_VIEW_DAYS - 1))
        last = min(end, today + timedelta(days=1))
        found: list[records.ClickViewRecord] = []
        while day < last:
            rows = mapping_read(PLATFORM, "click_view (which campaign each gclid was on)",
                                partial(self.client.search, self.account_id, CLICK_VIEW.render(day=day)))
            found.extend(records.click_view_records(rows, account_id=self.account_id))
            day += timedelta(days=1)
        return found

    # -- budgets -------------------------------------------------------------------------------
    def _budget_row(self, campaign_id: str) -> Any:
        rows = self.client.search(self.account_id, CAMPAIGN_BUDGET.render(campaign_id=campaign_id))
        if not rows:
            raise FatalError(
                f"Google Ads campaign {campaign_id} not found in customer {self.account_id}",
                platform=PLATFORM,
            )
        return rows[0].campaign_budget

    def get_daily_budget(self, campaign_id: str) -> Decimal | None:
        """The campaign budget's daily amount in major units."""
        b = self._budget_row(campaign_id)
        return records.from_micros(b.amount_micros).quantize(Decimal("0.01")) if b.amount_micros else None

    def set_daily_budget(self, campaign_id: str, amount: Decimal) -> None:
        """``CampaignBudgetService.MutateCampaignBudgets`` with ``amount_micros``.

        A budget explicitly shared with other campaigns is refused: changing it would move the
        budget of campaigns nobody asked about.
        """
        b = self._budget_row(campaign_id)
        if b.explicitly_shared:
            raise FatalError(
                f"campaign {campaign_id} uses a shared budget ({b.resource_name}); change it in Google Ads",
                platform=PLATFORM,
            )
        operation = self.client.message("CampaignBudgetOperation")()
        operation.update.resource_name = b.resource_name
        operation.update.amount_micros = to_micros(amount)
        operation.update_mask.paths.append("amount_micros")
        service = self.client.service("CampaignBudgetService")
        self.client.call(
            lambda: service.mutate_campaign_budgets(customer_id=self.account_id, operations=[operation])
        )

    def close(self) -> None:
        """Close the channel."""
        self.client.close()
