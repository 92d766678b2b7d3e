"""A Meta access token reaches no log, stored error, API body, CLI line or traceback when Meta fails.

The facebook-business SDK sends the token in the query string, so the ``requests`` error of a failed
call carries it in its URL. Each test plants a known token in the secret store, makes Meta unreachable
(the sandbox stops answering: every attempt is a refused connection until the retries run out) and
greps every place the failure surfaces for the token.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tower import names
from tower.connectors.retry import RetriesExhausted, RetryPolicy
from tower.logs import configure_logging
from tower.redact import MASK
from tower.sync import run
from tower.sync.ads import sync_ads
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    connect_sandbox_account,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.meta_graph.server import MetaSandbox

ROOT = Path(__file__).resolve().parents[4]
TODAY = date(2026, 10, 10)
START = date(2026, 9, 17)


class _Sandboxes(AdSandboxes):
    def settings_overrides(self) -> dict[str, str]:
        return {"meta_api_origin": self.meta.origin}


def _policy() -> RetryPolicy:
    return RetryPolicy(sleep=lambda _s: None, attempts=2)  # waits are recorded, never slept


def _chain(exc: BaseException) -> str:
    """Everything an exception would print or log: its traceback with every cause and context."""
    parts = ["".join(traceback.format_exception(exc)), str(exc), repr(exc)]
    seen: BaseException | None = exc
    while seen is not None:  # what a reporter walking the chain itself (ignoring suppression) would find
        parts.append(repr(seen))
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


@pytest.fixture
def stderr_log() -> Iterator[None]:
    """The production log set-up (masked JSON lines on stderr) for this test only."""
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(logging.INFO, force=True)
    yield
    root.removeHandler(handler)  # type: ignore[arg-type]
    root.setLevel(level)


@pytest.fixture
def unreachable_meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    """A runtime whose Meta account is connected with a planted token, and a Meta that no longer answers."""
    [account] = [a for a in sample_accounts(seed=11, start=START, days=24) if a.platform == "meta"]
    sandbox = MetaSandbox([account])
    runtime = sandbox_runtime(tmp_path, _Sandboxes(sandbox, None, None), ads_history_days=24, bus_max_attempts=1)
    connect_sandbox_account(runtime, _Sandboxes(sandbox, None, None), account)
    planted = f"meta-planted-{secrets.token_hex(16)}"
    runtime.secrets.put(names.integration_secret_id(account.brand_id, "meta", account.account_id), planted)
    sandbox.stop()  # every call now ends in a refused connection (requests.ConnectionError with the URL)
    # Syncs started by the pipeline use the default policy: here it retries once and never sleeps.
    monkeypatch.setattr(run, "default_policy", lambda sleep=None: _policy())
    yield runtime, account, planted
    runtime.close()


def test_a_failing_sync_leaks_the_token_nowhere(
    unreachable_meta: tuple[Any, Any, str], stderr_log: None, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime, account, token = unreachable_meta
    caplog.set_level(logging.INFO)

    # 1. What crosses the connector's edge: RetriesExhausted, raised from the requests error before.
    with pytest.raises(RetriesExhausted) as raised:
        sync_ads(runtime, "meta", account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    crossed = _chain(raised.value)
    assert token not in crossed
    assert raised.value.__cause__ is None and raised.value.platform == "meta"
    # ...and it still says what failed: the refused connection and the masked URL.
    assert "Connection refused" in str(raised.value) and f"access_token={MASK}" in str(raised.value)

    # 2. The stored sync error.
    [state] = runtime.warehouse.rows("SELECT status, error FROM sync_state WHERE platform = 'meta'")
    assert state["status"] == "failed" and token not in state["error"] and MASK in state["error"]

    # 3. The deployed function's edge: functions-framework runs sync_meta and logs what escapes it.
    import functions_framework

    from tower.runtime import set_default_runtime

    set_default_runtime(runtime)
    try:
        app = functions_framework.create_app(target="sync_meta", source=str(ROOT / "main.py"))
        response = app.test_client().post("/", json={"brand_id": account.brand_id})
    finally:
        set_default_runtime(None)
    assert response.status_code == 500
    assert token not in response.get_data(as_text=True)

    # 4. The local pipeline's edge: the task queue stores (and logs) the failure it parks.
    from tower.wiring import wire_local

    wire_local(runtime)
    runtime.tasks.enqueue(names.QUEUE_SYNC, "sync_meta", {"brand_id": account.brand_id, "platform": "meta"})
    runtime.tasks.drain(ignore_delay=True)
    [dead] = runtime.tasks.dead_tasks()
    assert "RetriesExhausted" in dead.error and token not in dead.error

    # 5. An API request that reached the platform: the 500 body, and the traceback logged beside it.
    from tower.api.app import create_app
    from tower.api.auth import create_api_key

    api = create_app(runtime)
    api.add_url_rule("/api/probe/sync", "probe_sync",
                     lambda: sync_ads(runtime, "meta", account.brand_id,
                                      options=RunOptions(today=TODAY, policy=_policy())))
    key = create_api_key(runtime.store, brand_ids=[account.brand_id], name="leak probe")
    body = api.test_client().get("/api/probe/sync", headers={"Authorization": f"Bearer {key}"})
    assert body.status_code == 500 and token not in body.get_data(as_text=True)

    # 6. Every log line: pytest's capture (records masked as they are made) and the stderr JSON lines.
    logged = caplog.text + "\n".join(r.exc_text or "" for r in caplog.records)
    err = capsys.readouterr().err
    assert token not in logged and token not in err
    # (not vacuous: the failures above were logged, tracebacks included)
    assert '"message": "ad sync failed"' in err and "Exception on / [POST]" in err and "unhandled API error" in err
    assert err.count("RetriesExhausted") >= 2 and "stack_trace" in err


def test_the_cli_says_meta_failed_without_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tower.cli import app
    from tower.config import get_settings

    [account] = [a for a in sample_accounts(seed=31, start=START, days=3) if a.platform == "meta"]
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
    monkeypatch.setattr(run, "default_policy", lambda sleep=None: _policy())
    get_settings.cache_clear()
    runner = CliRunner()
    token = sandbox.issue_token(account.account_id)
    try:
        added = runner.invoke(app, ["brands", "add", "--id", account.brand_id, "--name", "Sample",
                                    "--timezone", "America/Chicago", "--currency", "USD"])
        assert added.exit_code == 0, added.output
        connect = ["connect", "meta", "--brand", account.brand_id, "--account", account.account_id, "--token", "-"]
        assert runner.invoke(app, connect, input=token + "\n").exit_code == 0
        sandbox.stop()

        synced = runner.invoke(app, ["sync", "meta", "--brand", account.brand_id])
        reconnected = runner.invoke(app, connect, input=token + "\n")
    finally:
        get_settings.cache_clear()

    # an unreachable loopback origin is one line naming the platform, the origin and the way out
    assert synced.exit_code == 1 and "could not be reached" in synced.output and sandbox.origin in synced.output
    assert reconnected.exit_code == 2 and "rejected" in reconnected.output
    for result in (synced, reconnected):
        assert token not in result.output
        assert result.exception is None or token not in _chain(result.exception)
    assert MASK in reconnected.output  # the masked URL says which call was rejected
