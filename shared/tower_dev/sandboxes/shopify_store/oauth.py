"""The sandbox store's OAuth endpoints: ``/admin/oauth/authorize`` and ``/admin/oauth/access_token``.

What Shopify does and this keeps:

* ``GET /admin/oauth/authorize?client_id&scope&redirect_uri&state`` — after the merchant approves
  (the sandbox approves at once: there is nobody to click), a 302 to ``redirect_uri`` with ``code``,
  ``host``, ``shop``, ``state``, ``timestamp`` and ``hmac`` (hex HMAC-SHA256 under the app's secret
  over the other parameters sorted ``k=v`` joined by ``&``). An unknown client id or a missing
  redirect URI is a 400 page, not a redirect. All shops share the sandbox's origin, so the shop comes
  from the ``shop`` parameter the product adds when it talks to a sandbox.
* ``POST /admin/oauth/access_token`` (form or JSON, as ``shopifyapp`` sends it) — ``client_id`` +
  ``client_secret`` and one of three grants:

  - ``code`` (authorization code): single use, expires after a minute;
  - ``grant_type=urn:ietf:params:oauth:grant-type:token-exchange`` with ``subject_token`` (a session
    token: HS256 under the secret, ``aud`` the client id, ``dest`` the shop, current),
    ``subject_token_type=urn:ietf:params:oauth:token-type:id_token`` and ``requested_token_type``
    ``urn:shopify:params:oauth:token-type:offline-access-token`` or ``…:online-access-token``;
  - ``grant_type=refresh_token`` with ``refresh_token``: a new access token and a new refresh token
    (rotation); the refresh token used stays valid until its replacement is first used, as Shopify's
    refreshes do since August 2026; ``invalid_grant`` for an unknown, replaced or expired one.

  ``expiring=1`` on an offline grant asks for an expiring token: ``expires_in`` (an hour),
  ``refresh_token`` and ``refresh_token_expires_in``; without it the offline token never expires.
  Online tokens always expire (a day) and name the user (``associated_user``). Answers
  ``{"access_token", "scope", …}``; a new token joins the sandbox's tokens with the scopes granted,
  and the Admin API refuses an expired one (401, as a revoked one), on the sandbox's clock.

:func:`session_token` mints what App Bridge hands an embedded app, for tests and the demo.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.server import ShopifySandbox

CODE_TTL = timedelta(minutes=1)
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
REFRESH_GRANT = "refresh_token"
ONLINE_TOKEN_SECONDS = 86399


def query_hmac(secret: str, params: dict[str, str]) -> str:
    """Shopify's ``hmac`` of a redirect's query (every parameter but ``hmac``, sorted)."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def session_token(client_id: str, secret: str, shop_domain: str, now: datetime, *, lifetime: int = 60,
                  audience: str | None = None) -> str:
    """An App Bridge session token for a shop (``audience`` other than the client id forges one)."""
    import jwt

    at = int(now.timestamp())
    claims = {"iss": f"https://{shop_domain}/admin", "dest": f"https://{shop_domain}", "aud": audience or client_id,
              "sub": "42", "exp": at + lifetime, "nbf": at, "iat": at, "jti": secrets.token_hex(8),
              "sid": secrets.token_hex(8)}
    return str(jwt.encode(claims, secret, algorithm="HS256"))


@dataclass
class _Code:
    brand_id: str
    scopes: frozenset[str]
    expires: datetime


@dataclass
class _Refresh:
    brand_id: str
    scopes: frozenset[str]
    expires: datetime
    #: The refresh token this one replaced: retired when this one is first used.
    replaces: str | None = None


@dataclass
class OAuthApps:
    """The apps the sandbox knows (client id → secret), the codes and refresh tokens it issued."""

    apps: dict[str, str] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    #: Every token issued, in order: (brand_id, grant) — lets a test see how a token was obtained.
    issued: list[tuple[str, str]] = field(default_factory=list)
    refresh_tokens: dict[str, _Refresh] = field(default_factory=dict)
    #: When each expiring access token stops working (the sandbox's clock); absent: never.
    token_expiry: dict[str, datetime] = field(default_factory=dict)
    #: An expiring offline token's life (Shopify's: an hour) and its refresh token's (a test may shorten them).
    access_token_seconds: int = 3600
    refresh_token_seconds: int = 90 * 86400

    #: client id → the app's URL, which the admin frames when the embedded app opens (:mod:`.admin`).
    app_urls: dict[str, str] = field(default_factory=dict)
    #: Session tokens the admin minted for embedded apps (the launch query's and App Bridge's).
    id_tokens_minted: int = 0

    def register(self, client_id: str, secret: str, app_url: str = "") -> None:
        """Know an app (what creating it in the Partner Dashboard does), with its app URL when embedded."""
        self.apps[client_id] = secret
        if app_url:
            self.app_urls[client_id] = app_url


def _page(status: int, text: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body>{text}</body></html>".encode()


def _shop_by_domain(sandbox: ShopifySandbox, domain: str) -> str | None:
    return next((b for b, s in sandbox.shops.items() if s.state.shop_domain == domain), None)


def authorize(sandbox: ShopifySandbox, query: str) -> tuple[int, dict[str, str], bytes]:
    """``GET /admin/oauth/authorize``: (status, headers, body)."""
    oauth: OAuthApps = sandbox.oauth
    q = dict(parse_qsl(query, keep_blank_values=True))
    secret = oauth.apps.get(q.get("client_id", ""))
    if secret is None:
        return _page(400, "Oauth error invalid_request: The client_id is not valid")
    if not q.get("redirect_uri"):
        return _page(400, "Oauth error invalid_request: The redirect_uri is missing")
    domain = q.get("shop", "")
    brand = _shop_by_domain(sandbox, domain)
    if brand is None:
        return _page(404, "There is no store at this address")
    now = sandbox.clock.now()
    code = secrets.token_hex(16)
    scopes = frozenset(s for s in q.get("scope", "").split(",") if s)
    oauth.codes[code] = _Code(brand, scopes, now + CODE_TTL)
    params = {"code": code, "host": domain.split(".", 1)[0], "shop": domain, "state": q.get("state", ""),
              "timestamp": str(int(now.timestamp()))}
    params["hmac"] = query_hmac(secret, params)
    sep = "&" if "?" in q["redirect_uri"] else "?"
    return 302, {"Location": f"{q['redirect_uri']}{sep}{urlencode(params)}"}, b""


def _error(status: int, error: str, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": error, "error_description": description}


def access_token(sandbox: ShopifySandbox, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    """``POST /admin/oauth/access_token``: (status, JSON body)."""
    oauth: OAuthApps = sandbox.oauth
    try:
        form = json.loads(raw or b"{}") if "json" in content_type else dict(parse_qsl(raw.decode()))
    except ValueError:
        return _error(400, "invalid_request", "the body is neither a form nor JSON")
    client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
    secret = oauth.apps.get(client_id)
    if secret is None or not hmac.compare_digest(secret.encode(), client_secret.encode()):
        return _error(401, "invalid_client", "Client credentials are invalid")
    if form.get("grant_type") == TOKEN_EXCHANGE_GRANT:
        return _exchange(sandbox, client_id, secret, form)
    if form.get("grant_type") == REFRESH_GRANT:
        return _refresh(sandbox, str(form.get("refresh_token", "")))
    code = oauth.codes.pop(str(form.get("code", "")), None)
    if code is None or code.expires <= sandbox.clock.now():
        return _error(400, "invalid_request", "The authorization code was not found or was already used")
    return 200, _issue(sandbox, code.brand_id, code.scopes, "authorization_code", expiring=_expiring(form))


def _expiring(form: dict[str, Any]) -> bool:
    """``expiring=1`` (JSON number or form string) asks for an expiring offline token."""
    return str(form.get("expiring", "0")).strip() in ("1", "true")


def _refresh(sandbox: ShopifySandbox, token: str) -> tuple[int, dict[str, Any]]:
    oauth: OAuthApps = sandbox.oauth
    held = oauth.refresh_tokens.get(token)
    if held is None or held.expires <= sandbox.clock.now():
        oauth.refresh_tokens.pop(token, None)
        return _error(400, "invalid_grant", "The refresh token is invalid, expired or was revoked")
    if held.replaces:  # its predecessor is retired now that the replacement is in use
        oauth.refresh_tokens.pop(held.replaces, None)
        held.replaces = None
    return 200, _issue(sandbox, held.brand_id, held.scopes, "refresh_token", expiring=True, replaces=token)


def _exchange(sandbox: ShopifySandbox, client_id: str, secret: str, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    import jwt

    if form.get("subject_token_type") != ID_TOKEN_TYPE:
        return _error(400, "invalid_request", "subject_token_type must be the id_token type")
    online = form.get("requested_token_type") == ONLINE_TOKEN_TYPE
    if not online and form.get("requested_token_type") != OFFLINE_TOKEN_TYPE:
        return _error(400, "invalid_request", "requested_token_type must be the offline or online access token type")
    try:
        claims = jwt.decode(str(form.get("subject_token", "")), secret, algorithms=["HS256"], audience=client_id,
                            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
    except jwt.InvalidTokenError:
        return _error(400, "invalid_subject_token", "The subject token is invalid")
    at, exp, nbf = sandbox.clock.now().timestamp(), claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or not isinstance(nbf, int | float) or at > exp or at < nbf - 5:
        return _error(400, "invalid_subject_token", "The subject token has expired or is not valid yet")
    brand = _shop_by_domain(sandbox, str(claims.get("dest", "")).removeprefix("https://"))
    if brand is None:
        return _error(400, "invalid_subject_token", "The subject token names no shop")
    shop = sandbox.shops[brand]
    # Token exchange grants the scopes the app's configuration declares; the sandbox's shop keeps its own.
    if online:
        return 200, _online(sandbox, brand, shop.scopes, claims)
    return 200, _issue(sandbox, brand, shop.scopes, "token_exchange", expiring=_expiring(form))


def _online(sandbox: ShopifySandbox, brand_id: str, scopes: frozenset[str], claims: dict[str, Any]) -> dict[str, Any]:
    """An online token: always expiring, no refresh token, the user it acts for."""
    token = f"shpua_{secrets.token_hex(16)}"
    sandbox.tokens[token] = brand_id
    sandbox.oauth.token_expiry[token] = sandbox.clock.now() + timedelta(seconds=ONLINE_TOKEN_SECONDS)
    sandbox.oauth.issued.append((brand_id, "token_exchange_online"))
    scope = ",".join(sorted(scopes))
    user = {"id": int(str(claims.get("sub") or "0")), "first_name": "Sandbox", "last_name": "Merchant",
            "email": "merchant@example.com", "email_verified": True, "account_owner": True, "locale": "en",
            "collaborator": False}
    return {"access_token": token, "scope": scope, "expires_in": ONLINE_TOKEN_SECONDS,
            "associated_user_scope": scope, "associated_user": user}


def _issue(sandbox: ShopifySandbox, brand_id: str, scopes: frozenset[str], grant: str, *, expiring: bool,
           replaces: str | None = None) -> dict[str, Any]:
    oauth: OAuthApps = sandbox.oauth
    token = f"shpat_{secrets.token_hex(16)}"
    sandbox.tokens[token] = brand_id
    shop = sandbox.shops[brand_id]
    if scopes:
        shop.scopes = scopes
    shop.token_expired = False
    oauth.issued.append((brand_id, grant))
    answer: dict[str, Any] = {"access_token": token, "scope": ",".join(sorted(shop.scopes))}
    if expiring:
        now = sandbox.clock.now()
        refresh = f"shprt_{secrets.token_hex(16)}"
        oauth.token_expiry[token] = now + timedelta(seconds=oauth.access_token_seconds)
        oauth.refresh_tokens[refresh] = _Refresh(brand_id, frozenset(shop.scopes),
                                                 now + timedelta(seconds=oauth.refresh_token_seconds), replaces)
        answer |= {"expires_in": oauth.access_token_seconds, "refresh_token": refresh,
                   "refresh_token_expires_in": oauth.refresh_token_seconds}
    return answer
