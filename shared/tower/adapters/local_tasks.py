"""The embedded task queue: Cloud Tasks' contract on a durable SQLite table.

``enqueue`` stores a named task once (a task id already used in that queue is not enqueued again,
like a Cloud Tasks task name); ``drain`` runs the due tasks whose handler is registered in this
process, retrying a raising handler with exponential backoff (stored as ``not_before``, so nothing
sleeps) and parking it in ``dead_tasks`` after ``max_attempts``. A task is leased while it runs and
its attempt is counted when the lease is taken; the lease is recovered when its process died (or the
lease expired), so a handler that kills its process is retried after the backoff and parked after
``max_attempts`` like one that raises, instead of being run for ever. Each lease carries a token and
a handler's result is recorded only while the task is still leased under it: a handler that outlived
its lease, whose task was meanwhile recovered, run again, finished or parked elsewhere, has its late
result dropped (logged) instead of overwriting the newer outcome.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tower.adapters.local_bus import add_missing_column, pid_alive
from tower.adapters.sqlite_file import SqliteBacked
from tower.fingerprints import digest
from tower.ports import NotFound, PortError, Task

log = logging.getLogger(__name__)

# Cloud Tasks' rules: a task id is [A-Za-z0-9_-]{1,500}; a queue id is [A-Za-z0-9-]{1,100}.
_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
_QUEUE = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  task_id TEXT NOT NULL,
  handler TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,               -- pending | leased | done | dead
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before REAL NOT NULL,
  lease_until REAL,
  lease_pid INTEGER,
  lease_token TEXT,                  -- which lease may record the result (see _owns_lease)
  last_error TEXT,
  created_at REAL NOT NULL,
  UNIQUE (queue, task_id)
);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks (state, not_before, seq);
"""


def check_handler(handler: str) -> str:
    """A handler names a function entry point, which is also the last segment of its task URL."""
    if not _HANDLER.match(handler):
        raise PortError(f"bad handler name {handler!r}: a Python identifier (it names the entry point)")
    return handler


def check_task(queue: str, handler: str, task_id: str | None) -> None:
    """Refuse names Cloud Tasks (or an HTTP path) would refuse, naming the rule."""
    if not _QUEUE.match(queue):
        raise PortError(f"bad queue name {queue!r}: 1-100 of [A-Za-z0-9-]")
    check_handler(handler)
    if task_id is not None and not _TASK_ID.match(task_id):
        raise PortError(f"bad task id {task_id!r}: 1-500 of [A-Za-z0-9_-] (use task_id_for(...))")


def task_id_for(*parts: Any) -> str:
    """A deterministic, valid task id from any parts (the dedup key of an idempotent task).

    Readable when the parts are plain; otherwise the parts' readable prefix plus a hash, so two
    different keys never collide after character replacement.
    """
    raw = "-".join(str(p) for p in parts)
    clean = re.sub(r"[^A-Za-z0-9_-]", "-", raw)
    if clean == raw and 0 < len(raw) <= 500:
        return raw
    return f"{clean[:400]}-{digest(raw)}"


def encode_task_payload(payload: Mapping[str, Any]) -> bytes:
    if not isinstance(payload, Mapping):
        raise PortError(f"task payload must be a JSON object (a mapping), got {type(payload).__name__}")
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as e:
        raise PortError(f"task payload is not JSON-serialisable: {e}") from e


@dataclass(frozen=True)
class DeadTask:
    """A task parked after failing ``attempts`` times."""

    task: Task
    error: str


class LocalTasks(SqliteBacked):
    """TaskQueue port on one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        lease_seconds: float = 900.0,
        clock: Callable[[], float] = time.time,
        busy_timeout_ms: int = 30_000,
    ) -> None:
        if max_attempts < 1:
            raise PortError("max_attempts must be >= 1")
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._handlers: dict[str, Callable[[Task], None]] = {}
        self._open_sqlite(self.path, busy_timeout_ms, _SCHEMA)
        add_missing_column(self, "tasks", "lease_token", "TEXT")

    # -- the port -------------------------------------------------------------------------------
    def enqueue(
        self,
        queue: str,
        handler: str,
        payload: Mapping[str, Any],
        *,
        task_id: str | None = None,
        delay_seconds: float = 0,
    ) -> str:
        """Store the task to run after delay_seconds; a task id already used is left alone."""
        check_task(queue, handler, task_id)
        body = encode_task_payload(payload)
        if delay_seconds < 0:
            raise PortError(f"delay_seconds must be >= 0, got {delay_seconds}")
        tid = task_id or uuid.uuid4().hex
        now = self._clock()
        with self._immediate() as con:
            con.execute(
                "INSERT OR IGNORE INTO tasks (queue, task_id, handler, payload, state, not_before, created_at) "
                "VALUES (?,?,?,?, 'pending', ?, ?)",
                (queue, tid, handler, body.decode(), now + delay_seconds, now),
            )
        return tid

    def register(self, handler: str, fn: Callable[[Task], None]) -> None:
        """Run fn for tasks naming this handler when this queue drains."""
        self._handlers[check_handler(handler)] = fn

    def _recover_leases(self, con: sqlite3.Connection, now: float) -> None:
        """Free the leases whose handler will never return: the lease expired or its process died.

        The attempt was counted when the lease was taken, so a handler that kills its process uses
        up its attempts like one that raises: retried after the backoff, parked after the maximum.
        """
        leased = con.execute(
            "SELECT seq, queue, task_id, handler, attempts, lease_until, lease_pid FROM tasks "
            "WHERE state = 'leased' AND (lease_until <= ? OR lease_pid != ?)",
            (now, os.getpid()),
        ).fetchall()
        alive: dict[int, bool] = {}
        for seq, queue, task_id, handler, attempts, lease_until, pid in leased:
            if lease_until <= now:
                err = f"LeaseExpired: the handler did not return within {self.lease_seconds:g} s"
            elif pid is not None and not alive.setdefault(pid, pid_alive(pid)):
                err = f"HandlerCrashed: the process running the handler (pid {pid}) died before returning"
            else:
                continue
            dead = attempts >= self.max_attempts
            log.warning("task dead" if dead else "task lease recovered", extra={
                "queue": queue, "task_id": task_id, "handler": handler, "attempt": attempts,
                "error": err.split(":")[0],
            })
            con.execute(
                "UPDATE tasks SET state = ?, not_before = ?, last_error = ?, lease_until = NULL, lease_pid = NULL, "
                "lease_token = NULL WHERE seq = ?",
                ("dead" if dead else "pending", now + self._backoff(attempts), err, seq),
            )

    def _backoff(self, attempts: int) -> float:
        """Seconds to wait before the next run after ``attempts`` failed ones."""
        return float(self.backoff_seconds * 2 ** (attempts - 1))

    def _claim(self, ignore_delay: bool) -> tuple[Any, ...] | None:
        names = list(self._handlers)
        if not names:
            return None
        now = self._clock()
        marks = ",".join("?" * len(names))
        with self._immediate() as con:
            self._recover_leases(con, now)
            row = con.execute(
                "SELECT seq, queue, task_id, handler, payload, attempts FROM tasks "
                f"WHERE state = 'pending' AND handler IN ({marks}) "
                + ("" if ignore_delay else "AND not_before <= ? ")
                + "ORDER BY not_before, seq LIMIT 1",
                (*names,) if ignore_delay else (*names, now),
            ).fetchone()
            if row is None:
                return None
            # The attempt counts now, not when the handler returns: a handler that kills its process
            # never returns, and would otherwise be run for ever.
            token = uuid.uuid4().hex
            con.execute(
                "UPDATE tasks SET state = 'leased', attempts = attempts + 1, lease_until = ?, lease_pid = ?, "
                "lease_token = ? WHERE seq = ?",
                (now + self.lease_seconds, os.getpid(), token, row[0]),
            )
        return (*row, token)

    def _owns_lease(self, con: sqlite3.Connection, seq: int, task: Task, token: str, result: str) -> bool:
        """Whether the task is still leased under token; if not, log the result being dropped.

        A handler that outlived its lease may find its task recovered, run again, finished or parked
        by another queue: its result is stale and must not overwrite the newer outcome.
        """
        row = con.execute("SELECT state, lease_token FROM tasks WHERE seq = ?", (seq,)).fetchone()
        if row is not None and row[0] == "leased" and row[1] == token:
            return True
        log.warning("task late result dropped", extra={
            "queue": task.queue, "task_id": task.task_id, "handler": task.handler, "attempt": task.attempt,
            "result": result, "state": row[0] if row else None,
        })
        return False

    def drain(self, max_tasks: int | None = None, *, ignore_delay: bool = False) -> int:
        """Run due tasks of registered handlers until none is due; return how many succeeded.

        Tasks that handlers enqueue are run in the same call when due. With ``ignore_delay``
        delayed tasks and retries run at once.
        """
        done = 0
        while max_tasks is None or done < max_tasks:
            row = self._claim(ignore_delay)
            if row is None:
                break
            seq, queue, task_id, handler, payload, attempts, token = row
            task = Task(queue=queue, handler=handler, payload=json.loads(payload), task_id=task_id,
                        attempt=attempts + 1)
            try:
                self._handlers[handler](task)
            # Any Exception from a handler asks for a retry; a BaseException is a crash and leaves the
            # lease in place for recovery.
            except Exception as e:  # noqa: BLE001
                self._fail(seq, task, token, e)
                continue
            with self._immediate() as con:
                if not self._owns_lease(con, seq, task, token, "done"):
                    continue
                con.execute(
                    "UPDATE tasks SET state = 'done', attempts = ?, lease_until = NULL, lease_pid = NULL, "
                    "lease_token = NULL WHERE seq = ?",
                    (task.attempt, seq),
                )
            done += 1
        return done

    def _fail(self, seq: int, task: Task, token: str, error: Exception) -> None:
        """Schedule the retry of a task leased under token, or park it after max_attempts."""
        err = f"{type(error).__name__}: {error}"[:2000]
        log.warning("task handler failed", extra={
            "queue": task.queue, "task_id": task.task_id, "handler": task.handler, "attempt": task.attempt,
            "error": type(error).__name__,
        })
        dead = task.attempt >= self.max_attempts
        with self._immediate() as con:
            if not self._owns_lease(con, seq, task, token, "failed"):
                return
            con.execute(
                "UPDATE tasks SET state = ?, attempts = ?, not_before = ?, last_error = ?, "
                "lease_until = NULL, lease_pid = NULL, lease_token = NULL WHERE seq = ?",
                ("dead" if dead else "pending", task.attempt, self._clock() + self._backoff(task.attempt), err, seq),
            )

    # -- inspection and repair ------------------------------------------------------------------
    def pending(self, queue: str | None = None) -> int:
        """Tasks not yet run successfully nor parked."""
        sql = "SELECT count(*) FROM tasks WHERE state IN ('pending', 'leased')"
        args: tuple[Any, ...] = (queue,) if queue else ()
        with self._lock:
            return int(self._con.execute(sql + (" AND queue = ?" if queue else ""), args).fetchone()[0])

    def dead_tasks(self, queue: str | None = None) -> list[DeadTask]:
        """Parked tasks, oldest first."""
        sql = "SELECT queue, handler, payload, task_id, attempts, last_error FROM tasks WHERE state = 'dead'"
        args: tuple[Any, ...] = (queue,) if queue else ()
        with self._lock:
            rows = self._con.execute(sql + (" AND queue = ?" if queue else "") + " ORDER BY seq", args).fetchall()
        return [
            DeadTask(Task(queue=r[0], handler=r[1], payload=json.loads(r[2]), task_id=r[3], attempt=r[4]),
                     r[5] or "")
            for r in rows
        ]

    def replay(self, queue: str, task_id: str) -> None:
        """Put a parked task back with fresh attempts."""
        with self._immediate() as con:
            cur = con.execute(
                "UPDATE tasks SET state = 'pending', attempts = 0, not_before = ?, last_error = NULL "
                "WHERE queue = ? AND task_id = ? AND state = 'dead'",
                (self._clock(), queue, task_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no dead task {task_id!r} in queue {queue!r}")

    def close(self) -> None:
        with self._lock:
            self._con.close()
