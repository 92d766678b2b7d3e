"""The Shopify app's credentials and its stores' offline tokens: kept, and refreshed before they expire.

Which library does what, and why:

* **shopifyapp** (Shopify's own app library, ``shopify_app``): the session token (ID token) check,
  token exchange, the refresh of expiring offline tokens, the webhook HMAC, the App Home helpers. It
  encodes Shopify's rules (which claims, which leeway, which grant parameters), so we do not.
* **ours** (:mod:`tower.sync.install`): the authorization code grant and the HMAC of its callback
  query. shopifyapp 1.0.2 has neither: it expects Shopify-managed installation plus token exchange.
* **ShopifyAPI** (:class:`tower.connectors.shopify.client.ShopifyClient`): every Admin API call.

Shopify's public apps must use *expiring* offline tokens (an hour; a refresh token that rotates on
each use), and shopifyapp asks for them by default. The access token stays where every reader finds it
(``integration-<brand>-shopify``, a bare string, :mod:`tower.sync.connect`); the refresh token and the
expiries sit beside it in ``integration-<brand>-shopify-refresh`` (JSON), in the secret store only.
:func:`fresh_token` is what a reader calls: it refreshes through shopifyapp when the token is within a
minute of expiring (shopifyapp's own rule, on the wall clock) and writes both secrets back.

shopifyapp posts to ``https://<shop>/admin/oauth/access_token``. With ``TOWER_SHOPIFY_API_ORIGIN`` set
(the sandbox), :func:`oauth_http_client` hands it an httpx client whose transport sends those requests
to that origin instead, as the Admin API client already does; in production nothing is rewritten.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tower import names
from tower.config import Settings
from tower.ports import NotFound, Secrets
from tower.sync.oauth_common import AppCredentials, OAuthRefused

if TYPE_CHECKING:  # pragma: no cover
    from shopify_app.types import AppConfig

log = logging.getLogger("tower.sync.shopify_tokens")

#: shopifyapp's answers that mean the grant is gone: the merchant must open the app again.
_DEAD_GRANT = frozenset({"invalid_grant", "refresh_token_expired", "invalid_client"})


class TokenRefreshFailed(Exception):
    """The store's token expired and cannot be refreshed (the refresh token is dead or was revoked)."""


def app_secret(settings: Any, secrets: Secrets) -> str:
    """The app's client secret: the setting if given, else the deployment's secret."""
    if getattr(settings, "shopify_api_secret", ""):
        return str(settings.shopify_api_secret)
    try:
        return secrets.get(names.SECRET_SHOPIFY_API_SECRET)
    except NotFound:
        return ""


def app_credentials(settings: Settings, secrets: Secrets) -> AppCredentials:
    """The client id (setting) and secret (setting or secret store).

    Raises:
        OAuthRefused: 503 when either is missing: the deployment is not set up as a Shopify app.
    """
    client_id, secret = settings.shopify_client_id.strip(), app_secret(settings, secrets)
    if not client_id or not secret:
        missing = "TOWER_SHOPIFY_CLIENT_ID" if not client_id else "the shopify-api-secret secret"
        raise OAuthRefused(503, "app_not_configured", f"the Shopify app is not configured: set {missing}")
    return AppCredentials("shopify", client_id, secret)


def app_config(app: AppCredentials) -> AppConfig:
    """shopifyapp's ``AppConfig`` for the app."""
    return {"client_id": app.client_id, "client_secret": app.secret, "old_client_secret": None}


def oauth_http_client(settings: Settings) -> Any:
    """The httpx client shopifyapp posts its token requests with.

    Against the sandbox (``shopify_api_origin`` set) its transport sends ``/admin/oauth/*`` to that
    origin, whatever shop host shopifyapp addressed; in production it is a plain client.
    """
    import httpx  # lazy: shopifyapp's HTTP library loads only for a token request

    origin = settings.shopify_api_origin.strip().rstrip("/")
    timeout = settings.shopify_timeout_seconds
    if not origin:
        return httpx.Client(timeout=timeout)
    target = httpx.URL(origin)

    class _ToSandbox(httpx.HTTPTransport):
        """Every shop's token endpoint is the sandbox's (it serves all shops from one origin)."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/admin/oauth/"):
                request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
                request.headers["Host"] = target.netloc.decode()
            return super().handle_request(request)

    return httpx.Client(timeout=timeout, transport=_ToSandbox())


# -- the refresh record ------------------------------------------------------------------------------
def refresh_secret_id(brand_id: str) -> str:
    """The secret beside the store's token holding its refresh token and expiries."""
    return names.integration_secret_id(brand_id, "shopify", "refresh")


def _iso(seconds: Any, now: datetime) -> str | None:
    return (now + timedelta(seconds=float(seconds))).strftime("%Y-%m-%dT%H:%M:%SZ") if seconds is not None else None


def record_from_grant(shop: str, grant: Mapping[str, Any]) -> dict[str, Any] | None:
    """The refresh record of a token endpoint's raw answer (the authorization code grant's), None when
    the token does not expire.

    The expiries are on the wall clock, as shopifyapp computes and checks them.
    """
    if not grant.get("refresh_token"):
        return None
    now = datetime.now(UTC)
    return {"shop": shop.split(".", 1)[0], "access_mode": "offline", "scope": str(grant.get("scope") or ""),
            "refresh_token": str(grant["refresh_token"]), "expires": _iso(grant.get("expires_in"), now),
            "refresh_token_expires": _iso(grant.get("refresh_token_expires_in"), now)}


def record_of(access: Any) -> dict[str, Any] | None:
    """The refresh record of shopifyapp's ``TokenExchangeAccessToken``, None when it does not expire."""
    if not getattr(access, "refresh_token", None):
        return None
    return {"shop": access.shop, "access_mode": access.access_mode, "scope": access.scope or "",
            "refresh_token": access.refresh_token, "expires": access.expires,
            "refresh_token_expires": access.refresh_token_expires}


def keep_refresh(secrets: Secrets, brand_id: str, record: Mapping[str, Any] | None) -> None:
    """Store the store's refresh record (a new version), or delete a stale one for a non-expiring token."""
    secret_id = refresh_secret_id(brand_id)
    if record is None:
        if secrets.exists(secret_id):
            secrets.delete(secret_id)
        return
    value = json.dumps(dict(record), sort_keys=True)
    if secrets.exists(secret_id):
        secrets.rotate(secret_id, value)
    else:
        secrets.put(secret_id, value)


def forget(secrets: Secrets, brand_id: str) -> None:
    """Delete the refresh record (uninstall, redaction): no credential of the store is left behind."""
    keep_refresh(secrets, brand_id, None)


def fresh_token(settings: Settings, secrets: Secrets, brand_id: str, secret_ref: str) -> str:
    """The store's access token, refreshed first through shopifyapp when it is about to expire.

    A non-expiring token (``tower connect --token``, an old install) has no refresh record and is
    returned as it is. A refresh that fails for a passing reason (network, Shopify's 5xx) leaves the
    stored token to be tried.

    Raises:
        NotFound: The token is not in the secret store.
        TokenRefreshFailed: The token expired and Shopify will not refresh it: open the app again.
    """
    token = secrets.get(secret_ref)
    record_id = refresh_secret_id(brand_id)
    if not secrets.exists(record_id):
        return token
    from shopify_app.exchange.refresh_token import refresh_access_token  # lazy: httpx loads with it

    record = json.loads(secrets.get(record_id))
    try:
        app = app_credentials(settings, secrets)
    except OAuthRefused as e:
        raise TokenRefreshFailed(e.message) from None
    with oauth_http_client(settings) as http:
        result = refresh_access_token(record, app_config(app), http_client=http)
    if not result.ok:
        log.warning("shopify token refresh refused", extra={"brand_id": brand_id, "code": result.log.code})
        if result.log.code in _DEAD_GRANT:
            raise TokenRefreshFailed(
                f"brand {brand_id!r}: Shopify would not refresh the store's token ({result.log.code}); "
                "open the app from the Shopify admin again")
        return token
    if result.access_token is None:  # still valid, or a token that never expires
        return token
    new = str(result.access_token.token)
    secrets.rotate(secret_ref, new)
    keep_refresh(secrets, brand_id, record_of(result.access_token))
    log.info("shopify token refreshed", extra={"brand_id": brand_id})
    return new
