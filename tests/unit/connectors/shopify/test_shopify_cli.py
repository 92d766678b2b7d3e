"""``tower brands add``, ``tower connect shopify``, ``tower sync shopify``: honest exit codes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tower import names
from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_secrets import LocalSecrets
from tower.cli import app
from tower.config import get_settings
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.faults import Fault, FaultPlan
from tower_dev.sandboxes.shopify_store.server import serve_world


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, world: Any) -> Any:
    # A bucket too big to throttle: the CLI sleeps on the real clock, and tests never sleep.
    handle = serve_world(world, clock=testing.clock_after(world), bucket_maximum=10**9, restore_rate=10**9)
    monkeypatch.setenv("TOWER_WAREHOUSE", f"duckdb:///{tmp_path}/wh.duckdb")
    monkeypatch.setenv("TOWER_STORE", f"local:///{tmp_path}/store.sqlite")
    monkeypatch.setenv("TOWER_SECRETS", f"local:///{tmp_path}/secrets")
    monkeypatch.setenv("TOWER_SHOPIFY_API_ORIGIN", handle.origin)
    get_settings.cache_clear()
    try:
        yield handle, tmp_path
    finally:
        get_settings.cache_clear()
        handle.stop()


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def add_and_connect(world: Any, handle: Any) -> str:
    bw = world.brands[0]
    b = bw.brand
    r = invoke("brands", "add", "--id", b["brand_id"], "--name", b["brand_name"], "--timezone", b["timezone"],
               "--currency", b["currency"])
    assert r.exit_code == 0, r.output
    r = invoke("connect", "shopify", "--brand", b["brand_id"], "--shop", b["shop_domain"],
               "--token", handle.tokens[b["brand_id"]])
    assert r.exit_code == 0, r.output
    return str(b["brand_id"])


@pytest.mark.parametrize("args,problem", [
    (["--id", "acme", "--name", "Acme", "--timezone", "Mars/Olympus", "--currency", "USD"], "IANA"),
    (["--id", "Acme Co", "--name", "Acme", "--timezone", "America/Chicago", "--currency", "USD"], "brand id"),
    (["--id", "acme", "--name", "Acme", "--timezone", "America/Chicago", "--currency", "dollars"], "ISO 4217"),
])
def test_brands_add_rejects_bad_input_with_exit_2(env, args, problem):
    r = invoke("brands", "add", *args)
    assert r.exit_code == 2 and problem in r.output


def test_connect_rejects_a_bad_shop_or_an_unknown_brand_with_exit_2(env):
    r = invoke("connect", "shopify", "--brand", "ghost", "--shop", "ghost.myshopify.com", "--token", "t")
    assert r.exit_code == 2 and "not registered" in r.output
    invoke("brands", "add", "--id", "acme", "--name", "Acme", "--timezone", "UTC", "--currency", "USD")
    r = invoke("connect", "shopify", "--brand", "acme", "--shop", "acme.example.com", "--token", "t")
    assert r.exit_code == 2 and "myshopify.com" in r.output


def test_connect_keeps_the_token_in_the_secret_store_only(env, world):
    handle, tmp = env
    brand_id = add_and_connect(world, handle)
    token = handle.tokens[brand_id]
    wh = DuckDBWarehouse(tmp / "wh.duckdb")
    try:
        row = wh.rows("SELECT * FROM integrations")[0]
        dump = repr(wh.rows("SELECT * FROM integrations")) + repr(wh.rows("SELECT * FROM brands"))
    finally:
        wh.close()
    assert token not in dump
    assert LocalSecrets(tmp / "secrets").get(row["secret_ref"]) == token
    assert LocalSecrets(tmp / "secrets").exists(names.customer_salt_secret_id(brand_id))


def test_connect_says_older_orders_need_read_all_orders(env, world):
    del env  # the settings it sets are what the commands read
    b = world.brands[0].brand
    invoke("brands", "add", "--id", b["brand_id"], "--name", "x", "--timezone", b["timezone"], "--currency", "USD")
    r = invoke("connect", "shopify", "--brand", b["brand_id"], "--shop", b["shop_domain"], "--token", "t")
    assert r.exit_code == 0 and "read_all_orders" in r.output


def test_sync_shopify_stores_the_shop_and_exits_0(env, world):
    handle, tmp = env
    brand_id = add_and_connect(world, handle)
    LocalSecrets(tmp / "secrets").rotate(names.customer_salt_secret_id(brand_id), world.brands[0].customer_salt)
    r = invoke("sync", "shopify", "--brand", brand_id)
    assert r.exit_code == 0, r.output
    assert "orders" in r.output and "order_line_items" in r.output
    state = handle.shop(brand_id).state
    # The CLI runs on the real clock: its inventory snapshot is dated today in the store's zone.
    today = state.local_date(datetime.now(UTC))
    wh = DuckDBWarehouse(tmp / "wh.duckdb")
    try:
        diffs = testing.differences(wh, state.truth(today=today), brand_id)
    finally:
        wh.close()
    assert all(not d for d in diffs.values()), {t: d[:2] for t, d in diffs.items() if d}


def test_sync_of_an_unconnected_brand_exits_2(env):
    r = invoke("sync", "shopify", "--brand", "nobody")
    assert r.exit_code == 2 and "no Shopify store connected" in r.output


def test_sync_with_a_rejected_token_exits_1_and_says_to_reconnect(env, world):
    handle, _ = env
    brand_id = add_and_connect(world, handle)
    handle.shop(brand_id).faults = FaultPlan.of([Fault("expired_token", 1)])
    r = invoke("sync", "shopify", "--brand", brand_id)
    assert r.exit_code == 1 and "reconnect" in r.output
