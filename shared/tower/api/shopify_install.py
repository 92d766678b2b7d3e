"""Installing from Shopify: ``/shopify/install``, ``/shopify/callback``, ``/shopify/token-exchange``.

Public routes (no API key): they are how a merchant arrives, and each authenticates the request
itself — the callback by its HMAC and state nonce, the token exchange by the session token's
signature. The checks and the writes are :mod:`tower.sync.install`'s; a refused request writes
nothing and answers a 4xx naming the problem.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_now, current_runtime
from tower.connectors.retry import ConnectorError, RetriesExhausted
from tower.connectors.shopify.webhooks import verify_oauth_query
from tower.identity.roles import Principal, Role
from tower.identity.sessions import start_session
from tower.sync import install

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


def _refused(e: install.InstallRefused) -> ApiError:
    return ApiError(e.status, e.code, e.message)


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
    callback is what authenticates the install.
    """
    runtime = current_runtime()
    params = request.args.to_dict()
    try:
        app = install.app_credentials(runtime.settings, runtime.secrets)
        if "hmac" in params and not verify_oauth_query(app.secret, params):
            raise install.InstallRefused(401, "invalid_hmac", "hmac does not match the query")
        url = install.install_url(runtime.settings, runtime.store, app, params.get("shop", ""), now=current_now())
    except install.InstallRefused as e:
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
    except install.InstallRefused as e:
        raise _refused(e) from None
    done = _finish(shop, grant, now)
    if not _wants_page():
        return done
    # a merchant's browser: signed in as the store's owner, on to the onboarding wizard
    response = redirect(f"/onboarding/{done['brand_id']}", code=302)
    start_session(response, Principal(name=shop, key_hash="", agency_id=None,
                                      brand_ids=frozenset({str(done["brand_id"])}), role=Role.MERCHANT_OWNER,
                                      subject=shop), now=now)
    return response


def _wants_page() -> bool:
    """Whether the caller is a browser (it prefers HTML to JSON), not an API client."""
    accept = request.accept_mimetypes
    return accept.quality("text/html") > accept.quality("application/json")


@bp.post("/shopify/token-exchange")
@operation("Embedded app: exchange the App Bridge session token (Authorization: Bearer) for an offline token.",
           response="ShopifyInstall", errors=(401, 502, 503), public=True, tag="shopify")
def token_exchange() -> ResponseReturnValue:
    """The session token must be signed with the app's secret, for this app (``aud``), for a shop
    (``dest``), and current (``exp``/``nbf``); then it is traded for an offline token."""
    runtime = current_runtime()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    now = current_now()
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise install.InstallRefused(401, "invalid_session_token",
                                         "send the session token as Authorization: Bearer <token>")
        app = install.app_credentials(runtime.settings, runtime.secrets)
        shop = install.verify_session_token(app, token.strip(), now=now)
        grant = install.exchange_session_token(runtime.settings, app, shop, token.strip())
    except install.InstallRefused as e:
        raise _refused(e) from None
    return _finish(shop, grant, now)
