"""Installing from Shopify: ``/shopify/install``, ``/shopify/callback``, ``/shopify/token-exchange``,
``/shopify/patch-id-token``.

Public routes (no API key): they are how a merchant arrives, and each authenticates the request
itself — the callback by its HMAC and state nonce, the token exchange and the App Home load by the
session token (checked by Shopify's ``shopifyapp``). The checks and the writes are
:mod:`tower.sync.install`'s; a refused request writes nothing and answers a 4xx naming the problem.

A merchant's browser is signed in as the store's owner and sent on into the product: to
``/onboarding/<brand_id>``, or to the brand's dashboard once onboarding is complete. That is the
callback with ``Accept: text/html``, the token exchange with ``Accept: text/html``, and the App Home
load Shopify makes when the embedded app opens (``/shopify/install?embedded=1&id_token=…&shop=…``,
answered with shopifyapp's ``app_home_redirect``). An API client keeps the JSON answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from tower.api.errors import ApiError
from tower.api.errors import refused as _refused  # one mapper for every OAuth refusal
from tower.api.openapi import operation
from tower.api.request import current_now, current_runtime
from tower.connectors.retry import ConnectorError, RetriesExhausted
from tower.connectors.shopify.webhooks import verify_oauth_query
from tower.identity.roles import Principal, Role
from tower.identity.sessions import start_session
from tower.sync import install

if TYPE_CHECKING:  # pragma: no cover
    from shopify_app.types import RequestInput

bp = Blueprint("shopify_install", __name__)

_SHOP = {"shop": {"schema": {"type": "string"}, "description": "The shop's NAME.myshopify.com domain.",
                  "example": "acme.myshopify.com"}}
_CALLBACK = {
    **_SHOP,
    "code": {"schema": {"type": "string"}, "description": "The authorization code Shopify issued."},
    "state": {"schema": {"type": "string"}, "description": "The nonce /shopify/install sent."},
    "timestamp": {"schema": {"type": "string"}, "description": "When Shopify signed the redirect."},
    "hmac": {"schema": {"type": "string"},
             "description": "Hex HMAC-SHA256 of the other parameters, sorted, under the app's secret."},
}


def _shopify_req() -> RequestInput:
    """The request in shopifyapp's shape, passed through unchanged (its checks read the exact URL)."""
    return {"method": request.method, "headers": dict(request.headers), "url": request.url,
            "body": request.get_data(as_text=True)}


def _as_response(status: int, headers: dict[str, str], body: str) -> Response:
    """One of shopifyapp's answers, sent as it is (its status, body and security headers)."""
    return Response(body, status=status, headers=headers)


#: What an App Home redirect keeps of Shopify's launch query: App Bridge needs these; the session
#: token, the signature and its timestamp must not travel on into the page's address.
_APP_HOME_KEEP = ("shop", "host", "embedded", "locale")


def _finish(shop: str, grant: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Connect the store; Shopify failing the Admin calls after the token is a 502/503, not a 500."""
    runtime = current_runtime()
    try:
        return install.finish_install(runtime.settings, install.InstallPorts(runtime.warehouse, runtime.secrets, runtime.store),
                                      shop, grant, now=now)
    except RetriesExhausted as e:
        raise ApiError(503, "shopify_unavailable", f"Shopify kept failing; install again in a minute ({e})") from None
    except ConnectorError as e:
        raise ApiError(502, "shopify_refused", f"Shopify refused a call the install makes: {e}") from None


@bp.get("/shopify/install")
@operation("Start installing the Shopify app: redirect to the shop's authorize page.",
           response="Redirect to https://{shop}/admin/oauth/authorize with the app's scopes and a state nonce.",
           errors=(400, 401, 503), query=_SHOP, public=True, tag="shopify", redirect=True)
def start_install() -> ResponseReturnValue:
    """Shopify opens the app URL with ``shop`` (signed with ``hmac`` when it comes from the admin).

    A signed request must verify; the merchant may also type the shop (no ``hmac``): either way the
    callback is what authenticates the install. With an ``id_token`` it is the embedded app opening
    in the Shopify admin (App Home): see :func:`_app_home`.
    """
    runtime = current_runtime()
    params = request.args.to_dict()
    if params.get("id_token"):
        return _app_home()
    try:
        app = install.app_credentials(runtime.settings, runtime.secrets)
        if "hmac" in params and not verify_oauth_query(app.secret, params):
            raise install.OAuthRefused(401, "invalid_hmac", "hmac does not match the query")
        url = install.install_url(runtime.settings, runtime.store, app, params.get("shop", ""), now=current_now())
    except install.OAuthRefused as e:
        raise _refused(e) from None
    return redirect(url, code=302)


@bp.get("/shopify/callback")
@operation("Finish the install: check the callback, exchange the code for an offline token, connect the store. "
           "A browser (Accept: text/html) is signed in as the store's owner and sent to /onboarding/{brand_id}.",
           response="ShopifyInstall", errors=(400, 401, 502, 503), query=_CALLBACK, public=True, tag="shopify")
def callback() -> ResponseReturnValue:
    """The authorization code grant's redirect: HMAC, shop and state checked before the code is traded.

    The token goes to the secret store only; the answer names the brand, the scopes granted and the
    webhook topics subscribed. A browser gets a 302 to the onboarding wizard instead, with a session
    cookie for the store's owner (``merchant_owner`` of the brand).
    """
    runtime = current_runtime()
    params = request.args.to_dict()
    now = current_now()
    try:
        app = install.app_credentials(runtime.settings, runtime.secrets)
        shop = install.verify_callback(runtime.store, app, params, now=now)
        grant = install.exchange_code(runtime.settings, app, shop, params["code"])
    except install.OAuthRefused as e:
        raise _refused(e) from None
    done = _finish(shop, grant, now)
    if not _wants_page():
        return done
    # a merchant's browser: signed in as the store's owner, on to the onboarding wizard
    return _signed_in(redirect(_destination(str(done["brand_id"]), now), code=302), shop, str(done["brand_id"]), now)


def _destination(brand_id: str, now: datetime) -> str:
    """Where a merchant goes in: the wizard, or the brand's dashboard once the wizard is complete."""
    from tower.api.onboarding import onboarding_state  # lazy: the wizard's view loads only for a browser

    complete = onboarding_state(current_runtime(), brand_id, now)["complete"]
    return f"/brands/{brand_id}" if complete else f"/onboarding/{brand_id}"


def _signed_in(response: BaseResponse, shop: str, brand_id: str, now: datetime) -> BaseResponse:
    """The response, carrying a session cookie for the store's owner (``merchant_owner`` of the brand)."""
    start_session(response, Principal(name=shop, key_hash="", agency_id=None, brand_ids=frozenset({brand_id}),
                                      role=Role.MERCHANT_OWNER, subject=shop), now=now)
    return response


def _wants_page() -> bool:
    """Whether the caller is a browser (it prefers HTML to JSON), not an API client."""
    accept = request.accept_mimetypes
    return accept.quality("text/html") > accept.quality("application/json")


def _app_home() -> ResponseReturnValue:
    """The embedded app opening in the Shopify admin: the session token is the ``id_token`` parameter.

    shopifyapp verifies it; a stale or missing one bounces to :data:`install.PATCH_ID_TOKEN_PATH`, where
    App Bridge fetches a fresh one and reloads. A store not connected yet is connected by token
    exchange; then the merchant is signed in and redirected (inside the admin's frame) into the product.
    """
    runtime, now = current_runtime(), current_now()
    req = _shopify_req()
    try:
        app = install.app_credentials(runtime.settings, runtime.secrets)
        token = install.verify_app_home_request(app, req)
        brand_id = _installed_brand(token.shop)
        if brand_id is None:
            grant = install.exchange_session_token(runtime.settings, app, token)
    except install.Bounce as b:
        return _as_response(b.status, b.headers, b.body)
    except install.OAuthRefused as e:
        raise _refused(e) from None
    if brand_id is None:
        brand_id = str(_finish(token.shop, grant, now)["brand_id"])
    from shopify_app.helpers.app_home_redirect import app_home_redirect  # lazy: with shopifyapp

    kept = {k: request.args[k] for k in _APP_HOME_KEEP if k in request.args}
    clean: RequestInput = {**req, "url": request.base_url + ("?" + urlencode(kept) if kept else "")}
    result = app_home_redirect(clean, install.shopify_tokens.app_config(app), _destination(brand_id, now),
                               token.shop.split(".", 1)[0])
    if not result.ok:  # only an unsafe destination, which ours never is
        raise ApiError(result.response.status, "redirect_refused", result.log.detail)
    return _signed_in(_as_response(result.response.status, {**token.headers, **result.response.headers},
                                   result.response.body), token.shop, brand_id, now)


def _installed_brand(shop: str) -> str | None:
    """The brand whose store is connected and holds a token already (None: exchange a token first)."""
    runtime = current_runtime()
    rows = runtime.warehouse.rows(
        "SELECT i.brand_id AS brand_id, i.secret_ref AS secret_ref FROM integrations AS i "
        "WHERE i.platform = 'shopify' AND i.account_id = @shop AND i.status = 'active' "
        "ORDER BY i.updated_at DESC LIMIT 1", {"shop": shop})
    if rows and rows[0]["secret_ref"] and runtime.secrets.exists(str(rows[0]["secret_ref"])):
        return str(rows[0]["brand_id"])
    return None


@bp.get(install.PATCH_ID_TOKEN_PATH)
@operation("Embedded app: the page App Bridge uses to fetch a fresh session token and reload the app.",
           response="shopifyapp's patch-id-token page (HTML loading App Bridge).", errors=(400, 503), public=True,
           tag="shopify", html=True,
           query={"shop": _SHOP["shop"], "shopify-reload": {
               "schema": {"type": "string"}, "description": "The app path to reload with a fresh token."}})
def patch_id_token() -> ResponseReturnValue:
    """shopifyapp's ``app_home_patch_id_token``: a page that loads App Bridge with the app's client id."""
    from shopify_app.helpers.app_home_patch_id_token import app_home_patch_id_token  # lazy: with shopifyapp

    runtime = current_runtime()
    try:
        app = install.app_credentials(runtime.settings, runtime.secrets)
    except install.OAuthRefused as e:
        raise _refused(e) from None
    result = app_home_patch_id_token(_shopify_req(), install.shopify_tokens.app_config(app))
    if not result.ok:
        raise ApiError(400, result.log.code, result.log.detail.split(". ")[0])
    return _as_response(result.response.status, result.response.headers, result.response.body)


@bp.post("/shopify/token-exchange")
@operation("Embedded app: exchange the App Bridge session token (Authorization: Bearer) for an offline token. "
           "A browser (Accept: text/html) is signed in as the store's owner and sent to /onboarding/{brand_id} "
           "(or the dashboard once onboarding is complete).",
           response="ShopifyInstall", errors=(401, 502, 503), public=True, tag="shopify")
def token_exchange() -> ResponseReturnValue:
    """The session token is checked by shopifyapp (signed with the app's secret, for this app (``aud``),
    current (``exp``/``nbf``)) and by us (``dest`` a shop, ``iss`` its admin); then shopifyapp trades it
    for an expiring offline token, whose refresh token is kept beside it in the secret store."""
    runtime = current_runtime()
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    now = current_now()
    try:
        if scheme.lower() != "bearer" or not bearer.strip():
            raise install.OAuthRefused(401, "invalid_session_token",
                                       "send the session token as Authorization: Bearer <token>")
        app = install.app_credentials(runtime.settings, runtime.secrets)
        token = install.verify_app_home_request(app, _shopify_req())
        grant = install.exchange_session_token(runtime.settings, app, token)
    except install.Bounce:
        raise _refused(install.OAuthRefused(401, "invalid_session_token", "the session token is missing")) from None
    except install.OAuthRefused as e:
        raise _refused(e) from None
    done = _finish(token.shop, grant, now)
    if not _wants_page():
        return done
    brand_id = str(done["brand_id"])
    return _signed_in(redirect(_destination(brand_id, now), code=302), token.shop, brand_id, now)
