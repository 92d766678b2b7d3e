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


@pytest.mark.parametrize(("statement", "kind"), [
    ("INSERT INTO brands (brand_id, brand_name) VALUES ('x', 'X')", "INSERT"),
    ("UPDATE brands SET brand_name = 'Y' WHERE TRUE", "UPDATE"),
    ("DELETE FROM brands WHERE TRUE", "DELETE"),
    ("CREATE TABLE scratch (a INT64)", "CREATE TABLE"),
    ("DROP TABLE brands", "DROP TABLE"),
    ("MERGE brands AS t USING brands AS s ON t.brand_id = s.brand_id WHEN MATCHED THEN DELETE", "MERGE"),
    ("TRUNCATE TABLE brands", "TRUNCATE TABLE"),
])
def test_a_statement_that_writes_is_refused_without_write(data_dir_env: Path, statement: str, kind: str) -> None:
    assert run("init")[0] == 0
    assert run("brands", "add", "--id", "north", "--name", "North", "--timezone", "America/Toronto",
               "--currency", "CAD")[0] == 0

    code, out = run("sql", statement)

    assert code == 2
    assert f"tower sql is read-only: {kind} would change the warehouse. Add --write to run it" in " ".join(out.split())
    code, out = run("sql", "--json", "SELECT brand_id, brand_name FROM brands")
    assert code == 0 and _json_lines(out) == [{"brand_id": "north", "brand_name": "North"}]


def test_write_runs_it_and_a_query_hiding_a_write_is_refused(data_dir_env: Path) -> None:
    assert run("init")[0] == 0
    code, out = run("sql", "--write", "INSERT INTO brands (brand_id, brand_name, timezone, currency, created_at, "
                    "updated_at) VALUES (@id, 'South', 'America/Vancouver', 'CAD', CURRENT_TIMESTAMP(), "
                    "CURRENT_TIMESTAMP())", "--param", "id=south")
    assert code == 0, out
    code, out = run("sql", "--json", "SELECT brand_id, timezone FROM brands")
    assert _json_lines(out) == [{"brand_id": "south", "timezone": "America/Vancouver"}]
    assert run("sql", "SELECT 1; DELETE FROM brands WHERE TRUE")[0] == 2
    code, out = run("sql", "--write", "DELETE FROM brands WHERE brand_id = 'south'")
    assert code == 0, out
    assert _json_lines(run("sql", "--json", "SELECT COUNT(*) AS n FROM brands")[1]) == [{"n": 0}]


def test_data_dir_alone_moves_every_embedded_store(data_dir_env: Path) -> None:
    settings = get_settings()
    assert settings.data_dir == data_dir_env
    code, out = run("init")
    assert code == 0, out
    assert run("brands", "add", "--id", "north", "--name", "North", "--timezone", "America/Toronto",
               "--currency", "CAD")[0] == 0
    code, out = run("status", "--json")
    setup = json.loads(out)["setup"]
    root = data_dir_env.resolve()
    assert setup["warehouse"] == f"duckdb:///{root}/warehouse.duckdb" and setup["data_dir"] == str(root)
    for name, (scheme, file_name) in EMBEDDED_FILES.items():
        assert setup[name] == f"{scheme}:///{root}/{file_name}", (name, setup)
    assert (data_dir_env / "warehouse.duckdb").exists() and (data_dir_env / "store.sqlite").exists()
