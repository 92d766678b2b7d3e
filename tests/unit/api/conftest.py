"""Fixtures of the API tests: a runtime on the local adapters with the caches the pipeline writes.

The seeded state is built once per session the way production builds it (model rows, then the
real ``run_recommend`` and ``run_summarize`` with the deterministic narrator), then each test gets
its own copy of the files, so tests that accept or dismiss cannot see each other.

Brands: ``acme-candles`` and ``urban-wellness`` (the plan's numbers, the second ×10), both with
recommendations and alerts; ``pet-paradise`` with one growth card and no alert; ``calm-co`` with
nothing; all four belong to ``agency_456``. ``outsider`` exists but belongs to no key's scope but its own.
Only ``acme-candles`` has a ``brands/{id}`` document; the others are looked up in the warehouse.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_seed import (
    AGENCY,
    AS_OF,
    BRAND,
    GROWING,
    NAMES,
    NOW,
    OTHER,
    OUTSIDER,
    QUIET,
    TODAY,
    WEEK,
    complete_snapshots,
    growth_card,
    local_settings,
)
from flask.testing import FlaskClient

from tower.ai.summarize import run_summarize
from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.decisions.recommend import run_recommend
from tower.decisions.store import save_recommendations
from tower.runtime import Runtime
from tower_dev.samples import seed_model_tables


@dataclass
class Seeded:
    """The template's folder and the plain API keys issued in it."""

    root: Path
    keys: dict[str, str]


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    root = tmp_path_factory.mktemp("api-template")
    rt = Runtime(local_settings(root))
    rt.warehouse.init_schema()
    created = datetime(2026, 11, 1, tzinfo=UTC)
    rt.warehouse.merge("brands", [
        {"brand_id": b, "brand_name": n, "timezone": "America/New_York", "currency": "USD",
         "agency_id": None if b == OUTSIDER else AGENCY, "created_at": created, "updated_at": created}
        for b, n in NAMES.items()], ["brand_id"])
    seed_model_tables(rt.warehouse, (BRAND, OTHER))
    for b in (BRAND, OTHER):
        complete_snapshots(rt, b)
        rt.warehouse.merge("model_runs", [{"brand_id": b, "model": "inventory_alignment", "window_start": AS_OF,
                                           "window_end": TODAY, "built_at": created}], ["brand_id", "model", "window_start"])
        run_recommend(rt, b, TODAY, now=NOW)
    run_summarize(rt, BRAND, TODAY, client=lambda: None, now=NOW)
    save_recommendations(rt.store, GROWING, WEEK, "v1", [growth_card(GROWING)], NOW)
    rt.store.set(f"agencies/{AGENCY}", {"name": "Northstar Growth", "brand_ids": [BRAND, OTHER, GROWING, QUIET]})
    rt.store.set("agencies/agency_other", {"name": "Elsewhere", "brand_ids": [OUTSIDER]})
    rt.store.set(f"brands/{BRAND}", {"name": NAMES[BRAND], "agency_id": AGENCY, "timezone": "America/New_York",
                                     "currency": "USD"})
    keys = {
        "agency": create_api_key(rt.store, agency_id=AGENCY, name="northstar"),
        "other_brand": create_api_key(rt.store, brand_ids=[OTHER], name="urban-team"),
        "outsider": create_api_key(rt.store, brand_ids=[OUTSIDER], name="outsider-team"),
    }
    rt.close()
    return Seeded(root, keys)


@pytest.fixture
def runtime(seeded: Seeded, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on this test's own copy of the seeded files."""
    root = tmp_path / "state"
    shutil.copytree(seeded.root, root)
    rt = Runtime(local_settings(root))
    yield rt
    rt.close()


@pytest.fixture
def keys(seeded: Seeded) -> dict[str, str]:
    return seeded.keys


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime, clock=lambda: NOW).test_client()
