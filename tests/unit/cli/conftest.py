"""Fixtures of the command tests: settings in the environment (as the ``tower`` command reads them).

Each points the command at a test's own files and, where the command talks to a platform, at a
sandbox on 127.0.0.1 (the real connectors, nothing mocked).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_run import BRAND

from tower.config import get_settings
from tower.runtime import Runtime
from tower_dev.samples import seed_model_tables
from tower_dev.sandboxes.ad_sandbox import sample_accounts
from tower_dev.sandboxes.meta_graph.server import MetaSandbox
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.server import serve_world


@pytest.fixture(scope="session")
def world() -> Any:
    return testing.small_world()


@pytest.fixture
def shopify_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, world: Any) -> Iterator[Any]:
    """A sandbox serving the world's shops; yields its handle and the folder of the command's files."""
    # A bucket too big to throttle: the CLI sleeps on the real clock, and tests never sleep.
    handle = serve_world(world, clock=testing.clock_after(world), bucket_maximum=10**9, restore_rate=10**9)
    monkeypatch.setenv("TOWER_WAREHOUSE", f"duckdb:///{tmp_path}/wh.duckdb")
    monkeypatch.setenv("TOWER_STORE", f"local:///{tmp_path}/store.sqlite")
    monkeypatch.setenv("TOWER_SECRETS", f"local:///{tmp_path}/secrets")
    monkeypatch.setenv("TOWER_DATA_DIR", str(tmp_path))  # the bus and task queue the sync announces on
    monkeypatch.setenv("TOWER_SHOPIFY_API_ORIGIN", handle.origin)
    get_settings.cache_clear()
    try:
        yield handle, tmp_path
    finally:
        get_settings.cache_clear()
        handle.stop()


@pytest.fixture
def meta_env(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Meta sandbox with one sample account (3 days of history); yields the sandbox and the account."""
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


@pytest.fixture
def seeded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A warehouse file with the sample model tables of BRAND, no Anthropic key (the narrator answers)."""
    for name, value in {
        "TOWER_WAREHOUSE": f"duckdb:///{tmp_path}/w.duckdb", "TOWER_STORE": f"local:///{tmp_path}/store.sqlite",
        "TOWER_BUS": f"local:///{tmp_path}/bus.sqlite", "TOWER_TASKS": f"local:///{tmp_path}/tasks.sqlite",
        "TOWER_SECRETS": f"local:///{tmp_path}/secrets",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("TOWER_ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    rt = Runtime(get_settings())
    rt.warehouse.init_schema()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rt.warehouse.merge("brands", [{"brand_id": BRAND, "brand_name": "Acme Candles", "timezone": "America/New_York",
                                   "currency": "USD", "created_at": now, "updated_at": now}], ["brand_id"])
    seed_model_tables(rt.warehouse, (BRAND, "urban-wellness"))
    rt.close()
    yield tmp_path
    get_settings.cache_clear()
