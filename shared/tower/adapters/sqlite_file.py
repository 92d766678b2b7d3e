"""What the local adapters share: one SQLite connection per process in WAL mode, IMMEDIATE transactions.

WAL lets several processes read while one writes; ``BEGIN IMMEDIATE`` takes the write lock up front,
so a read-modify-write never fails half way on a lock upgrade; the busy timeout waits for another
process's writer instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SqliteBacked:
    """Base of the local store, bus, task queue and secrets: ``_con``, ``_lock`` and ``_immediate()``."""

    _con: sqlite3.Connection
    _lock: threading.RLock

    def _open_sqlite(self, path: str | Path, busy_timeout_ms: int, schema: str) -> None:
        """Open (creating its folder) and prepare the file: pragmas, then the schema script."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so transactions are exactly what we say.
        self._con = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                    check_same_thread=False)
        self._lock = threading.RLock()  # one connection, shared by this process's threads
        with self._lock:
            self._con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if path != ":memory:":
                self._con.execute("PRAGMA journal_mode = WAL")
            self._con.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; WAL-safe
            self._con.executescript(schema)

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back when it raises."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")
