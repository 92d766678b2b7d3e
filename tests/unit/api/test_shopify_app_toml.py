"""``shopify.app.toml`` says what the product does: its scopes, its callback, the compliance topics it handles."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from tower.config import Settings
from tower.connectors.shopify.webhooks import PRIVACY_TOPICS
from tower.sync import install

TOML = Path(__file__).resolve().parents[3] / "shopify.app.toml"


def test_the_app_configuration_matches_the_product() -> None:
    app = tomllib.loads(TOML.read_text())
    assert app["access_scopes"]["scopes"].split(",") == list(install.SCOPES)
    # the API may answer under a prefix (a Cloud Function's name): the route is what ends the path
    [redirect] = app["auth"]["redirect_urls"]
    assert urlsplit(redirect).path.endswith(install.CALLBACK_PATH)
    assert urlsplit(app["application_url"]).path.endswith("/shopify/install")
    assert app["webhooks"]["api_version"] == Settings().shopify_api_version
    [compliance] = app["webhooks"]["subscriptions"]
    assert set(compliance["compliance_topics"]) == PRIVACY_TOPICS
    assert urlsplit(compliance["uri"]).scheme == "https"
