"""The embedded default's files: 0600 in 0700 folders, and a full disk reported as a full disk, with where."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tower import names
from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_store import LocalStore
from tower.config import Settings
from tower.ports import DiskFull
from tower.runtime import Runtime


def _settings(root: Path) -> Settings:
    return Settings(
        warehouse=f"duckdb:///{root}/warehouse.duckdb", store=f"local:///{root}/store.sqlite",
        bus=f"local:///{root}/bus.sqlite", tasks=f"local:///{root}/tasks.sqlite",
        secrets=f"local:///{root}/secrets", data_dir=root, anthropic_api_key="",
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_port_writes_0600_files_in_0700_folders(tmp_path: Path) -> None:
    root = tmp_path / "tower" / "data"  # neither folder exists yet
    rt = Runtime(_settings(root))
    rt.warehouse.init_schema()
    rt.store.set("brands/acme", {"name": "Acme"})
    rt.bus.publish(names.TOPIC_SYNC_COMPLETED, {"brand_id": "acme"})
    rt.tasks.enqueue(names.QUEUE_SYNC, "sync_shopify", {"brand_id": "acme"})
    rt.secrets.put("integration-acme-shopify", "shpat_secret")
    # DuckDB gives its write-ahead log the umask's mode: the 0700 folder is what keeps it private
    assert _mode(root) == 0o700 and _mode(root / "secrets") == 0o700
    rt.close()
    rt.secrets.close()  # type: ignore[attr-defined]

    assert _mode(tmp_path / "tower") == 0o700
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"warehouse.duckdb", "store.sqlite", "bus.sqlite", "tasks.sqlite",
                                       "secrets.sqlite", "secrets.key"}
    assert {str(p.relative_to(root)): oct(_mode(p)) for p in folders} == {
        str(p.relative_to(root)): oct(0o700) for p in folders}
    assert {str(p.relative_to(root)): oct(_mode(p)) for p in files} == {
        str(p.relative_to(root)): oct(0o600) for p in files}


def test_files_an_earlier_version_left_readable_are_tightened(tmp_path: Path) -> None:
    tmp_path.joinpath("store.sqlite").touch(mode=0o644)
    os.chmod(tmp_path / "store.sqlite", 0o644)
    LocalStore(tmp_path / "store.sqlite").close()
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.close()
    os.chmod(tmp_path / "warehouse.duckdb", 0o644)
    DuckDBWarehouse(tmp_path / "warehouse.duckdb").close()
    assert _mode(tmp_path / "store.sqlite") == 0o600
    assert _mode(tmp_path / "warehouse.duckdb") == 0o600


def test_a_folder_that_exists_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    LocalStore(shared / "store.sqlite").close()
    assert _mode(shared) == 0o755  # a home folder or /tmp is not ours to close
    assert _mode(shared / "store.sqlite") == 0o600


# --- a full disk -----------------------------------------------------------------------------------


def test_sqlite_full_disk_names_the_disk_and_the_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store.sqlite")
    store.set("brands/acme", {"name": "Acme"})
    # SQLite's own "database or disk is full" (SQLITE_FULL), as a full disk raises it: the file may not grow
    pages = store._con.execute("PRAGMA page_count").fetchone()[0]
    store._con.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(DiskFull) as err:
        store.set("brands/big", {"notes": "x" * 200_000})
    message = str(err.value)
    assert message.startswith("the disk is full")
    assert str(tmp_path) in message and "store.sqlite" in message
    assert store.get("brands/acme") == {"name": "Acme"}  # the failed write was rolled back, nothing else lost
    assert store.get("brands/big") is None
    store.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (every write: ENOSPC)")
def test_duckdb_full_disk_names_the_disk_and_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    wh = DuckDBWarehouse(path)
    wh.execute("CREATE TABLE notes (id INT64, body STRING)")
    wh.close()
    full = os.stat("/dev/full")
    # DuckDB writes every commit to its write-ahead log first: point the log at a device that is always full
    os.symlink("/dev/full", f"{path}.wal")
    wh = DuckDBWarehouse(path)
    with pytest.raises(DiskFull) as err:
        wh.execute("INSERT INTO notes VALUES (1, 'hello')")
    assert str(err.value).startswith("the disk is full") and str(tmp_path) in str(err.value)
    with pytest.raises(DiskFull):
        wh.insert("notes", [{"id": 2, "body": "again"}])
    with pytest.raises(DiskFull):
        wh.merge("notes", [{"id": 3, "body": "and again"}], ["id"])
    assert os.stat("/dev/full").st_mode == full.st_mode  # the log's symlink was not followed by a chmod
    wh.close()
