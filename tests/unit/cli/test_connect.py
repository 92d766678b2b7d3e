"""``tower connect shopify|meta``: the token goes to the secret store only; bad input exits 2."""

from __future__ import annotations

from typing import Any

from cli_run import add_and_connect_shopify, add_brand, tower

from tower import names
from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_secrets import LocalSecrets


def test_connect_rejects_a_bad_shop_or_an_unknown_brand_with_exit_2(shopify_env: Any) -> None:
    r = tower("connect", "shopify", "--brand", "ghost", "--shop", "ghost.myshopify.com", "--token", "t")
    assert r.exit_code == 2 and "not registered" in r.output
    tower("brands", "add", "--id", "acme", "--name", "Acme", "--timezone", "UTC", "--currency", "USD")
    r = tower("connect", "shopify", "--brand", "acme", "--shop", "acme.example.com", "--token", "t")
    assert r.exit_code == 2 and "myshopify.com" in r.output


def test_connect_keeps_the_token_in_the_secret_store_only(shopify_env: Any, world: Any) -> None:
    handle, tmp = shopify_env
    brand_id = add_and_connect_shopify(world, handle)
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


def test_connect_says_older_orders_need_read_all_orders(shopify_env: Any, world: Any) -> None:
    del shopify_env  # the settings it sets are what the commands read
    b = world.brands[0].brand
    tower("brands", "add", "--id", b["brand_id"], "--name", "x", "--timezone", b["timezone"], "--currency", "USD")
    r = tower("connect", "shopify", "--brand", b["brand_id"], "--shop", b["shop_domain"], "--token", "t")
    assert r.exit_code == 0 and "read_all_orders" in r.output


def test_connect_meta_and_sync_bad_input_exits_2_with_a_message(meta_env: Any) -> None:
    _sandbox, account = meta_env
    unknown = tower("connect", "meta", "--brand", "nobody", "--account", "1", "--token", "t")
    assert unknown.exit_code == 2 and "unknown brand" in unknown.output
    add_brand(account.brand_id, "UTC")
    rejected = tower("connect", "meta", "--brand", account.brand_id, "--account", account.account_id,
                     "--token", "not-a-token")
    assert rejected.exit_code == 2 and "rejected" in rejected.output
    not_connected = tower("sync", "tiktok", "--brand", account.brand_id)
    assert not_connected.exit_code == 2 and "no TikTok account" in not_connected.output
    bad_date = tower("sync", "meta", "--brand", account.brand_id, "--since", "yesterday")
    assert bad_date.exit_code == 2
