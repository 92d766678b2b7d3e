"""Connecting ad accounts by OAuth: authorize, the platform's callback, the account picker, connect.

* ``POST /api/brands/<brand_id>/integrations/<platform>/authorize`` → ``{"authorize_url",
  "state_expires_at"}`` (the state nonce is bound to the brand, the platform and the caller).
* ``GET /oauth/<platform>/callback`` (public: the state is the authentication) trades the code, puts
  the grant in the secret store only, and sends the browser to
  ``/onboarding/<brand_id>?step=accounts&platform=<platform>`` (``&error=<code>`` when the state was
  good but the rest failed: the person declined, the code was refused...). A missing, malformed,
  unknown, reused, expired or other platform's state answers JSON 400/401 and writes nothing.
* ``GET …/integrations/<platform>/accounts``: the accounts the grant reaches.
* ``POST …/integrations/<platform>/accounts`` ``{"account_ids"}`` → 202: connected, first sync enqueued.
* ``DELETE …/integrations/<platform>/authorization``: revoke the grant at the platform and delete it.

The checks and the calls are :mod:`tower.sync.ad_oauth`'s.
"""

from __future__ import annotations

import urllib.parse

from flask import Blueprint, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from tower.api.auth import check_scope
from tower.api.brands import brand_info
from tower.api.errors import ApiError
from tower.api.errors import refused as _refused  # one mapper for every OAuth refusal
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.api.schemas import AdAccountsBody
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


def _brand(brand_id: str, platform: str) -> str:
    """The platform, once the caller may see the brand and it exists (403 / 404 otherwise)."""
    check_scope(current_caller(), brand_id)
    brand_info(current_runtime(), brand_id, current_now())
    try:
        return platform_of(platform)
    except OAuthRefused as e:
        raise _refused(e) from None


@bp.post(f"{_BRAND}/authorize")
@operation("Start connecting the platform's ad accounts by OAuth: the URL to send the person to.",
           response="AdAuthorize", errors=(403, 404, 503), tag="integrations")
def authorize(brand_id: str, platform: str) -> ResponseReturnValue:
    """A state nonce (single use, ``TOWER_AD_OAUTH_STATE_SECONDS``) is stored for the callback."""
    platform = _brand(brand_id, platform)
    runtime = current_runtime()
    try:
        app = app_credentials(runtime.settings, runtime.secrets, platform)
        url, expires = ad_oauth.authorize_url(runtime.settings, runtime.store, app, brand_id=brand_id,
                                              actor=current_caller().actor, now=current_now())
    except OAuthRefused as e:
        raise _refused(e) from None
    return {"authorize_url": url, "state_expires_at": expires.isoformat()}


def _onboarding(brand_id: str, platform: str, error: str | None = None) -> ResponseReturnValue:
    query = {"step": "accounts", "platform": platform, **({"error": error} if error else {})}
    return redirect(f"/onboarding/{urllib.parse.quote(brand_id)}?{urllib.parse.urlencode(query)}", code=302)


@bp.get("/oauth/<platform>/callback")
@operation("The platform's redirect after consent: trade the code, keep the grant, back to the onboarding page.",
           response="Redirect to /onboarding/{brand_id}?step=accounts&platform={platform}[&error=code].",
           errors=(400, 401, 404), query=_CALLBACK, public=True, tag="integrations", redirect=True)
def callback(platform: str) -> ResponseReturnValue:
    """The state is checked (and used up) before anything else; the grant goes to the secret store only."""
    runtime = current_runtime()
    now = current_now()
    try:
        platform = platform_of(platform)
        state = ad_oauth.consume_state(runtime.store, platform, request.args.get("state", ""), now)
    except OAuthRefused as e:
        raise _refused(e) from None
    brand_id = str(state["brand_id"])
    if request.args.get("error"):
        return _onboarding(brand_id, platform, "access_denied")
    code = request.args.get("auth_code" if platform == "tiktok" else "code") or request.args.get("code", "")
    try:
        app = app_credentials(runtime.settings, runtime.secrets, platform)
        grant = ad_oauth.exchange_code(runtime.settings, app, code, now=now)
    except OAuthRefused as e:
        return _onboarding(brand_id, platform, e.code)
    grant["authorized_by"] = state.get("actor")
    store_grant(runtime.secrets, brand_id, platform, grant)
    return _onboarding(brand_id, platform)


@bp.get(f"{_BRAND}/accounts")
@operation("The ad accounts the brand's grant reaches (the account picker).", response="AdAccounts",
           errors=(403, 404, 409, 502, 503), tag="integrations")
def accounts(brand_id: str, platform: str) -> ResponseReturnValue:
    """409 ``not_authorized`` before the OAuth flow, ``needs_reconnect`` when the platform rejects the grant."""
    platform = _brand(brand_id, platform)
    runtime = current_runtime()
    try:
        found = ad_oauth.list_accounts(runtime.settings, runtime.secrets, brand_id, platform)
    except OAuthRefused as e:
        raise _refused(e) from None
    return {"accounts": found}


@bp.post(f"{_BRAND}/accounts")
@operation("Connect these accounts of the brand's grant and start their first sync.", response="AdConnected",
           body=AdAccountsBody, errors=(400, 403, 404, 409, 502, 503), tag="integrations")
def connect(brand_id: str, platform: str) -> ResponseReturnValue:
    """Each id must be one the grant reaches; the first sync is enqueued on the sync queue (202)."""
    platform = _brand(brand_id, platform)
    body = json_body(AdAccountsBody)
    runtime = current_runtime()
    try:
        rows = ad_oauth.connect_accounts(runtime, runtime.tasks, brand_id, platform, body.account_ids,
                                         now=current_now())
    except OAuthRefused as e:
        raise _refused(e) from None
    out = [{"platform": r["platform"], "account_id": r["account_id"], "status": "connected",
            "account_currency": r["account_currency"], "account_timezone": r["account_timezone"]} for r in rows]
    return jsonify({"integrations": out}), 202


@bp.delete(f"{_BRAND}/authorization")
@operation("Revoke the brand's grant at the platform and delete it from the secret store.",
           response="AdRevoked", errors=(403, 404, 409), tag="integrations")
def revoke(brand_id: str, platform: str) -> ResponseReturnValue:
    """Connected accounts stay listed as ``needs_reconnect`` (revoked) until they are connected again."""
    platform = _brand(brand_id, platform)
    runtime = current_runtime()
    try:
        done = ad_oauth.revoke_grant(runtime, brand_id, platform, now=current_now())
    except OAuthRefused as e:
        raise _refused(e) from None
    if not done:
        raise ApiError(409, "not_authorized", f"brand {brand_id!r} holds no {platform} grant to revoke")
    return {"revoked": True}
