"""Installing the app from Shopify: the authorization code grant, token exchange, webhook subscriptions.

Two ways in, as Shopify documents them, both ending with an *offline* Admin API token in the secret
store and the store connected (:func:`tower.sync.connect.connect_shopify`):

* **Authorization code grant** (ours: Shopify's ``shopifyapp`` library has no code grant).
  :func:`install_url` sends the merchant to ``https://{shop}/admin/oauth/authorize`` with the app's
  client id, scopes, redirect URI and a state nonce (stored in the document store: single use,
  short-lived, bound to the shop). Shopify sends the merchant back with ``code``, ``shop``, ``state``,
  ``timestamp`` and ``hmac``; :func:`verify_callback` checks the HMAC (hex HMAC-SHA256 under the
  client secret over the other parameters, sorted, compared in constant time), the shop domain and the
  nonce, then :func:`exchange_code` trades the code at ``https://{shop}/admin/oauth/access_token``,
  asking for an expiring token (``expiring=1``), as Shopify requires of public apps. No
  ``grant_options[]=per-user``: the token is offline.
* **Token exchange** (embedded app), through ``shopifyapp``: :func:`verify_app_home_request` runs its
  ``verify_app_home_req`` (HS256 under the client secret, ``aud`` the client id, ``exp``/``nbf`` with its
  leeway), then adds what it leaves to the app: ``exp`` and ``nbf`` must be present, ``dest`` must be a
  ``NAME.myshopify.com`` origin and ``iss`` that shop's ``/admin``. :func:`exchange_session_token` runs
  its ``token_exchange`` for an expiring offline token (its default), through
  :func:`tower.sync.shopify_tokens.oauth_http_client` (the sandbox's origin in development).

Any check that fails raises :class:`OAuthRefused` (its status and code say which) before anything is
written; a failed session token check says which claim failed. After the token, :func:`finish_install`
keeps the refresh token beside it (:mod:`tower.sync.shopify_tokens`) and :func:`register_webhooks`
subscribes the store to the topics the webhook handler takes, through ``webhookSubscriptionCreate``,
after listing ``webhookSubscriptions`` so a reinstall adds none twice. The three privacy topics cannot
be subscribed through the API: they are declared in ``shopify.app.toml``, as Shopify requires. The
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tower import billing
from tower.brands import add_brand
from tower.config import Settings
from tower.connectors.shopify.client import ShopifyClient
from tower.connectors.shopify.webhooks import PRIVACY_TOPICS, TOPICS, verify_oauth_query
from tower.ports import DocumentStore, Secrets, Warehouse
from tower.sync import shopify_tokens
from tower.sync.connect import BadConnection, check_shop_domain, connect_shopify
from tower.sync.nonces import take_once
from tower.sync.oauth_common import AppCredentials, OAuthRefused
from tower.sync.shopify_tokens import app_credentials  # noqa: F401 - the routes call install.app_credentials

if TYPE_CHECKING:  # pragma: no cover
    from shopify_app.types import RequestInput

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
#: Where shopifyapp sends an App Home load whose session token is missing or stale (its bounce page).
PATCH_ID_TOKEN_PATH = "/shopify/patch-id-token"
#: How far shopifyapp lets ``exp``/``nbf`` miss (its ``leeway``): only to word a refusal.
_LIBRARY_LEEWAY_SECONDS = 10
_SHOP_INFO = "query ShopInfo { shop { name myshopifyDomain ianaTimezone currencyCode } }"
_LIST_SUBSCRIPTIONS = """query Subscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) { nodes { id topic uri } pageInfo { hasNextPage endCursor } }
}"""
_CREATE_SUBSCRIPTION = """mutation Subscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri } userErrors { field message }
  }
}"""


def _shop(shop: str | None) -> str:
    try:
        return check_shop_domain(shop or "")
    except BadConnection:
        raise OAuthRefused(400, "invalid_shop", "shop must be a NAME.myshopify.com domain") from None


def _origin(settings: Settings, shop: str) -> str:
    """Where the shop's OAuth endpoints are: the shop's own https origin, or the sandbox's."""
    return (settings.shopify_api_origin or f"https://{shop}").rstrip("/")


def redirect_uri(settings: Settings) -> str:
    """``<TOWER_SHOPIFY_APP_URL>/shopify/callback``.

    Raises:
        OAuthRefused: 503 when the app URL is not set.
    """
    if not settings.shopify_app_url.strip():
        raise OAuthRefused(503, "app_not_configured", "the Shopify app is not configured: set TOWER_SHOPIFY_APP_URL")
    return settings.shopify_app_url.strip().rstrip("/") + CALLBACK_PATH


# -- the authorization code grant --------------------------------------------------------------------
def install_url(settings: Settings, store: DocumentStore, app: AppCredentials, shop: str, *, now: datetime) -> str:
    """The authorize URL to send the merchant to, with a fresh state nonce stored for the callback.

    Raises:
        OAuthRefused: 400 for a shop that is not ``NAME.myshopify.com``.
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
        raise OAuthRefused(401, "invalid_state", "state is missing or malformed")
    doc = take_once(store, f"{STATE_COLLECTION}/{nonce}")
    if doc is None:
        raise OAuthRefused(401, "invalid_state", "state is unknown or was already used; start the install again")
    if doc["expires_at"] <= now:
        raise OAuthRefused(401, "expired_state", "state has expired; start the install again")
    if doc["shop"] != shop:
        raise OAuthRefused(401, "invalid_state", "state was issued for another shop")


def verify_callback(store: DocumentStore, app: AppCredentials, params: Mapping[str, str], *, now: datetime) -> str:
    """Check a callback's HMAC, shop and state (consuming it); return the shop domain.

    The HMAC is checked first, so a forged request cannot use up a merchant's nonce.

    Raises:
        OAuthRefused: 401 invalid_hmac / invalid_state / expired_state, 400 invalid_shop or missing_code.
    """
    if not verify_oauth_query(app.secret, params):
        raise OAuthRefused(401, "invalid_hmac", "hmac does not match the query (or is missing)")
    shop = _shop(params.get("shop"))
    if not params.get("code"):
        raise OAuthRefused(400, "missing_code", "code is missing from the callback")
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
        raise OAuthRefused(status, "token_refused",
                           f"Shopify refused to issue a token (HTTP {e.code}); start the install again") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise OAuthRefused(502, "shopify_unavailable", f"Shopify's token endpoint failed: {type(e).__name__}") from None
    if not isinstance(body, dict) or not body.get("access_token"):
        raise OAuthRefused(502, "token_refused", "Shopify's token answer has no access_token")
    return body


def exchange_code(settings: Settings, app: AppCredentials, shop: str, code: str) -> dict[str, Any]:
    """Trade the callback's code for an expiring offline token.

    Returns:
        ``{"access_token", "scope", "refresh"}``: ``refresh`` is the refresh record to keep beside the
        token (:mod:`tower.sync.shopify_tokens`), None when Shopify issued a token that does not expire.
    """
    body = _post_token(settings, shop, {"client_id": app.client_id, "client_secret": app.secret, "code": code,
                                        "expiring": "1"})
    return {"access_token": body["access_token"], "scope": body.get("scope"),
            "refresh": shopify_tokens.record_from_grant(shop, body)}


# -- token exchange (embedded app), through shopifyapp -----------------------------------------------
@dataclass(frozen=True)
class SessionToken:
    """A session token shopifyapp verified and we checked: the shop, and what token exchange takes."""

    shop: str
    #: shopifyapp's ``IdTokenDetails`` (the token and its claims), as its token exchange wants it.
    details: Any = field(repr=False)
    #: The headers shopifyapp asks an App Home page answer to carry (frame-ancestors, preloads).
    headers: dict[str, str] = field(default_factory=dict)


class Bounce(Exception):  # an answer to send, not an error
    """shopifyapp's answer to send as it is: an App Home load without a usable session token goes to the
    patch-id-token page, where App Bridge fetches a fresh one and reloads the page."""

    def __init__(self, status: int, headers: Mapping[str, str], body: str) -> None:
        super().__init__(f"App Home bounce ({status})")
        self.status, self.headers, self.body = status, dict(headers), body


def _refuse(why: str) -> OAuthRefused:
    return OAuthRefused(401, "invalid_session_token", f"the session token {why}")


def _why_refused(token: str, code: str) -> str:
    """Why shopifyapp refused the token, in words; read from the unverified token only to say so."""
    import jwt  # lazy: PyJWT, shopifyapp's own JWT library

    if code == "expired_id_token":
        return "has expired"
    if code == "invalid_aud":
        return "was issued for another app (aud)"
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "is malformed"
    if header.get("alg") != "HS256":
        return "is malformed (not signed with HS256)"
    at = datetime.now(UTC).timestamp()  # shopifyapp checks the times on the wall clock
    if isinstance(claims.get("nbf"), int | float) and at < claims["nbf"] - _LIBRARY_LEEWAY_SECONDS:
        return "is not valid yet (nbf)"
    if isinstance(claims.get("exp"), int | float) and at > claims["exp"] + _LIBRARY_LEEWAY_SECONDS:
        return "has expired"
    return "signature does not match the app's secret"


def _checked(claims: Mapping[str, Any]) -> str:
    """What shopifyapp leaves to the app: ``exp``/``nbf`` present, ``dest`` a shop, ``iss`` that shop's."""
    for claim in ("exp", "nbf"):
        if not isinstance(claims.get(claim), int | float):
            raise _refuse(f"has no {claim} claim")
    dest = str(claims.get("dest", ""))
    if not dest.startswith("https://"):
        raise _refuse("dest is not a shop's https origin")
    try:
        shop = check_shop_domain(dest.removeprefix("https://"))
    except BadConnection:
        raise _refuse("dest is not a NAME.myshopify.com shop") from None
    if str(claims.get("iss", "")).rstrip("/") != f"https://{shop}/admin":
        raise _refuse("iss does not match dest")
    return shop


def verify_app_home_request(app: AppCredentials, req: RequestInput) -> SessionToken:
    """Verify a request carrying a session token with shopifyapp's ``verify_app_home_req``.

    ``req`` is shopifyapp's request shape (method, headers, url, body), passed through unchanged: a
    *fetch* request sends the token as ``Authorization: Bearer``, an App Home *document* load as the
    ``id_token`` query parameter.

    Raises:
        Bounce: A document load without a usable token: send shopifyapp's redirect to the patch page.
        OAuthRefused: 401 ``invalid_session_token`` naming what failed (signature, audience, expiry,
            a missing claim, the shop).
    """
    from shopify_app.verify.app_home_req import verify_app_home_req  # lazy: httpx loads with shopifyapp

    result = verify_app_home_req(req, shopify_tokens.app_config(app), PATCH_ID_TOKEN_PATH)
    if not result.ok:
        if result.log.code == "configuration_error":
            raise OAuthRefused(500, "app_not_configured", "the session token check is misconfigured")
        if result.response.status == 302:
            raise Bounce(result.response.status, result.response.headers, result.response.body)
        token = _token_of(req)
        if not token:
            raise _refuse("is missing: send it as Authorization: Bearer <token>")
        raise _refuse(_why_refused(token, result.log.code))
    shop = _checked(result.id_token.claims if result.id_token else {})
    return SessionToken(shop, result.id_token, dict(result.response.headers))


def _token_of(req: RequestInput) -> str:
    headers = {str(k).lower(): str(v) for k, v in dict(req.get("headers") or {}).items()}
    bearer = headers.get("authorization", "")
    if bearer:
        return bearer.partition(" ")[2].strip()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(str(req.get("url", ""))).query)
    return (query.get("id_token") or [""])[0]


def verify_session_token(app: AppCredentials, token: str) -> str:
    """Check an App Bridge session token sent as a bearer token; return the shop domain its ``dest`` names.

    Raises:
        OAuthRefused: 401 invalid_session_token naming what failed (signature, audience, expiry, shop).
    """
    if not (token or "").strip():
        raise _refuse("is missing: send it as Authorization: Bearer <token>")
    req: RequestInput = {"method": "POST", "headers": {"Authorization": f"Bearer {token.strip()}"},
                         "url": "https://app.invalid/api/session", "body": ""}
    return verify_app_home_request(app, req).shop


#: shopifyapp's token exchange failures: (status, code, what to do).
_EXCHANGE_REFUSALS = {
    "invalid_subject_token": (401, "token_refused", "Shopify refused the session token; open the app again"),
    "invalid_client": (503, "app_not_configured",
                       "Shopify refused the app's credentials (or the app was uninstalled); check them"),
    "rate_limit_exceeded": (503, "shopify_unavailable", "Shopify is rate limiting token requests; try again soon"),
    "network_error": (502, "shopify_unavailable", "Shopify's token endpoint could not be reached"),
}


def exchange_session_token(settings: Settings, app: AppCredentials, token: SessionToken) -> dict[str, Any]:
    """Trade a verified session token for an expiring offline token with shopifyapp's token exchange.

    Returns:
        ``{"access_token", "scope", "refresh"}`` as :func:`exchange_code`.

    Raises:
        OAuthRefused: Shopify refused the exchange (its reason mapped to a status and a code).
    """
    from shopify_app.exchange.token_exchange import token_exchange  # lazy: httpx loads with shopifyapp

    with shopify_tokens.oauth_http_client(settings) as http:
        result = token_exchange("offline", shopify_tokens.app_config(app), id_token=token.details,
                                invalid_token_response=None, expiring=True, http_client=http)
    if not result.ok or result.access_token is None:
        status, code, message = _EXCHANGE_REFUSALS.get(
            result.log.code, (502, "token_refused", f"Shopify refused the token exchange ({result.log.code})"))
        raise OAuthRefused(status, code, message)
    access = result.access_token
    return {"access_token": access.token, "scope": access.scope, "refresh": shopify_tokens.record_of(access)}


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
    shopify_tokens.keep_refresh(ports.secrets, brand_id, grant.get("refresh"))
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
