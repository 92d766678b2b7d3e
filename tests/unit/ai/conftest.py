"""Fixtures of the AI tests: a runtime on local adapters, the Anthropic sandbox, a client that never sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tower.ai.claude import ClaudeClient
from tower.config import Settings
from tower.runtime import Runtime
from tower_dev.samples import seed_model_tables
from tower_dev.sandboxes.anthropic_messages import AnthropicSandbox

BRAND = "acme-candles"
OTHER = "urban-wellness"
TODAY = date(2026, 11, 23)


def local_settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(
        warehouse="duckdb:///:memory:", store=f"local:///{tmp_path}/store.sqlite", bus=f"local:///{tmp_path}/bus.sqlite",
        tasks=f"local:///{tmp_path}/tasks.sqlite", secrets=f"local:///{tmp_path}/secrets", **kw,
    )


@pytest.fixture
def sandbox() -> Iterator[AnthropicSandbox]:
    with AnthropicSandbox() as s:
        yield s


@pytest.fixture
def runtime(tmp_path: Path, sandbox: AnthropicSandbox) -> Iterator[Runtime]:
    rt = Runtime(local_settings(tmp_path, anthropic_base_url=sandbox.url, anthropic_api_key="sk-test-sandbox"))
    rt.warehouse.init_schema()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rt.warehouse.merge("brands", [
        {"brand_id": BRAND, "brand_name": "Acme Candles", "timezone": "America/New_York", "currency": "USD",
         "created_at": now, "updated_at": now},
        {"brand_id": OTHER, "brand_name": "Urban Wellness Co.", "timezone": "America/Los_Angeles", "currency": "USD",
         "created_at": now, "updated_at": now},
    ], ["brand_id"])
    yield rt
    rt.close()


class Sleeps(list):  # type: ignore[type-arg]
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(runtime: Runtime, sleeps: Sleeps) -> ClaudeClient:
    """The real anthropic SDK pointed at the sandbox; retries recorded, never slept."""
    ticks = iter(range(1_000_000))  # a clock that moves one second per call, so calls sort in order
    return ClaudeClient(runtime.settings, "sk-test-sandbox", sleep=sleeps,
                        now=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(seconds=next(ticks)))


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    """The runtime with a few model rows for two brands."""
    seed_model_tables(runtime.warehouse, (BRAND, OTHER))
    return runtime
