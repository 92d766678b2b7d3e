"""The embedded app: the page inside the Shopify admin's frame, and its session tokens as API credentials.

Inside the admin the page is a third-party frame: a SameSite=Lax session cookie is not sent there, so
the page does what Shopify documents for embedded apps instead. It loads App Bridge, asks it for a fresh
session token before every API call (``await shopify.idToken()``) and sends it as
``Authorization: Bearer <session token>``; the API verifies the token on each request
(:func:`session_token_caller`, with Shopify's ``shopifyapp`` through :mod:`tower.sync.install`) and
treats its caller as the merchant owner of the shop's brand — the principal ``POST /api/session`` makes
from the same token. A bearer header is not ambient (a cross-site page cannot make a browser send it),
so such a request needs no CSRF token.

The page itself (:func:`embedded_page`): opened with ``embedded=1`` and a syntactically valid
``NAME.myshopify.com`` ``shop``, ``index.html`` is served with App Bridge's script tag and the
``shopify-api-key`` meta, and a Content-Security-Policy whose ``frame-ancestors`` are the shop's admin
origins (``https://<shop> https://admin.shopify.com``, plus the sandbox's origin on the embedded
default, where the sandbox plays the admin) and whose ``script-src`` allows App Bridge's origin. Any
other page keeps ``frame-ancestors 'none'``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flask import Response

from tower.api.auth import AUTH_HEADERS, bearer_token
from tower.api.errors import ApiError
from tower.api.headers import image_origin, page_csp
from tower.identity.keys import KEY_PREFIX
from tower.identity.roles import IdentityError, Principal, Role

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from tower.config import Settings
    from tower.runtime import Runtime

SHOPIFY_APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
"""Where Shopify requires an embedded app to load App Bridge from."""
SANDBOX_APP_BRIDGE_PATH = "/shopifycloud/app-bridge.js"
"""The sandbox store's stand-in for it, on the sandbox's origin (tower_dev.sandboxes.shopify_store.admin)."""
SHOPIFY_ADMIN = "https://admin.shopify.com"
#: A shop's domain as Shopify issues them; nothing else is ever written into a policy or a page.
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}\.myshopify\.com$")
#: A JWT's shape: three base64url segments (an API key never has one: it is ``tower_`` and hex).
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def is_session_token(header: str | None) -> bool:
    """Whether an Authorization header carries a JWT (a Shopify session token) rather than an API key."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    return scheme.lower() == "bearer" and not token.startswith(KEY_PREFIX) and bool(_JWT.match(token))


def session_token_principal(runtime: Runtime, token: str) -> Principal:
    """The merchant owner of the brand installed for a verified session token's shop.

    Raises:
        IdentityError: 401 invalid_session_token (signature, audience, expiry, shop: shopifyapp's check
            and ours), 503 when the app is not configured, 403 not_installed for a shop with no brand.
    """
    from tower.sync import install  # lazy: shopifyapp and the Shopify connector load only here

    try:
        app = install.app_credentials(runtime.settings, runtime.secrets)
        shop = install.verify_session_token(app, token)  # shopifyapp: exp/nbf on the wall clock
    except install.OAuthRefused as e:
        raise IdentityError(e.status, e.code, e.message) from None
    rows = runtime.warehouse.rows("SELECT brand_id FROM brands WHERE shop_domain = @shop ORDER BY created_at LIMIT 1",
                                  {"shop": shop})
    if not rows:
        raise IdentityError(403, "not_installed", f"{shop} has not installed the app yet: install it first")
    brand_id = str(rows[0]["brand_id"])
    return Principal(name=shop, key_hash="", agency_id=None, brand_ids=frozenset({brand_id}),
                     role=Role.MERCHANT_OWNER, subject=shop)


def session_token_caller(runtime: Runtime, header: str | None) -> Principal:
    """The caller of an API request authenticated by a Shopify session token (checked on every request).

    Raises:
        ApiError: the token's refusal (401 with ``WWW-Authenticate``, 403, 503).
    """
    try:
        return session_token_principal(runtime, bearer_token(header))
    except IdentityError as e:
        raise ApiError(e.status, e.code, e.message, headers=AUTH_HEADERS if e.status == 401 else None) from None


def embedded_shop(args: Mapping[str, str]) -> str | None:
    """The shop whose admin frames this page load: ``embedded=1`` with a valid ``shop``; None otherwise."""
    shop = str(args.get("shop", "")).strip().lower()
    return shop if args.get("embedded") == "1" and _SHOP.match(shop) else None


def app_bridge_url(settings: Settings) -> str:
    """App Bridge's script: the setting; else the sandbox's stand-in when the Admin API is the sandbox's,
    else Shopify's CDN."""
    if settings.shopify_app_bridge_url:
        return settings.shopify_app_bridge_url
    origin = image_origin(settings.shopify_api_origin) if settings.shopify_api_origin else None
    return f"{origin}{SANDBOX_APP_BRIDGE_PATH}" if origin else SHOPIFY_APP_BRIDGE


def page_policy(settings: Settings, connect: Sequence[str], shop: str | None = None) -> str:
    """The page's Content-Security-Policy; for a page embedded in ``shop``'s admin, framed by it and
    loading App Bridge.

    Product pictures come from Shopify's CDN, or from the configured Admin API origin (the sandbox's);
    the page calls ``connect`` (Firebase Auth's origins, :func:`tower.api.session.identity_toolkit`).
    """
    images = [settings.shopify_api_origin] if settings.shopify_api_origin else []
    if shop is None:
        return page_csp(images, connect)
    # on the embedded default the sandbox store's own pages play the admin that frames the app
    sandbox = image_origin(settings.shopify_api_origin) if settings.shopify_api_origin else None
    ancestors = " ".join([f"https://{shop}", SHOPIFY_ADMIN, *([sandbox] if sandbox else [])])
    bridge = image_origin(app_bridge_url(settings))
    return page_csp(images, connect, script_origins=[bridge] if bridge else [], frame_ancestors=ancestors)


def embedded_page(index: Path, settings: Settings, shop: str, connect: Sequence[str]) -> Response:
    """``index.html`` for the admin's frame: App Bridge first in ``<head>`` (Shopify requires it to be
    the first script, neither async nor deferred) with the app's client id, and the embedded policy."""
    client_id = html.escape(settings.shopify_client_id.strip(), quote=True)
    src = html.escape(app_bridge_url(settings), quote=True)
    tags = (f'<meta name="shopify-api-key" content="{client_id}" />'
            f'<script src="{src}" data-api-key="{client_id}"></script>')
    text = index.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text, flags=re.IGNORECASE)
    at = head.end() if head else 0
    response = Response(text[:at] + tags + text[at:], mimetype="text/html")
    response.headers["Content-Security-Policy"] = page_policy(settings, connect, shop)
    response.headers["Cache-Control"] = "no-cache"
    return response
