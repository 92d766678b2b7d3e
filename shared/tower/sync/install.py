"""Installing the app from Shopify: the authorization code grant, token exchange, webhook subscriptions.

Two ways in, as Shopify documents them, both ending with an *offline* Admin API token in the secret
store and the store connected (:func:`tower.sync.connect.connect_shopify`):

* **Authorization code grant.** :func:`install_url` sends the merchant to
  ``https://{shop}/admin/oauth/authorize`` with the app's client id, scopes, redirect URI and a state
  nonce (stored in the document store: single use, short-lived, bound to the shop). Shopify sends the
  merchant back with ``code``, ``shop``, ``state``, ``timestamp`` and ``hmac``; :func:`complete_install`
  checks the HMAC (hex HMAC-SHA256 under the client secret over the other parameters, sorted,
  compared in constant time), the shop domain and the nonce, then trades the code at
  ``https://{shop}/admin/oauth/access_token``. No ``grant_options[]=per-user``: the token is offline.
* **Token exchange** (embedded app). :func:`verify_session_token` checks the App Bridge session token
  (a JWT, HS256 under the client secret; ``aud`` the client id, ``dest`` the shop's https origin,
  ``iss`` that shop's ``/admin``, ``exp``/``nbf`` with a few seconds' leeway); :func:`exchange_session_token`
  trades it at the same endpoint with ``grant_type=urn:ietf:params:oauth:grant-type:token-exchange`` for
  an offline token.

Any check that fails raises :class:`InstallRefused` (its status and code say which) before anything is
written. After the token, :func:`register_webhooks` subscribes the store to the topics the webhook
handler takes, through ``webhookSubscriptionCreate``, after listing ``webhookSubscriptions`` so a
reinstall adds none twice. The three privacy topics cannot be subscribed through the API: they are
declared in ``shopify.app.toml``, as Shopify requires.

Shopify's ``shopifyapp`` package (PyPI) does the token exchange and request verification, and would
take these checks off our hands, but it is not in the project's lock (it brings httpx): until it is,
the checks are written here with :mod:`hmac`, :mod:`secrets` and PyJWT (already locked), and the
Admin calls go through ShopifyAPI like every other Shopify call (:class:`ShopifyClient`).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets as pysecrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tower import billing
from tower.brands import add_brand
from tower.config import Settings
from tower.connectors.shopify.client import ShopifyClient
from tower.connectors.shopify.webhooks import PRIVACY_TOPICS, TOPICS, verify_oauth_query
from tower.ports import DocumentStore, Secrets, Warehouse
from tower.sync.connect import BadConnection, check_shop_domain, connect_shopify
from tower.sync.nonces import take_once
from tower.sync.webhooks import app_secret

#: What the product reads and writes. Fulfillment orders have one read scope per kind of fulfiller
#: (Shopify has no single read_fulfillments for them): the merchant's own locations, orders assigned
#: to this app, and third-party fulfilment services.
SCOPES = (
    "read_orders", "read_all_orders", "read_products", "read_inventory", "read_locations", "read_customers",
    "read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders",
    "read_third_party_fulfillment_orders", "read_discounts", "write_discounts",
)
#: The topics subscribed on install: every topic the webhook handler takes but the privacy ones
#: (``shopify.app.toml`` declares those; the API refuses them).
WEBHOOK_TOPICS = tuple(sorted(TOPICS - PRIVACY_TOPICS))
STATE_COLLECTION = "shopify_oauth_states"
CALLBACK_PATH = "/shopify/callback"
SESSION_TOKEN_LEEWAY_SECONDS = 5
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
_SHOP_INFO = "query ShopInfo { shop { name myshopifyDomain ianaTimezone currencyCode } }"
_LIST_SUBSCRIPTIONS = """query Subscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) { nodes { id topic uri } pageInfo { hasNextPage endCursor } }
}"""
_CREATE_SUBSCRIPTION = """mutation Subscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri } userErrors { field message }
  }
}"""


class InstallRefused(Exception):
    """An install request that must not go on: the status and a code a client can branch on.

    The message names the problem, never a value from the request (a code or a token).
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class AppCredentials:
    """The app's client id and client secret (the secret is never logged)."""

    client_id: str
    secret: str

    def __repr__(self) -> str:
        return f"AppCredentials(client_id={self.client_id!r})"


def app_credentials(settings: Settings, secrets: Secrets) -> AppCredentials:
    """The client id (setting) and secret (setting or secret store).

    Raises:
        InstallRefused: 503 when either is missing: the deployment is not set up as a Shopify app.
    """
    client_id, secret = settings.shopify_client_id.strip(), app_secret(settings, secrets)
    if not client_id or not secret:
        missing = "TOWER_SHOPIFY_CLIENT_ID" if not client_id else "the shopify-api-secret secret"
        raise InstallRefused(503, "app_not_configured", f"the Shopify app is not configured: set {missing}")
    return AppCredentials(client_id, secret)


def _shop(shop: str | None) -> str:
    try:
        return check_shop_domain(shop or "")
    except BadConnection:
        raise InstallRefused(400, "invalid_shop", "shop must be a NAME.myshopify.com domain") from None


def _origin(settings: Settings, shop: str) -> str:
    """Where the shop's OAuth endpoints are: the shop's own https origin, or the sandbox's."""
    return (settings.shopify_api_origin or f"https://{shop}").rstrip("/")


def redirect_uri(settings: Settings) -> str:
    """``<TOWER_SHOPIFY_APP_URL>/shopify/callback``.

    Raises:
        InstallRefused: 503 when the app URL is not set.
    """
    if not settings.shopify_app_url.strip():
        raise InstallRefused(503, "app_not_configured", "the Shopify app is not configured: set TOWER_SHOPIFY_APP_URL")
    return settings.shopify_app_url.strip().rstrip("/") + CALLBACK_PATH


# -- the authorization code grant --------------------------------------------------------------------
def install_url(settings: Settings, store: DocumentStore, app: AppCredentials, shop: str, *, now: datetime) -> str:
    """The authorize URL to send the merchant to, with a fresh state nonce stored for the callback.

    Raises:
        InstallRefused: 400 for a shop that is not ``NAME.myshopify.com``.
    """
    domain = _shop(shop)
    callback = redirect_uri(settings)  # before the nonce: a misconfigured app stores nothing
    nonce = pysecrets.token_urlsafe(32)
    store.set(f"{STATE_COLLECTION}/{nonce}", {
        "shop": domain, "created_at": now,
        "expires_at": now + timedelta(seconds=settings.shopify_oauth_state_seconds)})
    query = {"client_id": app.client_id, "scope": ",".join(SCOPES), "redirect_uri": callback, "state": nonce}
    if settings.shopify_api_origin:
        # The sandbox serves every shop from one origin, so the host cannot say which shop; Shopify's
        # own authorize endpoint is on the shop's host and never sees this parameter.
        query["shop"] = domain
    return f"{_origin(settings, domain)}/admin/oauth/authorize?{urllib.parse.urlencode(query)}"


def _consume_state(store: DocumentStore, nonce: str, shop: str, now: datetime) -> None:
    """Check the nonce and delete it in one transaction: a second callback with it finds nothing."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", nonce or ""):
        raise InstallRefused(401, "invalid_state", "state is missing or malformed")
    doc = take_once(store, f"{STATE_COLLECTION}/{nonce}")
    if doc is None:
        raise InstallRefused(401, "invalid_state", "state is unknown or was already used; start the install again")
    if doc["expires_at"] <= now:
        raise InstallRefused(401, "expired_state", "state has expired; start the install again")
    if doc["shop"] != shop:
        raise InstallRefused(401, "invalid_state", "state was issued for another shop")


def verify_callback(store: DocumentStore, app: AppCredentials, params: Mapping[str, str], *, now: datetime) -> str:
    """Check a callback's HMAC, shop and state (consuming it); return the shop domain.

    The HMAC is checked first, so a forged request cannot use up a merchant's nonce.

    Raises:
        InstallRefused: 401 invalid_hmac / invalid_state / expired_state, 400 invalid_shop or missing_code.
    """
    if not verify_oauth_query(app.secret, params):
        raise InstallRefused(401, "invalid_hmac", "hmac does not match the query (or is missing)")
    shop = _shop(params.get("shop"))
    if not params.get("code"):
        raise InstallRefused(400, "missing_code", "code is missing from the callback")
    _consume_state(store, params.get("state", ""), shop, now)
    return shop


def _post_token(settings: Settings, shop: str, form: Mapping[str, str]) -> dict[str, Any]:
    """POST the shop's ``/admin/oauth/access_token``; the JSON answer (access_token, scope)."""
    req = urllib.request.Request(
        f"{_origin(settings, shop)}/admin/oauth/access_token", data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=settings.shopify_timeout_seconds) as resp:
            body = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        status = 401 if e.code in (400, 401, 403) else 502
        raise InstallRefused(status, "token_refused",
                             f"Shopify refused to issue a token (HTTP {e.code}); start the install again") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise InstallRefused(502, "shopify_unavailable", f"Shopify's token endpoint failed: {type(e).__name__}") from None
    if not isinstance(body, dict) or not body.get("access_token"):
        raise InstallRefused(502, "token_refused", "Shopify's token answer has no access_token")
    return body


def exchange_code(settings: Settings, app: AppCredentials, shop: str, code: str) -> dict[str, Any]:
    """Trade the callback's code for an offline token: ``{"access_token", "scope"}``."""
    return _post_token(settings, shop, {"client_id": app.client_id, "client_secret": app.secret, "code": code})


# -- token exchange (embedded app) -------------------------------------------------------------------
def verify_session_token(app: AppCredentials, token: str, *, now: datetime,
                         leeway: int = SESSION_TOKEN_LEEWAY_SECONDS) -> str:
    """Check an App Bridge session token; return the shop domain its ``dest`` names.

    Raises:
        InstallRefused: 401 invalid_session_token naming what failed (signature, audience, expiry, shop).
    """
    import jwt  # PyJWT, imported where it is used

    def refuse(why: str) -> InstallRefused:
        return InstallRefused(401, "invalid_session_token", f"the session token {why}")

    try:
        claims = _decode(jwt, token, app, now, leeway)
    except jwt.ExpiredSignatureError:
        raise refuse("has expired") from None
    except jwt.ImmatureSignatureError:
        raise refuse("is not valid yet (nbf)") from None
    except jwt.InvalidAudienceError:
        raise refuse("was issued for another app (aud)") from None
    except jwt.MissingRequiredClaimError as e:
        raise refuse(f"has no {e.claim} claim") from None
    except jwt.InvalidSignatureError:
        raise refuse("signature does not match the app's secret") from None
    except jwt.InvalidTokenError:
        raise refuse("is malformed") from None
    dest = str(claims.get("dest", ""))
    if not dest.startswith("https://"):
        raise refuse("dest is not a shop's https origin")
    try:
        shop = check_shop_domain(dest.removeprefix("https://"))
    except BadConnection:
        raise refuse("dest is not a NAME.myshopify.com shop") from None
    if str(claims.get("iss", "")).rstrip("/") != f"https://{shop}/admin":
        raise refuse("iss does not match dest")
    return shop


def _decode(jwt: Any, token: str, app: AppCredentials, now: datetime, leeway: int) -> dict[str, Any]:
    """Verify signature and audience with PyJWT, then the times against ``now`` (the caller's clock)."""
    claims: dict[str, Any] = jwt.decode(
        token or "", app.secret, algorithms=["HS256"], audience=app.client_id,
        options={"require": ["exp", "nbf", "iss", "dest", "aud"], "verify_exp": False, "verify_nbf": False,
                 "verify_iat": False})
    at = now.timestamp()
    if not isinstance(claims["exp"], int | float) or not isinstance(claims["nbf"], int | float):
        raise jwt.InvalidTokenError("exp and nbf must be numbers")
    if at > claims["exp"] + leeway:
        raise jwt.ExpiredSignatureError("expired")
    if at < claims["nbf"] - leeway:
        raise jwt.ImmatureSignatureError("not yet valid")
    return claims


def exchange_session_token(settings: Settings, app: AppCredentials, shop: str, token: str) -> dict[str, Any]:
    """Trade a verified session token for an offline token: ``{"access_token", "scope"}``."""
    return _post_token(settings, shop, {
        "client_id": app.client_id, "client_secret": app.secret, "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": token, "subject_token_type": ID_TOKEN_TYPE, "requested_token_type": OFFLINE_TOKEN_TYPE})


# -- after the token ---------------------------------------------------------------------------------
@dataclass
class InstallPorts:
    """What finishing an install writes: the warehouse, the secret store, and (when given) the brand's
    billing record in the document store."""

    warehouse: Warehouse
    secrets: Secrets
    store: DocumentStore | None = None


def _client(settings: Settings, shop: str, token: str) -> ShopifyClient:
    return ShopifyClient(shop, token, api_version=settings.shopify_api_version, origin=settings.shopify_api_origin,
                         timeout=settings.shopify_timeout_seconds)


def brand_id_for_shop(shop: str) -> str:
    """A new brand's id from its shop: the ``NAME`` of ``NAME.myshopify.com`` (``_`` for anything else)."""
    return re.sub(r"[^a-z0-9_-]", "_", shop.split(".", 1)[0])[:63]


def _free_brand_id(warehouse: Warehouse, shop: str) -> str:
    """:func:`brand_id_for_shop`, or, when a brand of another shop already has that id, the id with a
    suffix of the shop's hash (registering over it would rename and re-zone someone else's brand)."""
    wanted = brand_id_for_shop(shop)
    if not warehouse.rows("SELECT 1 AS taken FROM brands WHERE brand_id = @b", {"b": wanted}):
        return wanted
    return f"{wanted[:54]}-{hashlib.sha256(shop.encode()).hexdigest()[:8]}"


def finish_install(settings: Settings, ports: InstallPorts, shop: str, grant: Mapping[str, Any], *,
                   now: datetime) -> dict[str, Any]:
    """Register the brand (if the shop is new), connect the store, subscribe its webhooks.

    The brand is the one already registered with this shop domain, else a new one named, zoned and
    priced as the shop says (``shop { name ianaTimezone currencyCode }``).
    """
    token = str(grant["access_token"])
    client = _client(settings, shop, token)
    rows = ports.warehouse.rows("SELECT brand_id FROM brands WHERE shop_domain = @shop ORDER BY created_at LIMIT 1",
                                {"shop": shop})
    if rows:
        brand_id = str(rows[0]["brand_id"])
    else:
        info = client.execute(_SHOP_INFO).data["shop"]
        brand_id = _free_brand_id(ports.warehouse, shop)
        add_brand(ports.warehouse, brand_id=brand_id, name=info["name"], timezone=info["ianaTimezone"],
                  currency=info["currencyCode"], now=now, shop_domain=shop)
    scopes = [s for s in str(grant.get("scope") or "").split(",") if s]
    connect_shopify(ports.warehouse, ports.secrets, brand_id=brand_id, shop=shop, token=token, now=now,
                    scopes=scopes)
    webhooks = register_webhooks(client, settings.shopify_webhook_url) if settings.shopify_webhook_url else None
    if ports.store is not None:
        # installed from Shopify: Shopify bills the brand through this app (tower.billing)
        billing.open_record(ports.store, brand_id, now)
    return {"brand_id": brand_id, "shop": shop, "scopes": sorted(scopes), "webhooks": webhooks}


def graphql_topic(topic: str) -> str:
    """``orders/create`` → ``ORDERS_CREATE`` (the ``WebhookSubscriptionTopic`` enum)."""
    return topic.replace("/", "_").upper()


def register_webhooks(client: ShopifyClient, uri: str) -> dict[str, list[str]]:
    """Subscribe the store to :data:`WEBHOOK_TOPICS` at ``uri``; topics already subscribed there are kept.

    Returns:
        ``{"created": [...], "existing": [...]}`` (REST-style topic names).

    Raises:
        FatalError: Shopify refused a subscription (its user error says why).
    """
    from tower.connectors.retry import FatalError  # lazy: the connectors load only on an install

    have: set[str] = set()
    after: str | None = None
    while True:
        page = client.execute(_LIST_SUBSCRIPTIONS, {"after": after}).data["webhookSubscriptions"]
        have |= {n["topic"] for n in page["nodes"] if n["uri"] == uri}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    created, existing = [], []
    for topic in WEBHOOK_TOPICS:
        if graphql_topic(topic) in have:
            existing.append(topic)
            continue
        out = client.execute(_CREATE_SUBSCRIPTION, {"topic": graphql_topic(topic),
                                                    "sub": {"uri": uri, "format": "JSON"}}).data
        errors = out["webhookSubscriptionCreate"]["userErrors"]
        if errors:
            raise FatalError(f"Shopify refused the {topic} webhook subscription: {errors[0]['message']}",
                             platform="shopify", code="webhook_subscription")
        created.append(topic)
    return {"created": created, "existing": existing}
