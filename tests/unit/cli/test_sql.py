"""``tower sql``: BigQuery's INFORMATION_SCHEMA views answer on the embedded warehouse too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import run

from tower.config import EMBEDDED_FILES, get_settings


@pytest.fixture
def data_dir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Only TOWER_DATA_DIR set: every embedded store goes under it."""
    for name in EMBEDDED_FILES:
        monkeypatch.delenv(f"TOWER_{name.upper()}", raising=False)
    monkeypatch.setenv("TOWER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_init_then_information_schema_tables_and_columns(data_dir_env: Path) -> None:
    code, out = run("init")
    assert code == 0, out
    assert (data_dir_env / "warehouse.duckdb").exists()

    code, out = run("sql", "--json", "SELECT table_name FROM INFORMATION_SCHEMA.TABLES ORDER BY table_name")
    assert code == 0, out
    tables = {r["table_name"] for r in _json_lines(out)}
    assert {"brands", "orders", "ad_performance", "fx_rates"} <= tables

    code, out = run("sql", "--json", "SELECT column_name FROM `my-project.tower.INFORMATION_SCHEMA.COLUMNS` "
                    "WHERE table_name = @t ORDER BY ordinal_position", "--param", "t=brands")
    assert code == 0, out
    assert [r["column_name"] for r in _json_lines(out)][:2] == ["brand_id", "brand_name"]

    code, out = run("sql", "--json", "SELECT c.table_name FROM tower.INFORMATION_SCHEMA.COLUMNS AS c "
                    "WHERE c.column_name = 'rate_date'")
    assert code == 0, out
    assert {r["table_name"] for r in _json_lines(out)} == {"fx_rates"}
