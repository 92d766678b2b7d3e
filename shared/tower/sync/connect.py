"""Connecting a platform, on our side: the token goes to the secret store, ``integrations`` keeps a reference.

``integrations`` holds only ``secret_ref`` (the secret id), never the token. Connecting a Shopify
store also makes sure the brand has its customer-hash salt (a random per-brand secret) so the first
sync can hash customer ids. Orders older than 60 days are only visible with the ``read_all_orders``
scope, which Shopify grants on request: :data:`SCOPE_ADVICE` says so to whoever connects.
Connecting an ad account first checks the token against the platform (its currency and timezone
are recorded with it).

The syncs and the budget write path read the same rows here: :func:`shopify_integration`,
:func:`integrations`, and :func:`open_integration` (the token from the secret store, the platform's
connector opened with it).
"""

from __future__ import annotations

import logging
import re
import secrets as pysecrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from tower import names
from tower.config import Settings
from tower.connectors.ad_platforms import (
    AdAccountAccess,
    AdConnector,
    AdSyncUsageError,
    check_platform,
    normalise_account_id,
    open_connector,
)
from tower.connectors.ads_records import AccountInfo
from tower.connectors.retry import FatalError, NeedsReauth, RetryPolicy
from tower.connectors.shopify.records import to_table
from tower.ports import Secrets, Warehouse
from tower.sync import shopify_tokens
from tower.sync.grants import google_refresh, grant_secret_id, parse_grant
from tower.sync.run import SyncPorts
from tower.sync.state import utc_now

log = logging.getLogger(__name__)

INTEGRATION_KEY = ["brand_id", "platform", "account_id"]
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
#: What the app asks the merchant for. read_merchant_managed_fulfillment_orders shows which location each
#: order ships from (days of cover); without it the sync warns and cover pools the store's locations.
#: read_discounts / write_discounts let an accepted promotion card launch (and Undo end) its discount.
REQUIRED_SCOPES = ("read_products", "read_orders", "read_inventory", "read_locations", "read_customers",
                   "read_merchant_managed_fulfillment_orders", "read_discounts", "write_discounts")
SCOPE_ADVICE = (
    "Orders older than 60 days need the read_all_orders scope (request it from Shopify for your app); "
    "without it the first sync sees only the last 60 days. read_merchant_managed_fulfillment_orders lets "
    "days of cover count each sale at the location it ships from."
)


class BadConnection(ValueError):
    """A connect argument the product cannot use (the message names it)."""


class NotConnected(ValueError):
    """The brand has no usable Shopify integration (bad input: connect the store first)."""


def check_shop_domain(shop: str) -> str:
    """A shop's ``NAME.myshopify.com`` domain, normalised (lower case, no scheme or path).

    Raises:
        BadConnection: Not a ``*.myshopify.com`` host.
    """
    host = re.sub(r"^https?://", "", (shop or "").strip().lower()).split("/", 1)[0]
    if not SHOP_DOMAIN.match(host):
        raise BadConnection(f"--shop {shop!r} must be a NAME.myshopify.com domain")
    return host


def connect_shopify(
    warehouse: Warehouse,
    secrets: Secrets,
    *,
    brand_id: str,
    shop: str,
    token: str,
    now: datetime,
    scopes: Iterable[str] = (),
) -> dict[str, Any]:
    """Store the token and the integration row; create the brand's salt if it has none.

    Seven parameters: the two ports it writes, then the five facts of one connection, each named
    (keyword-only) at the call.

    Raises:
        BadConnection: Unknown brand, bad shop domain or empty token.
    """
    domain = check_shop_domain(shop)
    if not (token or "").strip():
        raise BadConnection("--token must not be empty")
    if not warehouse.rows("SELECT brand_id FROM brands WHERE brand_id = @brand_id", {"brand_id": brand_id}):
        raise BadConnection(f"brand {brand_id!r} is not registered (run: tower brands add)")
    secret_id = names.integration_secret_id(brand_id, "shopify")
    if secrets.exists(secret_id):
        secrets.rotate(secret_id, token.strip())
    else:
        secrets.put(secret_id, token.strip())
    salt_id = names.customer_salt_secret_id(brand_id)
    if not secrets.exists(salt_id):
        secrets.put(salt_id, pysecrets.token_hex(32))
    existing = warehouse.rows(
        "SELECT connected_at FROM integrations WHERE brand_id = @brand_id AND platform = 'shopify' "
        "AND account_id = @account_id", {"brand_id": brand_id, "account_id": domain})
    row = {"brand_id": brand_id, "platform": "shopify", "account_id": domain, "secret_ref": secret_id,
           "status": "active", "scopes": ",".join(sorted(set(scopes))) or None,
           "connected_at": existing[0]["connected_at"] if existing else now, "updated_at": now}
    warehouse.merge("integrations", to_table("integrations", [row]), INTEGRATION_KEY)
    warehouse.merge("brands", to_table("brands", [{"brand_id": brand_id, "shop_domain": domain, "updated_at": now}]),
                    ["brand_id"])
    return row


def mark_uninstalled(warehouse: Warehouse, secrets: Secrets, brand_id: str, shop_domain: str,
                     now: datetime) -> None:
    """``app/uninstalled``: the token is dead; delete it and stop syncs until the store is connected again.

    Shopify revokes the token on uninstall, so keeping it would only keep a credential around: the
    secret is deleted (the row keeps the id it had; a reinstall stores a new version under it).
    Idempotent: a repeated delivery finds nothing left to delete.
    """
    secret_id = names.integration_secret_id(brand_id, "shopify")
    if secrets.exists(secret_id):
        secrets.delete(secret_id)
    shopify_tokens.forget(secrets, brand_id)  # the refresh token beside it, when the token expires
    warehouse.execute(
        "UPDATE integrations SET status = 'uninstalled', updated_at = @now "
        "WHERE brand_id = @brand_id AND platform = 'shopify' AND account_id = @account_id",
        {"now": now, "brand_id": brand_id, "account_id": shop_domain},
    )


# -- the rows the syncs read --------------------------------------------------------------------------
def shopify_integration(warehouse: Warehouse, brand_id: str) -> dict[str, Any]:
    """The brand's Shopify integration row.

    Raises:
        NotConnected: There is none, or the app was uninstalled, or the shop redacted.
    """
    rows = warehouse.rows(
        "SELECT account_id, secret_ref, status, scopes FROM integrations "
        "WHERE brand_id = @brand_id AND platform = 'shopify' ORDER BY updated_at DESC LIMIT 1",
        {"brand_id": brand_id},
    )
    if not rows:
        raise NotConnected(f"brand {brand_id!r} has no Shopify store connected "
                           "(run: tower connect shopify --brand ID --shop NAME.myshopify.com --token T)")
    if rows[0]["status"] == "uninstalled":
        raise NotConnected(f"brand {brand_id!r}: the Shopify app was uninstalled; connect the store again")
    if rows[0]["status"] == "disconnected":
        raise NotConnected(f"brand {brand_id!r}: the store was disconnected and its data redacted (shop/redact); "
                           "connect the store again")
    return rows[0]


def mark_shopify_synced(warehouse: Warehouse, brand_id: str, shop_domain: str, now: datetime) -> None:
    """A Shopify sync finished: the integration is ``active`` and ``last_synced_at`` is ``now``."""
    warehouse.execute(
        "UPDATE integrations SET last_synced_at = @now, status = 'active', updated_at = @now "
        "WHERE brand_id = @brand_id AND platform = 'shopify' AND account_id = @account_id",
        {"now": now, "brand_id": brand_id, "account_id": shop_domain},
    )


def mark_shopify_needs_reauth(warehouse: Warehouse, brand_id: str, shop_domain: str, now: datetime) -> None:
    """Shopify rejected the token (or its scopes): syncs stop until the store is connected again."""
    warehouse.execute(
        "UPDATE integrations SET status = 'needs_reauth', updated_at = @now "
        "WHERE brand_id = @brand_id AND platform = 'shopify' AND account_id = @account_id",
        {"now": now, "brand_id": brand_id, "account_id": shop_domain},
    )


def integrations(warehouse: Warehouse, brand_id: str, platform: str) -> list[dict[str, Any]]:
    """The brand's integrations of one platform, by account."""
    return warehouse.rows(
        "SELECT * FROM integrations WHERE brand_id = @brand_id AND platform = @platform ORDER BY account_id",
        {"brand_id": brand_id, "platform": platform},
    )


def integration(warehouse: Warehouse, brand_id: str, platform: str, account_id: str) -> dict[str, Any] | None:
    """One account's integration row (None: not connected)."""
    return next((r for r in integrations(warehouse, brand_id, platform) if r["account_id"] == account_id), None)


def mark_integration(warehouse: Warehouse, brand_id: str, platform: str, account_id: str, now: datetime,
                     **values: Any) -> None:
    """Update columns of one integration row (``updated_at`` = ``now``)."""
    warehouse.merge(
        "integrations",
        [{"brand_id": brand_id, "platform": platform, "account_id": account_id, **values, "updated_at": now}],
        INTEGRATION_KEY,
    )


# -- ad accounts --------------------------------------------------------------------------------------
def google_developer_token(settings: Settings, secrets: Secrets) -> str:
    """The Google Ads developer token: the setting, else the secret store's ``google-ads-developer-token``.

    Raises:
        AdSyncUsageError: Neither holds one.
    """
    if settings.google_ads_developer_token:
        return settings.google_ads_developer_token
    if secrets.exists(names.SECRET_GOOGLE_ADS_DEVELOPER_TOKEN):
        return secrets.get(names.SECRET_GOOGLE_ADS_DEVELOPER_TOKEN)
    raise AdSyncUsageError(
        "no Google Ads developer token: set TOWER_GOOGLE_ADS_DEVELOPER_TOKEN or the "
        f"{names.SECRET_GOOGLE_ADS_DEVELOPER_TOKEN} secret"
    )


def open_integration(
    ports: SyncPorts,
    integ: Mapping[str, Any],
    policy: RetryPolicy,
    *,
    out_of_time: Callable[[], bool] = lambda: False,
) -> AdConnector:
    """The connector of a connected ad account: its token read from the secret store.

    Args:
        integ: The account's ``integrations`` row.

    Raises:
        NotFound: The token is missing from the secret store.
        AdSyncUsageError: Google Ads without a developer token.
    """
    platform = integ["platform"]
    secret = ports.secrets.get(integ["secret_ref"])
    # An account connected by OAuth refers to the brand's grant (JSON); a pasted token is the bare token.
    grant = parse_grant(secret)
    refresh = None
    if grant is not None and platform == "google_ads" and grant.get("refresh_token"):
        refresh = google_refresh(ports.settings, ports.secrets, integ["brand_id"], grant)
    access = AdAccountAccess(
        platform,
        integ["account_id"],
        str(grant["access_token"]) if grant is not None else secret,
        login_customer_id=integ.get("login_customer_id"),
        developer_token=google_developer_token(ports.settings, ports.secrets) if platform == "google_ads" else "",
        refresh=refresh,
    )
    return open_connector(access, ports.settings, policy, out_of_time=out_of_time)


def connect_ad_account(
    ports: SyncPorts,
    platform: str,
    brand_id: str,
    account_id: str,
    token: str,
    *,
    login_customer_id: str | None = None,
) -> AccountInfo:
    """Check the token against the platform, store it in the secret store, record the integration.

    Raises:
        AdSyncUsageError: Unknown platform, empty token, or the platform rejected the token.
    """
    check_platform(platform)
    account_id = normalise_account_id(platform, account_id)
    if not token.strip():
        raise AdSyncUsageError("--token is empty")
    if not account_id:
        raise AdSyncUsageError("--account is empty")
    access = AdAccountAccess(
        platform, account_id, token, login_customer_id=login_customer_id,
        developer_token=google_developer_token(ports.settings, ports.secrets) if platform == "google_ads" else "",
    )
    connector = open_connector(access, ports.settings, RetryPolicy())
    try:
        info = connector.account_info()
    except (NeedsReauth, FatalError) as e:
        raise AdSyncUsageError(f"{platform} rejected the account or token: {e}") from e
    finally:
        connector.close()
    ports.secrets.put(names.integration_secret_id(brand_id, platform, account_id), token)
    record_ad_integration(ports, brand_id, platform, account_id, by_oauth=False, timezone=info.timezone,
                          currency=info.currency, login_customer_id=login_customer_id, now=utc_now())
    return info


def record_ad_integration(ports: SyncPorts, brand_id: str, platform: str, account_id: str, *, by_oauth: bool,
                          timezone: str | None, currency: str | None, login_customer_id: str | None,
                          now: datetime) -> None:
    """Write one ad account's ``integrations`` row, ``active`` (a reconnect keeps its first connection time).

    Nine parameters: the ports, the account's three names, then the five facts of the connection, each
    named at the call.

    Args:
        by_oauth: The account refers to the brand's grant for the platform (connected by OAuth), not
            to a token of its own (pasted).
    """
    secret_id = grant_secret_id(brand_id, platform) if by_oauth else \
        names.integration_secret_id(brand_id, platform, account_id)
    existing = integration(ports.warehouse, brand_id, platform, account_id)
    ports.warehouse.merge("integrations", [{
        "brand_id": brand_id, "platform": platform, "account_id": account_id, "secret_ref": secret_id,
        "status": "active", "scopes": None, "account_timezone": timezone, "account_currency": currency,
        "login_customer_id": (login_customer_id or "").replace("-", "") or None,
        "connected_at": existing["connected_at"] if existing else now,
        "last_synced_at": existing["last_synced_at"] if existing else None,
        "updated_at": now,
    }], INTEGRATION_KEY)
    log.info("ad account connected", extra={"brand_id": brand_id, "platform": platform, "account_id": account_id})
