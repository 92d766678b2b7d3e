"""``TOWER_DATA_DIR`` alone moves every embedded store; an adapter URL that is set stays where it points."""

from __future__ import annotations

from pathlib import Path

import pytest

from tower.config import EMBEDDED_FILES, Settings, get_settings
from tower.runtime import Runtime


def test_the_defaults_are_the_files_under_the_default_data_dir() -> None:
    s = Settings()
    assert (s.warehouse, s.store, s.bus, s.tasks, s.secrets) == (
        "duckdb:///.tower/warehouse.duckdb", "local:///.tower/store.sqlite", "local:///.tower/bus.sqlite",
        "local:///.tower/tasks.sqlite", "local:///.tower/secrets",
    )


def test_an_absolute_data_dir_gives_four_slash_urls_to_its_files(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.warehouse == f"duckdb:///{tmp_path}/warehouse.duckdb" and s.warehouse.startswith("duckdb:////")
    for name, (_scheme, file_name) in EMBEDDED_FILES.items():
        assert s.local_path(getattr(s, name), file_name) == tmp_path / file_name


def test_a_url_that_was_set_wins_over_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOWER_STORE", f"local:///{tmp_path}/elsewhere.sqlite")
    monkeypatch.setenv("TOWER_WAREHOUSE", "bigquery://proj/ds")
    s = Settings()
    assert s.store == f"local:///{tmp_path}/elsewhere.sqlite"
    assert s.warehouse == "bigquery://proj/ds"
    assert s.bus == f"local:///{tmp_path}/data/bus.sqlite"


def test_every_embedded_store_opens_under_the_data_dir_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in EMBEDDED_FILES:
        monkeypatch.delenv(f"TOWER_{name.upper()}", raising=False)
    data = tmp_path / "moved"
    monkeypatch.setenv("TOWER_DATA_DIR", str(data))
    get_settings.cache_clear()
    try:
        runtime = Runtime(get_settings())
        runtime.warehouse.init_schema()
        runtime.store.set("probe/one", {"ok": True})
        runtime.bus.publish("tower-sync-completed", {"brand_id": "b"})
        runtime.tasks.enqueue("tower-sync", "sync_shopify", {"brand_id": "b"})
        runtime.secrets.put("probe-secret", "value")
        runtime.close()
    finally:
        get_settings.cache_clear()
    made = {p.name for p in data.iterdir()}
    assert {"warehouse.duckdb", "store.sqlite", "bus.sqlite", "tasks.sqlite", "secrets"} <= made
