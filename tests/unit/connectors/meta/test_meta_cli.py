"""``tower connect meta`` and ``tower sync meta`` against the Meta sandbox."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from tower_dev.sandboxes.ad_sandbox import sample_accounts
from tower_dev.sandboxes.meta_graph.server import MetaSandbox


@pytest.fixture
def cli_env(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tower.config import get_settings

    [account] = [
        a
        for a in sample_accounts(seed=31, start=date.today() - timedelta(days=2), days=3)
        if a.platform == "meta"
    ]
    sandbox = MetaSandbox([account])
    env = {
        "TOWER_WAREHOUSE": f"duckdb:///{tmp_path}/w.duckdb",
        "TOWER_SECRETS": f"local:///{tmp_path}/secrets",
        "TOWER_STORE": f"local:///{tmp_path}/store.sqlite",
        "TOWER_META_API_ORIGIN": sandbox.origin,
        "TOWER_ADS_HISTORY_DAYS": "3",
        "TOWER_DATA_DIR": str(tmp_path),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield sandbox, account
    get_settings.cache_clear()
    sandbox.stop()


def _tower(*args: str, stdin: str | None = None) -> Any:
    from tower.cli import app

    return CliRunner().invoke(app, list(args), input=stdin)


def test_connect_and_sync_meta_from_the_command_line(cli_env: Any) -> None:
    sandbox, account = cli_env
    assert (
        _tower(
            "brands",
            "add",
            "--id",
            account.brand_id,
            "--name",
            "Sample",
            "--timezone",
            "America/Chicago",
            "--currency",
            "USD",
        ).exit_code
        == 0
    )
    token = sandbox.issue_token(account.account_id)

    connected = _tower(
        "connect",
        "meta",
        "--brand",
        account.brand_id,
        "--account",
        f"act_{account.account_id}",
        "--token",
        "-",
        stdin=token + "\n",
    )
    assert connected.exit_code == 0, connected.output
    assert "connected" in connected.output and token not in connected.output

    synced = _tower("sync", "meta", "--brand", account.brand_id)
    assert synced.exit_code == 0, synced.output
    assert account.account_id in synced.output and "ok" in synced.output


def test_bad_input_exits_2_with_a_message(cli_env: Any) -> None:
    _sandbox, account = cli_env
    unknown = _tower("connect", "meta", "--brand", "nobody", "--account", "1", "--token", "t")
    assert unknown.exit_code == 2 and "unknown brand" in unknown.output
    _tower(
        "brands",
        "add",
        "--id",
        account.brand_id,
        "--name",
        "Sample",
        "--timezone",
        "UTC",
        "--currency",
        "USD",
    )
    rejected = _tower(
        "connect",
        "meta",
        "--brand",
        account.brand_id,
        "--account",
        account.account_id,
        "--token",
        "not-a-token",
    )
    assert rejected.exit_code == 2 and "rejected" in rejected.output
    not_connected = _tower("sync", "tiktok", "--brand", account.brand_id)
    assert not_connected.exit_code == 2 and "no TikTok account" in not_connected.output
    bad_date = _tower("sync", "meta", "--brand", account.brand_id, "--since", "yesterday")
    assert bad_date.exit_code == 2


def test_an_expired_token_exits_1_and_says_to_reconnect(cli_env: Any) -> None:
    sandbox, account = cli_env
    _tower(
        "brands",
        "add",
        "--id",
        account.brand_id,
        "--name",
        "Sample",
        "--timezone",
        "UTC",
        "--currency",
        "USD",
    )
    token = sandbox.issue_token(account.account_id)
    assert (
        _tower(
            "connect", "meta", "--brand", account.brand_id, "--account", account.account_id, "--token", token
        ).exit_code
        == 0
    )
    sandbox.registry.expire_token(token)

    result = _tower("sync", "meta", "--brand", account.brand_id)

    assert result.exit_code == 1 and "reconnect" in result.output
