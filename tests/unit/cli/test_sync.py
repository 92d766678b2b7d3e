"""``tower sync shopify|meta``: a finished sync exits 0; unconnected exits 2; a rejected token exits 1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cli_run import add_and_connect_shopify, add_brand, tower

from tower import names
from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_secrets import LocalSecrets
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.faults import Fault, FaultPlan


def test_sync_shopify_stores_the_shop_and_exits_0(shopify_env: Any, world: Any) -> None:
    handle, tmp = shopify_env
    brand_id = add_and_connect_shopify(world, handle)
    LocalSecrets(tmp / "secrets").rotate(names.customer_salt_secret_id(brand_id), world.brands[0].customer_salt)
    r = tower("sync", "shopify", "--brand", brand_id)
    assert r.exit_code == 0, r.output
    assert "orders" in r.output and "order_line_items" in r.output
    # announced like the sync function's, then built on by the bus's handlers
    assert all(stage in r.output for stage in ("models", "decisions", "summaries")), r.output
    state = handle.shop(brand_id).state
    # The CLI runs on the real clock: its inventory snapshot is dated today in the store's zone.
    today = state.local_date(datetime.now(UTC))
    wh = DuckDBWarehouse(tmp / "wh.duckdb")
    try:
        diffs = testing.differences(wh, state.truth(today=today), brand_id)
    finally:
        wh.close()
    assert all(not d for d in diffs.values()), {t: d[:2] for t, d in diffs.items() if d}


def test_sync_of_an_unknown_or_unconnected_brand_exits_2(shopify_env: Any) -> None:
    r = tower("sync", "shopify", "--brand", "nobody")
    assert r.exit_code == 2 and "unknown brand 'nobody'" in r.output
    assert add_brand("lonely", "UTC").exit_code == 0
    r = tower("sync", "shopify", "--brand", "lonely")
    assert r.exit_code == 2 and "no Shopify store connected" in r.output


def test_sync_with_a_rejected_token_exits_1_and_says_to_reconnect(shopify_env: Any, world: Any) -> None:
    handle, _ = shopify_env
    brand_id = add_and_connect_shopify(world, handle)
    handle.shop(brand_id).faults = FaultPlan.of([Fault("expired_token", 1)])
    r = tower("sync", "shopify", "--brand", brand_id)
    assert r.exit_code == 1 and "reconnect" in r.output


def test_connect_and_sync_meta_from_the_command_line(meta_env: Any) -> None:
    sandbox, account = meta_env
    assert add_brand(account.brand_id, "America/Chicago").exit_code == 0
    token = sandbox.issue_token(account.account_id)
    connected = tower("connect", "meta", "--brand", account.brand_id, "--account", f"act_{account.account_id}",
                      "--token", "-", stdin=token + "\n")
    assert connected.exit_code == 0, connected.output
    assert "connected" in connected.output and token not in connected.output

    synced = tower("sync", "meta", "--brand", account.brand_id)
    assert synced.exit_code == 0, synced.output
    assert account.account_id in synced.output and "ok" in synced.output


def test_an_expired_meta_token_exits_1_and_says_to_reconnect(meta_env: Any) -> None:
    sandbox, account = meta_env
    add_brand(account.brand_id, "UTC")
    token = sandbox.issue_token(account.account_id)
    connected = tower("connect", "meta", "--brand", account.brand_id, "--account", account.account_id,
                      "--token", token)
    assert connected.exit_code == 0
    sandbox.registry.expire_token(token)

    result = tower("sync", "meta", "--brand", account.brand_id)

    assert result.exit_code == 1 and "reconnect" in result.output


def test_a_platform_that_cannot_be_reached_is_one_line_naming_origin_brand_and_fix(meta_env: Any) -> None:
    sandbox, account = meta_env
    add_brand(account.brand_id, "UTC")
    token = sandbox.issue_token(account.account_id)
    assert tower("connect", "meta", "--brand", account.brand_id, "--account", account.account_id,
                 "--token", token).exit_code == 0
    origin = sandbox.origin
    sandbox.stop()  # sample accounts serve no world: nothing can bring this one back

    result = tower("sync", "meta", "--brand", account.brand_id)

    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("failed:")]
    assert f"Meta at {origin} could not be reached for {account.brand_id}" in line
    assert f"tower connect meta --brand {account.brand_id}" in line
