"""Firestore's TTL policies delete exactly the timestamps the product writes: processed_events (the webhook
handler) and shopify_oauth_states (an install's nonce)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from test_terraform import Config

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_secrets import LocalSecrets
from tower.adapters.local_store import LocalStore
from tower.sync import webhooks

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def warehouse() -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(":memory:")
    wh.init_schema()
    yield wh
    wh.close()


def _signed(secret: str, body: bytes) -> str:
    # Shopify's X-Shopify-Hmac-Sha256: base64 of the body's HMAC-SHA256 under the app secret.
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _ttl(rname: str = "processed_events_ttl") -> tuple[str, str]:
    [field] = [f for f in Config.from_repo().instances("google_firestore_field") if f.rname == rname]
    assert field.blocks("ttl_config"), f"the {rname} field has no TTL policy"
    return str(field.attr("collection")), str(field.attr("field"))


def test_the_ttl_field_is_the_expiry_each_processed_event_carries(warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    collection, field = _ttl()
    store = LocalStore(tmp_path / "store.sqlite")
    handler = webhooks.WebhookHandler(warehouse=warehouse, store=store, secrets=LocalSecrets(tmp_path / "s"),
                                      app_secret="shpss_test", now=lambda: NOW)
    body = json.dumps({"id": 1}).encode()
    headers = {"X-Shopify-Hmac-Sha256": _signed("shpss_test", body), "X-Shopify-Topic": "orders/create",
               "X-Shopify-Shop-Domain": "nobody.myshopify.com", "X-Shopify-Webhook-Id": "w-1"}
    assert handler.handle(body, headers).status == 200  # an unknown shop: recorded as ignored all the same
    path = webhooks.event_path("w-1")
    assert path.split("/")[0] == collection
    record = store.get(path)
    assert record is not None
    assert record[field] == NOW + webhooks.PROCESSED_EVENT_RETENTION
    # Shopify retries a failed delivery for hours; the record outlives every retry.
    assert webhooks.PROCESSED_EVENT_RETENTION.days >= 2
    store.close()


def test_an_install_state_nonce_carries_the_expiry_its_ttl_deletes(tmp_path: Path) -> None:
    from tower.config import Settings
    from tower.sync import install

    collection, field = _ttl("shopify_oauth_states_ttl")
    assert collection == install.STATE_COLLECTION
    store = LocalStore(tmp_path / "store.sqlite")
    settings = Settings(shopify_app_url="https://api.example.com")
    url = install.install_url(settings, store, install.AppCredentials("shopify", "client", "secret"), "acme.myshopify.com",
                              now=NOW)
    nonce = dict(parse_qsl(urlsplit(url).query))["state"]
    record = store.get(f"{collection}/{nonce}")
    assert record is not None and record[field] == NOW + timedelta(seconds=settings.shopify_oauth_state_seconds)
    store.close()
