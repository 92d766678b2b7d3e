"""What the local adapters share: one SQLite connection per process in WAL mode, IMMEDIATE transactions.

WAL lets several processes read while one writes; ``BEGIN IMMEDIATE`` takes the write lock up front,
so a read-modify-write never fails half way on a lock upgrade; the busy timeout waits for another
process's writer instead of failing. The file is created 0600 in a 0700 folder
(:mod:`tower.adapters.local_files`), and a full disk is reported as :class:`~tower.ports.DiskFull`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tower.adapters.local_files import disk_full, is_disk_full, private_dir, private_file, tighten


class SqliteBacked:
    """Base of the local store, bus, task queue and secrets: ``_con``, ``_lock`` and ``_immediate()``."""

    _con: sqlite3.Connection
    _lock: threading.RLock
    _file: str
    _commits: int = 0
    """Write transactions this process committed (the store's change stamp counts them)."""

    def _open_sqlite(self, path: str | Path, busy_timeout_ms: int, schema: str) -> None:
        """Open (creating its private folder and file) and prepare the file: pragmas, then the schema script."""
        path = str(path)
        self._file = path
        if path != ":memory:":
            private_dir(Path(path).parent)
            private_file(path)
            for side in ("-wal", "-shm", "-journal"):  # left readable by an earlier version, perhaps
                tighten(path + side)
        # isolation_level=None: we issue BEGIN ourselves, so transactions are exactly what we say.
        self._con = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                    check_same_thread=False)
        self._lock = threading.RLock()  # one connection, shared by this process's threads
        with self._lock:
            try:
                self._con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                if path != ":memory:":
                    self._con.execute("PRAGMA journal_mode = WAL")
                self._con.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; WAL-safe
                self._con.executescript(schema)
            except sqlite3.Error as e:
                if is_disk_full(e):
                    raise disk_full(path, "created") from e
                raise

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back when it raises.

        Raises:
            DiskFull: The disk holding the file is full (SQLite's "database or disk is full").
        """
        with self._lock:
            try:
                self._con.execute("BEGIN IMMEDIATE")
                try:
                    yield self._con
                    self._con.execute("COMMIT")
                    self._commits += 1
                except BaseException:
                    # SQLite may have rolled back already (it does on a full disk): end only what is open.
                    if self._con.in_transaction:
                        self._con.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                if is_disk_full(e):
                    raise disk_full(self._file) from e
                raise
