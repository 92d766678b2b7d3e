"""The three ad connectors behind one protocol: open the platform's connector for one account by name.

Meta, TikTok and Google Ads each have a connector in their package (``streams.py``) with the same
methods (:class:`AdConnector`); :func:`open_connector` picks one. Each connector's client imports its
SDK when it is opened, not before, so a function that syncs Meta never imports the Google Ads SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from tower.config import Settings
from tower.connectors.ads_records import AccountInfo, CampaignProductRecord, CampaignRecord, PerformanceRecord
from tower.connectors.google_ads.client import RefreshGrant
from tower.connectors.google_ads.streams import GoogleAdsConnector
from tower.connectors.meta.streams import MetaConnector
from tower.connectors.retry import RetryPolicy
from tower.connectors.tiktok.streams import TikTokConnector
from tower.names import AD_PLATFORMS


class AdSyncUsageError(ValueError):
    """Bad input to an ad connector, sync or connect (unknown platform, empty token, brand not connected...)."""


class AdConnector(Protocol):
    """What the sync and the budget write path need of a platform connector (all three have it)."""

    platform: str
    account_id: str

    def account_info(self) -> AccountInfo:
        """Currency and timezone of the account."""

    def campaigns(self) -> list[CampaignRecord]:
        """Every campaign with its budget (no products: those come from :meth:`promoted_products`)."""

    def promoted_products(self, campaign_ids: Collection[str]) -> dict[str, list[CampaignProductRecord]]:
        """The products each of these campaigns promotes, where the platform says (by campaign id).

        Raises:
            tower.connectors.ads_records.MappingUnavailable: A mapping read failed; the sync goes on
                without the mapping.
        """

    def destinations(self, campaign_ids: Collection[str]) -> dict[str, list[str]]:
        """The Shopify product handles each campaign's ads link to, as the platform says them (the
        models match them to products at build time, so the order of the syncs does not matter).

        Raises:
            tower.connectors.ads_records.MappingUnavailable: The ads read failed.
        """

    def performance(
        self, start: date, end: date, state: dict[str, Any], save: Callable[[], None]
    ) -> list[PerformanceRecord]:
        """Normalised rows for ``[start, end)``; ``state`` is resumable, ``save`` persists it."""

    def get_daily_budget(self, campaign_id: str) -> Any:
        """The campaign's daily budget in major units (None when it has none)."""

    def set_daily_budget(self, campaign_id: str, amount: Any) -> None:
        """Set the campaign's daily budget (major units)."""

    def close(self) -> None:
        """Release sessions and channels."""


@dataclass(frozen=True)
class AdAccountAccess:
    """What opens one ad account: the platform, the account and its credentials.

    Attributes:
        login_customer_id: Google Ads: the manager account the token signs in through.
        developer_token: Google Ads: the developer token every request carries.
    """

    platform: str
    account_id: str
    token: str = field(repr=False)
    login_customer_id: str | None = None
    developer_token: str = field(default="", repr=False)
    #: Google Ads connected by OAuth: what refreshes the token (None: a pasted token, used as it is).
    refresh: RefreshGrant | None = None


def check_platform(platform: str) -> str:
    """The platform name, or a clear error.

    Raises:
        AdSyncUsageError: Not one of Meta, TikTok, Google Ads.
    """
    if platform not in AD_PLATFORMS:
        raise AdSyncUsageError(f"unknown ad platform {platform!r}; one of {', '.join(AD_PLATFORMS)}")
    return platform


def normalise_account_id(platform: str, account_id: str) -> str:
    """Account ids as stored: Meta without ``act_``, Google without dashes."""
    account_id = account_id.strip()
    if platform == "meta":
        return account_id.removeprefix("act_")
    if platform == "google_ads":
        return account_id.replace("-", "")
    return account_id


def open_connector(
    access: AdAccountAccess,
    settings: Settings,
    policy: RetryPolicy,
    *,
    out_of_time: Callable[[], bool] = lambda: False,
) -> AdConnector:
    """The platform's connector for one account (its SDK is imported here, not before).

    Args:
        access: The platform, the account and its credentials.
        settings: The platforms' origins, versions and page sizes.
        policy: The retry policy of every call.
        out_of_time: Meta: whether the sync's deadline has passed (a report run is left to resume).

    Raises:
        AdSyncUsageError: Unknown platform.
    """
    check_platform(access.platform)
    if access.platform == "meta":
        return MetaConnector(
            access.token,
            access.account_id,
            origin=settings.meta_api_origin,
            api_version=settings.meta_api_version,
            policy=policy,
            page_size=settings.ads_page_size,
            async_min_days=settings.meta_async_min_days,
            poll_seconds=settings.meta_async_poll_seconds,
            usage_threshold_pct=settings.meta_usage_threshold_pct,
            out_of_time=out_of_time,
        )
    if access.platform == "tiktok":
        return TikTokConnector(
            access.token,
            access.account_id,
            origin=settings.tiktok_api_origin,
            policy=policy,
            page_size=settings.ads_page_size,
        )
    return GoogleAdsConnector(
        access.token,
        access.account_id,
        developer_token=access.developer_token,
        login_customer_id=access.login_customer_id,
        endpoint=settings.google_ads_endpoint,
        version=settings.google_ads_api_version,
        policy=policy,
        refresh=access.refresh,
    )
