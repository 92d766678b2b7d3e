"""The Meta streams: what we read from an ad account, declared once, and the connector running them.

* ``insights_by_region`` and ``insights_by_country``: ``/act_{id}/insights`` at ``level=campaign``,
  ``time_increment=1``; joined as documented in :mod:`tower.connectors.meta.records`.
* ``campaigns``: campaign metadata and budgets. ``adsets`` (their ``promoted_object.product_set_id``),
  the product set's ``products`` and ``ads`` (their creative's ``link_url``): which products each
  campaign promotes, read apart (:meth:`MetaConnector.promoted_products`) because a token may read
  spend without being allowed to read catalogs, and spend must not wait on them.

Short ranges use a synchronous insights call; ranges of ``meta_async_min_days`` days or more run
as an async report run (start → poll → page), with the run id kept in the chunk's checkpoint so a
sync cut off by a function timeout resumes polling the same run instead of starting another.
"""

from __future__ import annotations

import logging
import warnings
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
    Suspend,
    add_products,
    from_minor_units,
    mapping_read,
    to_minor_units,
)
from tower.connectors.meta import records
from tower.connectors.meta.client import PLATFORM, MetaClient, ReduceData
from tower.connectors.retry import FatalError, RetriableError, RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InsightsStream:
    """An insights query: one breakdown, the fields it needs."""

    name: str
    breakdown: str
    fields: tuple[str, ...]

    def params(self, since: date, until: date, page_size: int) -> dict[str, Any]:
        """The insights parameters for an inclusive day range (Meta's ``time_range`` is inclusive)."""
        return {
            "level": "campaign",
            "time_increment": 1,
            "time_range": {"since": since.isoformat(), "until": until.isoformat()},
            "breakdowns": [self.breakdown],
            "limit": page_size,
        }


@dataclass(frozen=True)
class EdgeStream:
    """A plain Graph edge read page by page."""

    name: str
    edge: str  # the Graph edge
    method: str  # the SDK's getter for it
    fields: tuple[str, ...]


INSIGHTS_BY_REGION = InsightsStream(
    "insights_by_region", "region", ("campaign_id", "campaign_name", "spend", "impressions", "clicks")
)
INSIGHTS_BY_COUNTRY = InsightsStream(
    "insights_by_country",
    "country",
    ("campaign_id", "campaign_name", "spend", "impressions", "clicks", "actions", "action_values"),
)
CAMPAIGNS = EdgeStream(
    "campaigns",
    "campaigns",
    "get_campaigns",
    ("id", "name", "status", "objective", "daily_budget", "updated_time"),
)
ADSETS = EdgeStream("adsets", "adsets", "get_ad_sets", ("id", "campaign_id", "promoted_object"))
ADS = EdgeStream("ads", "ads", "get_ads", ("id", "campaign_id", "creative{link_url}"))
PRODUCT_SET_PRODUCTS = EdgeStream("product_set_products", "products", "get_products", ("id", "retailer_id"))

ASYNC_DONE = "Job Completed"
ASYNC_FAILED = ("Job Failed", "Job Skipped")
MAX_POLLS = 720


def report_run_id(run: Any) -> str:
    """The id of an async report run from the SDK object ``POST /act_{id}/insights`` returned."""
    data = run.export_all_data() if hasattr(run, "export_all_data") else dict(run)
    value = data.get("report_run_id") or data.get("id")
    if not value:
        raise RetriableError("Meta started a report run without an id", platform=PLATFORM)
    return str(value)


class MetaConnector:
    """One Meta ad account through the facebook-business SDK (the AdConnector shape)."""

    platform = PLATFORM

    def __init__(
        self,
        token: str,
        account_id: str,
        *,
        origin: str,
        api_version: str,
        policy: RetryPolicy,
        page_size: int = 500,
        async_min_days: int = 8,
        poll_seconds: float = 2.0,
        usage_threshold_pct: float = 75.0,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> None:
        """Open the account's SDK session (no call is made until the first read).

        Ten parameters: the token and account, the platform's address, API version and retry policy
        the loader reads from the settings, then keyword knobs each with its default (paging, the async
        report threshold and polling, the usage pause, the sync's time budget).
        """
        self.client = MetaClient(
            token,
            account_id,
            origin=origin,
            api_version=api_version,
            policy=policy,
            usage_threshold_pct=usage_threshold_pct,
        )
        self.account_id = self.client.account_id
        self.page_size = page_size
        self.async_min_days = async_min_days
        self.poll_seconds = poll_seconds
        self.out_of_time = out_of_time
        self._info: AccountInfo | None = None

    # -- account and campaigns -----------------------------------------------------------------
    def _account(self) -> Any:
        from facebook_business.adobjects.adaccount import AdAccount

        return AdAccount(self.client.node, api=self.client.api)

    def account_info(self) -> AccountInfo:
        """The account's currency and timezone (``GET /act_{id}``)."""
        if self._info is None:
            data = self.client.call(
                lambda: self._account().api_get(fields=["account_id", "name", "currency", "timezone_name"])
            ).export_all_data()
            self._info = AccountInfo(
                self.account_id, data["currency"], data["timezone_name"], data.get("name", "")
            )
        return self._info

    def _edge(self, stream: EdgeStream, node: Any) -> list[dict[str, Any]]:
        getter = getattr(node, stream.method)

        def first_page() -> Any:
            with warnings.catch_warnings():
                # Graph field expansion (``creative{link_url}``) is valid; the SDK's field list
                # does not know the syntax and warns.
                warnings.filterwarnings("ignore", message=".*does not allow field.*")
                return getter(fields=list(stream.fields), params={"limit": self.page_size})

        return self.client.pages(first_page)

    def campaigns(self) -> list[CampaignRecord]:
        """Every campaign with its daily budget (the products it promotes: :meth:`promoted_products`)."""
        info = self.account_info()
        return [
            records.campaign_record(r, account_id=self.account_id, currency=info.currency, timezone=info.timezone)
            for r in self._edge(CAMPAIGNS, self._account())
        ]

    def promoted_products(self, campaign_ids: Collection[str]) -> dict[str, list[CampaignProductRecord]]:
        """The products each campaign promotes where Meta says so: its ad sets' product sets, and its
        ads' destination URLs matched to Shopify handles.

        Raises:
            MappingUnavailable: One of these reads failed (a permission the token lacks, most often
                ``catalog_management`` for a product set's items); nothing of the others is returned,
                since a campaign's products half read would put its spend on the wrong ones.
        """
        from facebook_business.adobjects.productset import ProductSet

        account = self._account()
        wanted = set(campaign_ids)
        found: dict[str, list[CampaignProductRecord]] = {}
        adsets = mapping_read(PLATFORM, "ad sets (the product sets campaigns promote)",
                              lambda: self._edge(ADSETS, account))
        for adset in adsets:
            set_id = (adset.get("promoted_object") or {}).get("product_set_id")
            cid = str(adset.get("campaign_id"))
            if set_id and cid in wanted:
                product_set = ProductSet(str(set_id), api=self.client.api)
                items = mapping_read(PLATFORM, f"the products of product set {set_id}",
                                     partial(self._edge, PRODUCT_SET_PRODUCTS, product_set))
                add_products(found, cid, records.product_set_products(cid, items))
        return found

    def destinations(self, campaign_ids: Collection[str]) -> dict[str, list[str]]:
        """The Shopify product handles each campaign's ads link to (their destination URLs), as Meta says
        them: the models match them to products, whichever of the Shopify and Meta syncs ran first.

        Raises:
            MappingUnavailable: The ads read failed.
        """
        wanted = set(campaign_ids)
        ads = mapping_read(PLATFORM, "ads (their destination URLs)", lambda: self._edge(ADS, self._account()))
        return {cid: h for cid, h in records.destination_url_handles(ads).items() if cid in wanted}

    # -- performance -----------------------------------------------------------------------------
    def performance(
        self, start: date, end: date, state: dict[str, Any], save: Callable[[], None]
    ) -> list[PerformanceRecord]:
        """Normalised rows for the half-open window ``[start, end)``.

        ``state`` is this window's checkpoint (async report run ids); ``save`` persists it.
        """
        info = self.account_info()
        until = end - timedelta(days=1)
        region = self._insights(INSIGHTS_BY_REGION, start, until, state, save)
        country = self._insights(INSIGHTS_BY_COUNTRY, start, until, state, save)
        return records.join_region_country(
            (records.parse_insights_row(r, "region") for r in region),
            (records.parse_insights_row(r, "country") for r in country),
            account_id=self.account_id,
            currency=info.currency,
        )

    def _insights(
        self,
        stream: InsightsStream,
        since: date,
        until: date,
        state: dict[str, Any],
        save: Callable[[], None],
    ) -> list[dict[str, Any]]:
        try:
            if (until - since).days + 1 >= self.async_min_days:
                return self._insights_async(stream, since, until, state, save)
            return self._insights_sync(stream, since, until)
        except ReduceData:
            if since >= until:
                raise FatalError(
                    f"Meta asks to reduce the data even for one day ({since})", platform=PLATFORM, code=1
                ) from None
            # Meta error 1: split the range in two and ask for each half.
            mid = since + timedelta(days=(until - since).days // 2)
            log.info("meta insights range split in two", extra={
                "platform": PLATFORM, "stream": stream.name, "since": since.isoformat(), "until": until.isoformat()})
            return self._insights(stream, since, mid, state, save) + self._insights(
                stream, mid + timedelta(days=1), until, state, save
            )

    def _insights_sync(self, stream: InsightsStream, since: date, until: date) -> list[dict[str, Any]]:
        account = self._account()
        params = stream.params(since, until, self.page_size)
        return self.client.pages(lambda: account.get_insights(fields=list(stream.fields), params=params))

    def _insights_async(
        self,
        stream: InsightsStream,
        since: date,
        until: date,
        state: dict[str, Any],
        save: Callable[[], None],
    ) -> list[dict[str, Any]]:
        key = f"{stream.name}:{since.isoformat()}:{until.isoformat()}"
        runs = state.setdefault("report_runs", {})
        for _restart in range(3):
            run_id = runs.get(key)
            if not run_id:
                run_id = runs[key] = self._start_run(stream, since, until)
                save()  # the run id survives a timeout: the next call polls this run
            status = self._poll(run_id)
            if status == ASYNC_DONE:
                rows = self._run_rows(run_id)
                runs.pop(key, None)
                save()
                return rows
            # A failed or skipped run: start a fresh one.
            log.warning("meta report run failed; starting another", extra={
                "platform": PLATFORM, "status": status, "stream": stream.name})
            runs.pop(key, None)
            save()
        raise RetriableError(
            f"Meta report runs for {stream.name} {since}..{until} kept failing",
            platform=PLATFORM,
            kind="transient",
        )

    def _start_run(self, stream: InsightsStream, since: date, until: date) -> str:
        """``POST /act_{id}/insights`` → the report run's id."""
        account = self._account()
        params = stream.params(since, until, self.page_size)
        run = self.client.call(
            lambda: account.get_insights(fields=list(stream.fields), params=params, is_async=True)
        )
        return report_run_id(run)

    def _run_rows(self, run_id: str) -> list[dict[str, Any]]:
        """Every row of a completed report run (``GET /{report_run_id}/insights``, paged)."""
        from facebook_business.adobjects.adreportrun import AdReportRun

        report = AdReportRun(run_id, api=self.client.api)
        return self.client.pages(lambda: report.get_insights(params={"limit": self.page_size}))

    def _poll(self, run_id: str) -> str:
        from facebook_business.adobjects.adreportrun import AdReportRun

        run = AdReportRun(run_id, api=self.client.api)
        for _ in range(MAX_POLLS):
            data = self.client.call(
                lambda: run.api_get(fields=["async_status", "async_percent_completion"])
            ).export_all_data()
            status = str(data.get("async_status"))
            if status == ASYNC_DONE or status in ASYNC_FAILED:
                return status
            if self.out_of_time():
                raise Suspend(f"report run {run_id} still {status}")
            self.client.sleep(self.poll_seconds)
        raise RetriableError(f"Meta report run {run_id} did not finish", platform=PLATFORM)

    # -- budgets -------------------------------------------------------------------------------
    def get_daily_budget(self, campaign_id: str) -> Decimal | None:
        """The campaign's daily budget in major units (None when it has ad set budgets)."""
        from facebook_business.adobjects.campaign import Campaign

        info = self.account_info()
        data = self.client.call(
            lambda: Campaign(campaign_id, api=self.client.api).api_get(fields=["daily_budget", "account_id"])
        ).export_all_data()
        if str(data.get("account_id", self.account_id)) != self.account_id:
            raise FatalError(
                f"campaign {campaign_id} is not in ad account {self.account_id}", platform=PLATFORM
            )
        raw = data.get("daily_budget")
        return from_minor_units(raw, info.currency) if raw not in (None, "", "0") else None

    def set_daily_budget(self, campaign_id: str, amount: Decimal) -> None:
        """``POST /{campaign_id}`` with ``daily_budget`` in minor units of the account currency."""
        from facebook_business.adobjects.campaign import Campaign

        minor = to_minor_units(amount, self.account_info().currency)
        self.client.call(
            lambda: Campaign(campaign_id, api=self.client.api).api_update(params={"daily_budget": minor})
        )

    def close(self) -> None:
        """Release the HTTP session."""
        self.client.api._session.requests.close()
