"""An ad platform's OAuth grant as the secret store keeps it, and the app credentials behind it.

A grant is one JSON secret per brand and platform (``integration-<brand>-<platform>-oauth``):
``kind`` ``"oauth"``, ``access_token``, ``expires_at`` (ISO, UTC), Google's ``refresh_token``,
TikTok's ``advertiser_ids``. Accounts connected from it refer to it by ``secret_ref``; a token pasted
with ``tower connect --token`` stays a bare string (:func:`parse_grant` tells them apart).
:func:`google_refresh` is what lets the Google Ads client refresh the token and write each new one
back. Shared by the OAuth flow (:mod:`tower.sync.ad_oauth`) and the syncs (:mod:`tower.sync.connect`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tower import names
from tower.config import Settings
from tower.connectors.ad_platforms import AdSyncUsageError, check_platform
from tower.connectors.google_ads.client import RefreshGrant
from tower.ports import Secrets
from tower.sync.oauth_common import AppCredentials, OAuthRefused  # shared with the Shopify install

GRANT_KIND = "oauth"
_APP_ENV = {"meta": "TOWER_META_APP_ID", "tiktok": "TOWER_TIKTOK_APP_ID", "google_ads": "TOWER_GOOGLE_ADS_CLIENT_ID"}


def platform_of(platform: str) -> str:
    """The platform, or 404 ``unknown_platform``."""
    try:
        return check_platform(platform)
    except AdSyncUsageError as e:
        raise OAuthRefused(404, "unknown_platform", str(e)) from None


def google_app(settings: Settings, secrets: Secrets) -> AppCredentials:
    """The Google OAuth client: its id (setting) and secret (setting, else the secret store).

    Raises:
        OAuthRefused: 503 ``app_not_configured`` naming what is missing.
    """
    return app_of("google_ads", settings.google_ads_client_id, settings.google_ads_client_secret or (
        secrets.get(names.SECRET_GOOGLE_ADS_CLIENT_SECRET) if secrets.exists(names.SECRET_GOOGLE_ADS_CLIENT_SECRET)
        else ""), names.SECRET_GOOGLE_ADS_CLIENT_SECRET)


def app_of(platform: str, client_id: str, secret: str, secret_id: str) -> AppCredentials:
    """The app's credentials, or 503 naming the setting or secret that is missing."""
    env = _APP_ENV[platform]
    if not client_id.strip() or not secret.strip():
        missing = env if not client_id.strip() else f"{env.replace('_ID', '_SECRET')} or the {secret_id} secret"
        raise OAuthRefused(503, "app_not_configured", f"the {platform} app is not configured: set {missing}")
    return AppCredentials(platform, client_id.strip(), secret.strip())


def grant_secret_id(brand_id: str, platform: str) -> str:
    """The secret holding a brand's grant for one platform."""
    return names.integration_secret_id(brand_id, platform, GRANT_KIND)


def store_grant(secrets: Secrets, brand_id: str, platform: str, grant: Mapping[str, Any]) -> str:
    """Put the grant in the secret store (a new version when there is one); return its secret id."""
    secret_id = grant_secret_id(brand_id, platform)
    value = json.dumps(dict(grant), sort_keys=True)
    if secrets.exists(secret_id):
        secrets.rotate(secret_id, value)
    else:
        secrets.put(secret_id, value)
    return secret_id


def parse_grant(value: str) -> dict[str, Any] | None:
    """A secret's grant, or None when it holds a pasted token (``tower connect --token``)."""
    if not value.startswith("{"):
        return None
    try:
        grant = json.loads(value)
    except ValueError:
        return None
    return grant if isinstance(grant, dict) and grant.get("kind") == GRANT_KIND else None


def load_grant(secrets: Secrets, brand_id: str, platform: str) -> dict[str, Any]:
    """The brand's grant for the platform.

    Raises:
        OAuthRefused: 409 ``not_authorized`` when there is none (authorize first).
    """
    secret_id = grant_secret_id(brand_id, platform)
    grant = parse_grant(secrets.get(secret_id)) if secrets.exists(secret_id) else None
    if grant is None:
        raise OAuthRefused(409, "not_authorized",
                           f"brand {brand_id!r} has not authorized {platform}: POST .../integrations/{platform}/"
                           "authorize and follow its authorize_url first")
    return grant


def _naive_utc(iso: str | None) -> datetime | None:
    """google-auth keeps expiries as naive UTC."""
    if not iso:
        return None
    at = datetime.fromisoformat(iso)
    return (at.astimezone(UTC) if at.tzinfo else at).replace(tzinfo=None)


def google_refresh(settings: Settings, secrets: Secrets, brand_id: str, grant: Mapping[str, Any]) -> RefreshGrant:
    """What refreshes a brand's Google grant's token; each new token is written back to the grant's secret."""
    app = google_app(settings, secrets)

    def keep(token: str, expiry: datetime | None) -> None:
        secret_id = grant_secret_id(brand_id, "google_ads")
        current = parse_grant(secrets.get(secret_id)) or dict(grant)
        current["access_token"] = token
        current["expires_at"] = expiry.replace(tzinfo=UTC).isoformat() if expiry else None
        secrets.rotate(secret_id, json.dumps(current, sort_keys=True))

    return RefreshGrant(str(grant.get("refresh_token") or ""), app.client_id, app.secret,
                        settings.google_oauth_token_uri, _naive_utc(grant.get("expires_at")), keep)


def lapsing_expiry(secrets: Secrets, integ: Mapping[str, Any]) -> datetime | None:
    """When the grant of an integration row stops working if nothing can refresh it (Meta's ~60-day
    token); None for a Google grant (refreshed), a token without an expiry (TikTok's) or a pasted token."""
    grant = parse_grant(secrets.get(integ["secret_ref"])) if secrets.exists(integ["secret_ref"]) else None
    if grant is None or grant.get("refresh_token") or not grant.get("expires_at"):
        return None
    at = datetime.fromisoformat(str(grant["expires_at"]))
    return at if at.tzinfo else at.replace(tzinfo=UTC)
