"""Connecting a brand's Shopify store: the token goes to the secret store, the row keeps a reference.

``integrations`` holds only ``secret_ref`` (the secret id), never the token. Connecting also makes
sure the brand has its customer-hash salt (a random per-brand secret) so the first sync can hash
customer ids. Orders older than 60 days are only visible with the ``read_all_orders`` scope, which
Shopify grants on request: :data:`SCOPE_ADVICE` says so to whoever connects.
"""

from __future__ import annotations

import re
import secrets as pysecrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tower import names
from tower.connectors.shopify.records import to_table
from tower.ports import Secrets, Warehouse

SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
REQUIRED_SCOPES = ("read_products", "read_orders", "read_inventory", "read_locations", "read_customers")
SCOPE_ADVICE = (
    "Orders older than 60 days need the read_all_orders scope (request it from Shopify for your app); "
    "without it the first sync sees only the last 60 days."
)


class BadConnection(ValueError):
    """A connect argument the product cannot use (the message names it)."""


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
    warehouse.merge("integrations", to_table("integrations", [row]), ["brand_id", "platform", "account_id"])
    warehouse.merge("brands", to_table("brands", [{"brand_id": brand_id, "shop_domain": domain, "updated_at": now}]),
                    ["brand_id"])
    return row


def mark_uninstalled(warehouse: Warehouse, brand_id: str, shop_domain: str, now: datetime) -> None:
    """``app/uninstalled``: the token is dead; syncs stop until the store is connected again."""
    warehouse.execute(
        "UPDATE integrations SET status = 'uninstalled', updated_at = @now "
        "WHERE brand_id = @brand_id AND platform = 'shopify' AND account_id = @account_id",
        {"now": now, "brand_id": brand_id, "account_id": shop_domain},
    )
