"""Connecting ad accounts by OAuth: authorize, the platform's callback, the account picker, connect.

* ``POST /api/brands/<brand_id>/integrations/<platform>/authorize`` → ``{"authorize_url",
  "state_expires_at"}`` (the state nonce is bound to the brand, the platform, the caller and the browser:
  the answer sets :data:`BROWSER_COOKIE`, whose hash the state keeps).
* ``GET /oauth/<platform>/callback`` (public: the state is the authentication) trades the code, puts
  the grant in the secret store only, and sends the browser to
  ``/onboarding/<brand_id>?step=accounts&platform=<platform>`` (``&error=<code>`` when the state was
  good but the rest failed: the person declined, the code was refused, ``other_browser`` when the
  browser finishing is not the one that started, ``other_person`` when it is signed in as someone else
  than who started; the state is used up either way). A missing, malformed, unknown, reused, expired or
  other platform's state answers JSON 400/401 and writes nothing.
* ``GET …/integrations/<platform>/accounts``: the accounts the grant reaches.
* ``POST …/integrations/<platform>/accounts`` ``{"account_ids"}`` → 202: connected, first sync enqueued.
* ``DELETE …/integrations/<platform>/authorization``: revoke the grant at the platform and delete it.
* ``POST …/integrations/<platform>/authorization/confirm`` ``{"pending"}``: the embedded app's end of a flow.

Started by the embedded app (a Shopify session token: no cookie lives in the admin's frame), the state is
bound to "confirm in the app" instead of a browser: the callback trades the code at once (codes last
minutes), keeps the grant pending (:func:`tower.sync.ad_oauth.keep_pending`) and sends the window into the
starting shop's admin (:func:`tower.billing.admin_app_url`) at
``/onboarding/<brand_id>?step=accounts&platform=<platform>&pending=<id>``; the app there, with that shop's
session token, confirms it into the brand's grant. A forwarded consent link ends in an admin its opener
cannot open, so nothing reaches the brand.

Why the browser binding: a state link (the platform's consent page) sent to someone else would
otherwise attach *their* grant to the sender's brand. The checks and the calls are
:mod:`tower.sync.ad_oauth`'s.
"""

from __future__ import annotations

import functools
import re
import secrets
import urllib.parse
from collections.abc import Callable

from flask import Blueprint, jsonify, make_response, redirect, request
from flask.typing import ResponseReturnValue

from tower.api.auth import check_scope
from tower.api.brands import brand_info
from tower.api.embedded import is_session_token
from tower.api.errors import ApiError
from tower.api.errors import refused as _refused  # one mapper for every OAuth refusal
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.api.schemas import AdAccountsBody, AdConfirmBody
from tower.billing import admin_app_url
from tower.identity.sessions import COOKIE, resolve_session
from tower.runtime import Runtime
from tower.sync import ad_oauth
from tower.sync.ad_oauth import app_credentials
from tower.sync.grants import OAuthRefused, platform_of, store_grant

bp = Blueprint("ad_oauth", __name__)

_BRAND = "/api/brands/<brand_id>/integrations/<platform>"
_CALLBACK = {
    "code": {"schema": {"type": "string"}, "description": "The authorization code (Meta, Google)."},
    "auth_code": {"schema": {"type": "string"}, "description": "TikTok's name for the authorization code."},
    "state": {"schema": {"type": "string"}, "description": "The nonce the authorize step issued."},
    "error": {"schema": {"type": "string"}, "description": "Set by the platform when the person declined."},
}
#: The browser's secret for its OAuth flows (HttpOnly; SameSite=Lax so the platform's redirect, a top-level
#: GET, carries it). One per browser, kept by each authorize, so flows started in parallel tabs all finish:
#: hence Path=/ (the authorize route must see it too).
BROWSER_COOKIE = "tower_oauth_browser"
_BROWSER_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


GrantView = Callable[[Runtime, str, str], ResponseReturnValue]


def grant_route(view: GrantView) -> Callable[[str, str], ResponseReturnValue]:
    """A brand's grant route: the caller may see the brand and it exists (403 / 404), the platform is known
    (404), and the view's :class:`OAuthRefused` answers as its status and code. The view gets
    ``(runtime, brand_id, platform)``."""

    @functools.wraps(view)
    def route(brand_id: str, platform: str) -> ResponseReturnValue:
        runtime = current_runtime()
        check_scope(current_caller(), brand_id)
        brand_info(runtime, brand_id, current_now())
        try:
            return view(runtime, brand_id, platform_of(platform))
        except OAuthRefused as e:
            raise _refused(e) from None

    return route


def _https() -> bool:
    # Behind the load balancer the scheme arrives as X-Forwarded-Proto (the session cookie's rule).
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip() == "https"


@bp.post(f"{_BRAND}/authorize")
@operation("Start connecting the platform's ad accounts by OAuth: the URL to send the person to.",
           response="AdAuthorize", errors=(403, 404, 503), tag="integrations")
@grant_route
def authorize(runtime: Runtime, brand_id: str, platform: str) -> ResponseReturnValue:
    """A state nonce (single use, ``TOWER_AD_OAUTH_STATE_SECONDS``) is stored for the callback, bound to this
    browser by :data:`BROWSER_COOKIE` (kept when the browser has one, else set); for the embedded app (a
    session token, no cookie possible) bound to confirming in the app instead, and no cookie is set."""
    app = app_credentials(runtime.settings, runtime.secrets, platform)
    caller = current_caller()
    if is_session_token(request.headers.get("Authorization")):
        # the embedded app: no cookie lives in the admin's frame, so the app confirms the grant instead
        url, expires = ad_oauth.authorize_url(runtime.settings, runtime.store, app, brand_id=brand_id,
                                              actor=caller.actor, now=current_now(), confirm_shop=caller.subject)
        return {"authorize_url": url, "state_expires_at": expires.isoformat()}
    held = request.cookies.get(BROWSER_COOKIE, "")
    browser = held if _BROWSER_VALUE.fullmatch(held) else secrets.token_urlsafe(32)
    url, expires = ad_oauth.authorize_url(runtime.settings, runtime.store, app, brand_id=brand_id,
                                          actor=caller.actor, now=current_now(), browser=browser)
    response = make_response({"authorize_url": url, "state_expires_at": expires.isoformat()})
    response.set_cookie(BROWSER_COOKIE, browser, max_age=runtime.settings.ad_oauth_state_seconds, path="/",
                        httponly=True, samesite="Lax", secure=_https())
    return response


def _onboarding(brand_id: str, platform: str, error: str | None = None, *, admin: str | None = None,
                pending: str | None = None) -> ResponseReturnValue:
    """Back to the wizard's account step: on our origin, or inside ``admin``'s shop admin (an embedded flow)."""
    query = {"step": "accounts", "platform": platform, **({"error": error} if error else {}),
             **({"pending": pending} if pending else {})}
    path = f"/onboarding/{urllib.parse.quote(brand_id)}?{urllib.parse.urlencode(query)}"
    return redirect(admin_app_url(current_runtime().settings, admin, path) if admin else path, code=302)


def _finisher_problem(runtime: Runtime, state: dict[str, object]) -> str | None:
    """Why this request may not finish the flow the state started (None: it may).

    ``other_browser``: the callback lacks the starting browser's cookie (a consent link opened elsewhere);
    ``other_person``: the browser is signed in, as someone other than who started.
    """
    if not ad_oauth.same_browser(state, request.cookies.get(BROWSER_COOKIE)):
        return "other_browser"
    live = resolve_session(runtime.store, request.cookies.get(COOKIE, ""), now=current_now())
    if live is not None and live.principal.actor != state.get("actor"):
        return "other_person"
    return None


@bp.get("/oauth/<platform>/callback")
@operation("The platform's redirect after consent: trade the code, keep the grant, back to the onboarding page.",
           response="Redirect to /onboarding/{brand_id}?step=accounts&platform={platform}[&error=code].",
           errors=(400, 401, 404), query=_CALLBACK, public=True, tag="integrations", redirect=True)
def callback(platform: str) -> ResponseReturnValue:
    """The state is checked (and used up) before anything else, then who finishes; the grant goes to the
    secret store only."""
    runtime = current_runtime()
    now = current_now()
    try:
        platform = platform_of(platform)
        state = ad_oauth.consume_state(runtime.store, platform, request.args.get("state", ""), now)
    except OAuthRefused as e:
        raise _refused(e) from None
    brand_id = str(state["brand_id"])
    shop = str(state["confirm_shop"]) if state.get("confirm_shop") else None
    # an embedded flow has no browser to check: its grant waits for the app's confirmation instead
    problem = (None if shop else _finisher_problem(runtime, state)) or (
        "access_denied" if request.args.get("error") else None)
    if problem:
        return _onboarding(brand_id, platform, problem, admin=shop)
    code = request.args.get("auth_code" if platform == "tiktok" else "code") or request.args.get("code", "")
    try:
        app = app_credentials(runtime.settings, runtime.secrets, platform)
        grant = ad_oauth.exchange_code(runtime.settings, app, code, now=now)  # codes last minutes: trade it now
    except OAuthRefused as e:
        return _onboarding(brand_id, platform, e.code, admin=shop)
    grant["authorized_by"] = state.get("actor")
    if shop:
        pending = ad_oauth.keep_pending(runtime.store, runtime.secrets, state, grant,
                                        ttl_seconds=runtime.settings.ad_oauth_state_seconds, now=now)
        return _onboarding(brand_id, platform, admin=shop, pending=pending)
    store_grant(runtime.secrets, brand_id, platform, grant)
    return _onboarding(brand_id, platform)


@bp.post(f"{_BRAND}/authorization/confirm")
@operation("Confirm, from the embedded app, the grant its authorization left pending: it becomes the brand's.",
           response="AdConfirmed", body=AdConfirmBody, errors=(400, 403, 404, 410), tag="integrations")
@grant_route
def confirm(runtime: Runtime, brand_id: str, platform: str) -> ResponseReturnValue:
    """The pending grant must be this brand's and platform's and started by this caller (the shop's session
    token); single use. Then the account picker (``GET …/accounts``) reads it."""
    body = json_body(AdConfirmBody)
    grant = ad_oauth.confirm_pending(runtime.store, runtime.secrets, body.pending, brand_id=brand_id,
                                     platform=platform, actor=current_caller().actor, now=current_now())
    store_grant(runtime.secrets, brand_id, platform, grant)
    return {"confirmed": True, "brand_id": brand_id, "platform": platform}


@bp.get(f"{_BRAND}/accounts")
@operation("The ad accounts the brand's grant reaches (the account picker).", response="AdAccounts",
           errors=(403, 404, 409, 502, 503), tag="integrations")
@grant_route
def accounts(runtime: Runtime, brand_id: str, platform: str) -> ResponseReturnValue:
    """409 ``not_authorized`` before the OAuth flow, ``needs_reconnect`` when the platform rejects the grant."""
    return {"accounts": ad_oauth.list_accounts(runtime.settings, runtime.secrets, brand_id, platform)}


@bp.post(f"{_BRAND}/accounts")
@operation("Connect these accounts of the brand's grant and start their first sync.", response="AdConnected",
           body=AdAccountsBody, errors=(400, 403, 404, 409, 502, 503), tag="integrations")
@grant_route
def connect(runtime: Runtime, brand_id: str, platform: str) -> ResponseReturnValue:
    """Each id must be one the grant reaches; the first sync is enqueued on the sync queue (202)."""
    body = json_body(AdAccountsBody)
    rows = ad_oauth.connect_accounts(runtime, runtime.tasks, brand_id, platform, body.account_ids, now=current_now())
    out = [{"platform": r["platform"], "account_id": r["account_id"], "status": "connected",
            "account_currency": r["account_currency"], "account_timezone": r["account_timezone"]} for r in rows]
    return jsonify({"integrations": out}), 202


@bp.delete(f"{_BRAND}/authorization")
@operation("Revoke the brand's grant at the platform and delete it from the secret store.",
           response="AdRevoked", errors=(403, 404, 409), tag="integrations")
@grant_route
def revoke(runtime: Runtime, brand_id: str, platform: str) -> ResponseReturnValue:
    """Connected accounts stay listed as ``needs_reconnect`` (revoked) until they are connected again."""
    if not ad_oauth.revoke_grant(runtime, brand_id, platform, now=current_now()):
        raise ApiError(409, "not_authorized", f"brand {brand_id!r} holds no {platform} grant to revoke")
    return {"revoked": True}
