"""Commands that only read open the DuckDB warehouse read-only, and a file another process holds is
one line saying which file, who holds it and what to do (never a DuckDB traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.cli import app
from tower.config import get_settings
from tower.ports import PortError, WarehouseUnavailable

# A second process opening the warehouse (as `tower serve` or another `tower sql` would) until told to stop.
HOLD = (
    "import sys\n"
    "from tower.adapters.duckdb_warehouse import DuckDBWarehouse\n"
    "wh = DuckDBWarehouse(sys.argv[1], read_only=sys.argv[2] == 'read')\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
    "wh.close()\n"
)


@contextmanager
def held(path: Path, how: str) -> Iterator[int]:
    """Another process with the file open (``how``: "write" or "read") while the block runs; yields its pid."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), how], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse file with the schema and one brand."""
    path = tmp_path / "warehouse.duckdb"
    wh = DuckDBWarehouse(path)
    wh.init_schema()
    at = datetime(2026, 11, 1, tzinfo=UTC)
    wh.merge("brands", [{"brand_id": "acme", "brand_name": "Acme", "timezone": "America/New_York",
                         "currency": "USD", "created_at": at, "updated_at": at}], ["brand_id"])
    wh.close()
    return path


@pytest.fixture
def cli_env(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = warehouse.parent
    monkeypatch.setenv("TOWER_WAREHOUSE", f"duckdb:///{warehouse}")
    for name in ("store", "bus", "tasks"):
        monkeypatch.setenv(f"TOWER_{name.upper()}", f"local:///{root}/{name}.sqlite")
    monkeypatch.setenv("TOWER_SECRETS", f"local:///{root}/secrets")
    monkeypatch.setenv("TOWER_ANTHROPIC_API_KEY", "")
    get_settings.cache_clear()
    yield warehouse
    get_settings.cache_clear()


# --- the adapter -----------------------------------------------------------------------------------


def test_a_writer_elsewhere_is_named_in_one_line(warehouse: Path) -> None:
    with held(warehouse, "write") as pid, pytest.raises(WarehouseUnavailable) as err:
        DuckDBWarehouse(warehouse, read_only=True)
    message = str(err.value)
    assert "\n" not in message
    assert str(warehouse) in message and f"PID {pid}" in message
    assert "another process" in message and "`tower serve`" in message and "stop that process" in message


def test_readers_share_the_file_and_keep_writers_out(warehouse: Path) -> None:
    with held(warehouse, "read"):
        wh = DuckDBWarehouse(warehouse, read_only=True)
        assert wh.rows("SELECT brand_id FROM brands") == [{"brand_id": "acme"}]
        wh.close()
        with pytest.raises(WarehouseUnavailable):
            DuckDBWarehouse(warehouse)


def test_a_read_only_warehouse_writes_nothing(warehouse: Path) -> None:
    wh = DuckDBWarehouse(warehouse, read_only=True)
    with pytest.raises(PortError, match="read-only"):
        wh.execute("DELETE FROM brands WHERE TRUE")
    wh.close()


def test_a_read_only_open_of_no_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(WarehouseUnavailable, match=r"does not exist yet; create it with `tower init`"):
        DuckDBWarehouse(tmp_path / "nowhere" / "warehouse.duckdb", read_only=True)
    assert not (tmp_path / "nowhere").exists()


# --- the commands ----------------------------------------------------------------------------------


def test_reading_commands_run_beside_another_reader(cli_env: Path) -> None:
    runner = CliRunner()
    with held(cli_env, "read"):
        r = runner.invoke(app, ["sql", "SELECT brand_id FROM brands", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout) == {"brand_id": "acme"}
        for args in (["alerts", "--brand", "acme", "--cached", "--json"],
                     ["recommendations", "--brand", "acme", "--cached", "--json"],
                     ["ai", "usage", "--json"]):
            r = runner.invoke(app, args)
            assert r.exit_code == 0, (args, r.output)
            assert json.loads(r.stdout) == []


def test_a_command_finding_the_warehouse_held_says_so_in_one_line(cli_env: Path) -> None:
    runner = CliRunner()
    with held(cli_env, "write") as pid:
        for args in (["sql", "SELECT 1 AS one"], ["alerts", "--brand", "acme", "--cached"]):
            r = runner.invoke(app, args)
            assert r.exit_code == 1, (args, r.output)
            lines = r.output.strip().splitlines()
            assert len(lines) == 1, r.output
            assert str(cli_env) in lines[0] and f"PID {pid}" in lines[0] and "`tower demo`" in lines[0]
            assert "Traceback" not in r.output


def test_tower_sql_changes_nothing(cli_env: Path) -> None:
    r = CliRunner().invoke(app, ["sql", "DELETE FROM brands WHERE TRUE"])
    assert r.exit_code == 2 and "read-only" in r.output
    wh = DuckDBWarehouse(cli_env, read_only=True)
    assert wh.rows("SELECT count(*) AS n FROM brands") == [{"n": 1}]
    wh.close()
