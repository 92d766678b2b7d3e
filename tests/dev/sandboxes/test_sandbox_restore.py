"""Sandbox connections outlive their sandbox: recorded at connect, rebuilt with the same world and tokens.

The product side (:mod:`tower.sandboxes`) finds the development package's provider through the
``tower.sandboxes`` entry point group; the provider asks a sandbox what it serves and rebuilds it.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tower import names
from tower.adapters.local_secrets import LocalSecrets
from tower.adapters.local_store import LocalStore
from tower.config import Settings
from tower.connectors.ad_platforms import AdAccountAccess, open_connector
from tower.connectors.retry import RetryPolicy
from tower.sandboxes import bring_back, note_connection, providers, sandbox_connections
from tower.sync.outcomes import document, record_sandbox
from tower_dev.sandboxes.ad_sandbox import (
    accounts_from_brand_world,
    sandbox_settings,
    start_world_ad_sandboxes,
)
from tower_dev.sandboxes.identity import probe
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.server import serve_world


@pytest.fixture(scope="module")
def world() -> Any:
    return testing.small_world()


def _shop_name(origin: str, token: str) -> str:
    req = urllib.request.Request(f"{origin}/admin/api/2026-04/graphql.json", method="POST",
                                 data=json.dumps({"query": "{ shop { myshopifyDomain } }"}).encode(),
                                 headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(json.loads(r.read())["data"]["shop"]["myshopifyDomain"])


def _account_currency(settings: Settings, platform: str, account_id: str, token: str) -> str:
    access = AdAccountAccess(platform, account_id, token, login_customer_id="9876543210",
                             developer_token=settings.google_ads_developer_token)
    connector = open_connector(access, settings, RetryPolicy())
    try:
        return connector.account_info().currency
    finally:
        connector.close()


def test_the_dev_provider_is_found_by_name() -> None:
    assert "dev" in providers()


def test_a_sandbox_says_which_world_it_serves_and_a_real_origin_is_never_asked(world: Any, tmp_path: Path) -> None:
    shop = serve_world(world)
    try:
        described = probe("shopify", shop.origin)
        assert described is not None and described["params"] == world.params.as_dict()
        assert probe("meta", shop.origin) is None  # it plays Shopify, not Meta
    finally:
        shop.stop()
    assert probe("shopify", shop.origin) is None  # nothing answers any more
    store = LocalStore(tmp_path / "s.sqlite")
    real = Settings(warehouse="duckdb:///:memory:", meta_api_origin="https://graph.facebook.com")
    assert note_connection(real, store, "b1", "meta", "123") is None
    assert "sandbox" not in document(store, "b1", "meta", "123")


def test_connections_are_recorded_then_brought_back_with_the_same_world_and_tokens(world: Any, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.sqlite")
    secrets = LocalSecrets(tmp_path / "secrets")
    bw = world.brands[1]
    brand = "my-store"  # the merchant's own id for the shop, not the world's
    shop = serve_world(world)
    ads = start_world_ad_sandboxes(world)
    settings = sandbox_settings(Settings(warehouse="duckdb:///:memory:", shopify_api_origin=shop.origin), ads)
    accounts = {a.platform: a for a in accounts_from_brand_world(bw)}
    tokens = {"shopify": shop.tokens[bw.brand_id]}
    try:
        secrets.put(names.integration_secret_id(brand, "shopify"), tokens["shopify"])
        assert note_connection(settings, store, brand, "shopify", bw.brand["shop_domain"])
        for platform, account in accounts.items():
            tokens[platform] = ads.get(platform).issue_token(account.account_id)
            secrets.put(names.integration_secret_id(brand, platform, account.account_id), tokens[platform])
            record = note_connection(settings, store, brand, platform, account.account_id)
            assert record and record["world"]["params"]["seed"] == world.params.seed
        # while the sandboxes run, bringing back finds them and changes nothing but the settings
        running = bring_back(Settings(warehouse="duckdb:///:memory:"), store, secrets)
        assert running.settings.meta_api_origin == ads.meta.origin and not running.problems
        assert all("running at" in n for n in running.notes)
        running.stop()
    finally:
        shop.stop()
        ads.stop()

    assert {c.platform for c in sandbox_connections(store, secrets)} == {"shopify", "meta", "tiktok", "google_ads"}
    back = bring_back(Settings(warehouse="duckdb:///:memory:"), store, secrets)
    try:
        assert not back.problems and all("brought back" in n for n in back.notes), back.notes
        s = back.settings
        # same origins when the ports are free, so the recorded ones stay true
        assert (s.shopify_api_origin, s.meta_api_origin) == (shop.origin, ads.meta.origin)
        assert _shop_name(s.shopify_api_origin, tokens["shopify"]) == bw.brand["shop_domain"]
        for platform, account in accounts.items():
            assert _account_currency(s, platform, account.account_id, tokens[platform]) == account.currency
    finally:
        back.stop()


def test_only_the_platforms_and_brands_asked_for_are_brought_back(world: Any, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.sqlite")
    secrets = LocalSecrets(tmp_path / "secrets")
    ads = start_world_ad_sandboxes(world)
    bw = world.brands[0]
    meta = next(a for a in accounts_from_brand_world(bw) if a.platform == "meta")
    try:
        secrets.put(names.integration_secret_id("b1", "meta", meta.account_id), ads.meta.issue_token(meta.account_id))
        note_connection(sandbox_settings(Settings(warehouse="duckdb:///:memory:"), ads), store, "b1", "meta",
                        meta.account_id)
    finally:
        ads.stop()
    assert bring_back(Settings(warehouse="duckdb:///:memory:"), store, secrets, platforms=["shopify"]).notes == []
    assert bring_back(Settings(warehouse="duckdb:///:memory:"), store, secrets, brand_ids=["b2"]).notes == []


def test_a_connection_whose_provider_is_gone_is_one_line_naming_platform_brand_origin_and_fix(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.sqlite")
    secrets = LocalSecrets(tmp_path / "secrets")
    record_sandbox(store, "b1", "tiktok", "777", {"provider": "gone", "origin": "http://127.0.0.1:1", "world": {}})
    secrets.put(names.integration_secret_id("b1", "tiktok", "777"), "t")
    [problem] = bring_back(Settings(warehouse="duckdb:///:memory:"), store, secrets).problems
    line = str(problem)
    assert "\n" not in line and "TikTok of b1 at http://127.0.0.1:1" in line and "tower connect tiktok" in line


def test_a_world_the_provider_cannot_rebuild_is_one_line_not_a_traceback(world: Any, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.sqlite")
    secrets = LocalSecrets(tmp_path / "secrets")
    params = {**world.params.as_dict(), "end_date": world.params.end_date.isoformat()}
    record_sandbox(store, "b1", "meta", "999", {"provider": "dev", "origin": "http://127.0.0.1:1",
                                               "world": {"params": params, "options": {}}})
    secrets.put(names.integration_secret_id("b1", "meta", "999"), "t")
    [problem] = bring_back(Settings(warehouse="duckdb:///:memory:"), store, secrets).problems
    assert "could not be brought back" in str(problem) and "999" in str(problem)
