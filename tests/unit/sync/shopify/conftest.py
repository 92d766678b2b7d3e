"""Fixtures of the Shopify loader tests: the real sync and connector against the sandbox store.

Nothing here mocks the ShopifyAPI SDK: the connector posts through ``shopify.GraphQL().execute``
to the sandbox on 127.0.0.1. Time is a shared fake clock, so throttling and backoff are real and
take no wall time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_secrets import LocalSecrets
from tower.adapters.local_store import LocalStore
from tower.config import Settings
from tower.sync.run import Ports, RunOptions
from tower.sync.shopify import ShopifySync, SyncResult
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.clock import FakeClock
from tower_dev.sandboxes.shopify_store.server import SandboxHandle, serve_world


@pytest.fixture(scope="session")
def world() -> Any:
    return testing.small_world()


@pytest.fixture
def clock(world: Any) -> FakeClock:
    return testing.clock_after(world)


@pytest.fixture
def sandbox(world: Any, clock: FakeClock) -> Iterator[SandboxHandle]:
    handle = serve_world(world, clock=clock)
    yield handle
    handle.stop()


@pytest.fixture
def warehouse() -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(":memory:")
    wh.init_schema()
    yield wh
    wh.close()


@pytest.fixture
def secrets(tmp_path: Any) -> LocalSecrets:
    return LocalSecrets(tmp_path / "secrets")


@pytest.fixture
def store(tmp_path: Any) -> LocalStore:
    return LocalStore(tmp_path / "store.sqlite")


@pytest.fixture
def settings(sandbox: SandboxHandle, tmp_path: Any) -> Settings:
    # Paged orders unless a test asks for the bulk backfill; bulk scratch files under the test's dir.
    return Settings(shopify_api_origin=sandbox.origin, shopify_bulk_min_orders=10**9,
                    shopify_bulk_poll_seconds=1.0, data_dir=tmp_path / "data")


@pytest.fixture
def brands(world: Any, sandbox: SandboxHandle, warehouse: DuckDBWarehouse, secrets: LocalSecrets,
           clock: FakeClock) -> list[str]:
    """Every world brand registered and connected to its sandbox shop."""
    return [testing.connect_brand(warehouse, secrets, bw, sandbox.tokens[bw.brand["brand_id"]], clock.now())
            for bw in world.brands]


@pytest.fixture
def run_sync(settings: Settings, warehouse: DuckDBWarehouse, secrets: LocalSecrets, store: LocalStore,
             clock: FakeClock) -> Callable[..., SyncResult]:
    """Sync a brand with the fake clock: ``settings``, ``deadline_seconds`` and ``bulk_block_bytes``
    may be given; ``full`` and ``since`` go to the run."""

    def run(brand_id: str, *, settings: Settings = settings, deadline_seconds: float | None = None,
            bulk_block_bytes: int | None = None, **run_args: Any) -> SyncResult:
        options = RunOptions(now=clock.now, sleep=clock.sleep, monotonic=clock.monotonic,
                             deadline_seconds=deadline_seconds)
        sync = ShopifySync(Ports(settings, warehouse, secrets, store), brand_id, options,
                           bulk_block_bytes=bulk_block_bytes)
        return sync.run(**run_args)

    return run
