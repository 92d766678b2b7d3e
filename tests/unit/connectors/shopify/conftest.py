"""Fixtures of the Shopify connector tests: the real connector against the sandbox store.

Nothing here mocks the ShopifyAPI SDK: the connector posts through ``shopify.GraphQL().execute``
to the sandbox on 127.0.0.1. Time is a shared fake clock, so throttling and backoff are real and
take no wall time. (The loader's tests, with a warehouse, are under tests/unit/sync/shopify.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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
