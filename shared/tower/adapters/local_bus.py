"""The embedded bus: Pub/Sub's delivery contract on a durable SQLite queue.

* ``publish`` stores the message and one delivery row per subscription of its topic, in one
  transaction: once publish returns, the message survives a crash.
* ``subscribe`` records the subscription (durably: a restarted process finds it) and wires the
  handler in this process.
* ``drain`` delivers due deliveries to the handlers wired here, one claimed row at a time. A handler
  that returns acks; one that raises is retried with exponential backoff stored as a ``not_before``
  timestamp (no sleeping: drain delivers what is due, or everything with ``ignore_delay=True``).
  After ``max_attempts`` deliveries the message is parked in ``dead_letters`` (listable and
  replayable) and, like Pub/Sub's dead-letter policy, republished on ``<topic>-dlq``.
* ``deliver_twice`` hands every message to its handler twice (Pub/Sub is at-least-once).
* A delivery is leased while its handler runs, and the attempt is counted when the lease is taken:
  if the process dies mid-handler the lease is recovered (dead owner pid, or lease expired) and the
  message is delivered again after the backoff, or parked once it used up ``max_attempts``, so a
  message whose handler kills its process is not redelivered for ever.
* Each lease carries a token, and a handler's result settles the delivery only while the row is still
  leased under that token: a handler that outlived its lease, whose message was meanwhile recovered,
  redelivered, acked or parked elsewhere, has its late result dropped (logged) instead of overwriting
  the newer outcome.
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

from tower.adapters.sqlite_file import SqliteBacked
from tower.ports import Handler, Message, NotFound, PortError

log = logging.getLogger(__name__)

DLQ_SUFFIX = "-dlq"
# Pub/Sub's rule for topic and subscription ids; the local bus enforces it so a name that would be
# refused in production is refused here first.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  data TEXT NOT NULL,
  attributes TEXT NOT NULL,
  published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
  name TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  message_id TEXT NOT NULL,
  subscription TEXT NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL,               -- pending | leased | done | dead
  attempts INTEGER NOT NULL DEFAULT 0,
  acks INTEGER NOT NULL DEFAULT 0,
  not_before REAL NOT NULL,
  lease_until REAL,
  lease_pid INTEGER,
  lease_token TEXT,                  -- which lease may settle the row (see _owns_lease)
  last_error TEXT,
  PRIMARY KEY (message_id, subscription)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, not_before, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
  message_id TEXT NOT NULL,
  subscription TEXT NOT NULL,
  topic TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT,
  parked_at REAL NOT NULL,
  PRIMARY KEY (message_id, subscription)
);
"""


def check_name(kind: str, name: str) -> str:
    """Refuse a topic or subscription id Pub/Sub would refuse (3-255 chars, starts with a letter)."""
    if not _NAME.match(name) or name.lower().startswith("goog"):
        raise PortError(
            f"bad {kind} name {name!r}: 3-255 of [A-Za-z0-9-_.~+%], starting with a letter, not 'goog'"
        )
    return name


def encode_payload(data: Mapping[str, Any], attributes: Mapping[str, str] | None) -> tuple[bytes, dict[str, str]]:
    """The JSON bytes and string attributes of a message, or PortError naming what is wrong."""
    if not isinstance(data, Mapping):
        raise PortError(f"message data must be a JSON object (a mapping), got {type(data).__name__}")
    try:
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as e:
        raise PortError(f"message data is not JSON-serialisable: {e}") from e
    attrs = dict(attributes or {})
    bad = {k: v for k, v in attrs.items() if not isinstance(k, str) or not isinstance(v, str)}
    if bad:
        raise PortError(f"message attributes must be str -> str, got {bad!r}")
    return body, attrs


@dataclass(frozen=True)
class DeadLetter:
    """A message parked after its subscription failed it ``attempts`` times."""

    message: Message
    subscription: str
    attempts: int
    error: str
    parked_at: float


def add_missing_column(backed: SqliteBacked, table: str, column: str, decl: str) -> None:
    """Add a column that a file written by an earlier version of the adapter lacks.

    ``CREATE TABLE IF NOT EXISTS`` leaves an existing table as it was, so a later column is added
    here. The check is repeated under the write lock: another process may be adding it meanwhile.
    """
    def present(con: sqlite3.Connection) -> bool:
        return any(r[1] == column for r in con.execute(f"PRAGMA table_info({table})"))

    with backed._lock:
        if present(backed._con):
            return
    with backed._immediate() as con:
        if not present(con):
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a lease holder that died frees its lease)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class LocalBus(SqliteBacked):
    """Bus port on one SQLite file: durable, retrying, dead-lettering, optionally duplicating."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        deliver_twice: bool = False,
        lease_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
        busy_timeout_ms: int = 30_000,
    ) -> None:
        """Open (or create) the bus file.

        Seven parameters: the file, then the queue's knobs as keywords with their defaults (the
        subscription settings Pub/Sub has: attempts, backoff, lease; plus a clock and a duplicating mode
        for tests).
        """
        if max_attempts < 1:
            raise PortError("max_attempts must be >= 1")
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.deliver_twice = deliver_twice
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._handlers: dict[str, tuple[str, Handler]] = {}
        self._open_sqlite(self.path, busy_timeout_ms, _SCHEMA)
        add_missing_column(self, "deliveries", "lease_token", "TEXT")

    # -- publishing and wiring ------------------------------------------------------------------
    def _publish(self, con: sqlite3.Connection, topic: str, body: bytes, attrs: dict[str, str]) -> str:
        message_id = uuid.uuid4().hex
        now = self._clock()
        cur = con.execute(
            "INSERT INTO messages (message_id, topic, data, attributes, published_at) VALUES (?,?,?,?,?)",
            (message_id, topic, body.decode(), json.dumps(attrs), now),
        )
        con.execute(
            "INSERT INTO deliveries (message_id, subscription, seq, state, not_before) "
            "SELECT ?, name, ?, 'pending', ? FROM subscriptions WHERE topic = ?",
            (message_id, cur.lastrowid, now, topic),
        )
        return message_id

    def publish(self, topic: str, data: Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> str:
        """Store the message for every subscription of the topic (durable once this returns)."""
        check_name("topic", topic)
        body, attrs = encode_payload(data, attributes)
        with self._immediate() as con:
            return self._publish(con, topic, body, attrs)

    def declare(self, subscription: str, topic: str) -> None:
        """Create the subscription if absent (messages published from now on are kept for it).

        Like a Pub/Sub subscription, it only receives messages published after it exists; a
        subscription is bound to one topic for life.
        """
        check_name("subscription", subscription)
        check_name("topic", topic)
        with self._immediate() as con:
            row = con.execute("SELECT topic FROM subscriptions WHERE name = ?", (subscription,)).fetchone()
            if row and row[0] != topic:
                raise PortError(f"subscription {subscription!r} is bound to topic {row[0]!r}, not {topic!r}")
            if not row:
                con.execute(
                    "INSERT INTO subscriptions (name, topic, created_at) VALUES (?,?,?)",
                    (subscription, topic, self._clock()),
                )

    def subscribe(self, subscription: str, topic: str, handler: Handler) -> None:
        """Declare the subscription and deliver its messages to handler when this bus drains."""
        self.declare(subscription, topic)
        self._handlers[subscription] = (topic, handler)

    # -- delivering -----------------------------------------------------------------------------
    def _recover_leases(self, con: sqlite3.Connection, now: float) -> None:
        """Free the leases whose handler will never settle: the lease expired or its process died.

        The attempt was counted when the lease was taken, so a handler that kills its process uses
        up its attempts like one that raises: retried after the backoff, parked after the maximum.
        """
        leased = con.execute(
            "SELECT message_id, subscription, attempts, lease_until, lease_pid FROM deliveries "
            "WHERE state = 'leased' AND (lease_until <= ? OR lease_pid != ?)",
            (now, os.getpid()),
        ).fetchall()
        alive: dict[int, bool] = {}
        for message_id, subscription, attempts, lease_until, pid in leased:
            if lease_until <= now:
                err = f"LeaseExpired: the handler did not settle within {self.lease_seconds:g} s"
            elif pid is not None and not alive.setdefault(pid, pid_alive(pid)):
                err = f"HandlerCrashed: the process running the handler (pid {pid}) died before settling"
            else:
                continue
            log.warning("bus lease recovered", extra={
                "message_id": message_id, "subscription": subscription, "attempt": attempts,
                "error": err.split(":")[0],
            })
            if attempts >= self.max_attempts:
                topic, data, attributes = con.execute(
                    "SELECT topic, data, attributes FROM messages WHERE message_id = ?", (message_id,)
                ).fetchone()
                self._park(con, message_id, subscription, topic, data.encode(), json.loads(attributes),
                           attempts, err, now)
            else:
                con.execute(
                    "UPDATE deliveries SET state = 'pending', not_before = ?, last_error = ?, "
                    "lease_until = NULL, lease_pid = NULL, lease_token = NULL "
                    "WHERE message_id = ? AND subscription = ?",
                    (now + self._backoff(attempts), err, message_id, subscription),
                )

    def _backoff(self, attempts: int) -> float:
        """Seconds to wait before the next delivery after ``attempts`` failed ones."""
        return float(self.backoff_seconds * 2 ** (attempts - 1))

    def _park(
        self, con: sqlite3.Connection, message_id: str, subscription: str, topic: str, body: bytes,
        attributes: Mapping[str, str], attempts: int, err: str, now: float,
    ) -> None:
        """Dead-letter one delivery and, like Pub/Sub's dead-letter policy, forward it to the DLQ topic.

        Nine parameters: the open transaction, the delivery's columns as its two callers already hold
        them, and the clock's reading; a record type would exist for this call alone.
        """
        key = (message_id, subscription)
        con.execute(
            "UPDATE deliveries SET state = 'dead', attempts = ?, last_error = ?, "
            "lease_until = NULL, lease_pid = NULL, lease_token = NULL WHERE message_id = ? AND subscription = ?",
            (attempts, err, *key),
        )
        con.execute(
            "INSERT OR REPLACE INTO dead_letters "
            "(message_id, subscription, topic, attempts, error, parked_at) VALUES (?,?,?,?,?,?)",
            (*key, topic, attempts, err, now),
        )
        if not topic.endswith(DLQ_SUFFIX):
            # Pub/Sub's dead-letter policy forwards to the DLQ topic with these attributes.
            attrs = {
                **attributes,
                "CloudPubSubDeadLetterSourceSubscription": subscription,
                "CloudPubSubDeadLetterSourceDeliveryCount": str(attempts),
            }
            self._publish(con, topic + DLQ_SUFFIX, body, attrs)
        log.warning("bus message dead-lettered", extra={
            "message_id": message_id, "subscription": subscription, "attempts": attempts,
            "error": err.split(":")[0],
        })

    def _claim(self, ignore_delay: bool) -> tuple[Any, ...] | None:
        subs = list(self._handlers)
        if not subs:
            return None
        now = self._clock()
        marks = ",".join("?" * len(subs))
        with self._immediate() as con:
            self._recover_leases(con, now)
            row = con.execute(
                "SELECT d.message_id, d.subscription, d.attempts, d.acks, m.topic, m.data, m.attributes "
                "FROM deliveries d JOIN messages m ON m.message_id = d.message_id "
                f"WHERE d.state = 'pending' AND d.subscription IN ({marks}) "
                + ("" if ignore_delay else "AND d.not_before <= ? ")
                + "ORDER BY d.not_before, d.seq LIMIT 1",
                (*subs,) if ignore_delay else (*subs, now),
            ).fetchone()
            if row is None:
                return None
            # The attempt counts now, not when the handler settles: a handler that kills its
            # process never settles, and would otherwise be redelivered for ever.
            token = uuid.uuid4().hex
            con.execute(
                "UPDATE deliveries SET state = 'leased', attempts = attempts + 1, lease_until = ?, "
                "lease_pid = ?, lease_token = ? WHERE message_id = ? AND subscription = ?",
                (now + self.lease_seconds, os.getpid(), token, row[0], row[1]),
            )
        return (*row, token)

    def _owns_lease(self, con: sqlite3.Connection, message: Message, subscription: str, token: str,
                    result: str) -> bool:
        """Whether the delivery is still leased under token; if not, log the result being dropped.

        A handler that outlived its lease may find its message recovered, redelivered, acked or
        parked by another consumer: its result is stale and must not overwrite the newer outcome.
        """
        row = con.execute(
            "SELECT state, lease_token FROM deliveries WHERE message_id = ? AND subscription = ?",
            (message.message_id, subscription),
        ).fetchone()
        if row is not None and row[0] == "leased" and row[1] == token:
            return True
        log.warning("bus late result dropped", extra={
            "message_id": message.message_id, "subscription": subscription, "attempt": message.attempt,
            "result": result, "state": row[0] if row else None,
        })
        return False

    def _settle(
        self, message: Message, subscription: str, acks: int, token: str, error: BaseException | None,
    ) -> bool:
        """Ack, retry or park the delivery leased under token; False when the lease was lost meanwhile."""
        now = self._clock()
        attempts = message.attempt
        key = (message.message_id, subscription)
        with self._immediate() as con:
            if not self._owns_lease(con, message, subscription, token, "ack" if error is None else "nack"):
                return False
            if error is None:
                acks += 1
                again = self.deliver_twice and acks < 2
                con.execute(
                    "UPDATE deliveries SET state = ?, attempts = ?, acks = ?, not_before = ?, lease_until = NULL, "
                    "lease_pid = NULL, lease_token = NULL WHERE message_id = ? AND subscription = ?",
                    ("pending" if again else "done", attempts, acks, now, *key),
                )
                return True
            err = f"{type(error).__name__}: {error}"[:2000]
            if attempts >= self.max_attempts:
                body = json.dumps(message.data, separators=(",", ":"), ensure_ascii=False).encode()
                self._park(con, message.message_id, subscription, message.topic, body, message.attributes,
                           attempts, err, now)
                return True
            con.execute(
                "UPDATE deliveries SET state = 'pending', attempts = ?, not_before = ?, last_error = ?, "
                "lease_until = NULL, lease_pid = NULL, lease_token = NULL WHERE message_id = ? AND subscription = ?",
                (attempts, now + self._backoff(attempts), err, *key),
            )
            return True

    def drain(self, max_messages: int | None = None, *, ignore_delay: bool = False) -> int:
        """Deliver due messages to this process's handlers until none is due; return how many acked.

        Messages that handlers publish while draining are delivered in the same call. With
        ``ignore_delay`` retries are delivered at once instead of after their backoff.
        """
        acked = 0
        while max_messages is None or acked < max_messages:
            row = self._claim(ignore_delay)
            if row is None:
                break
            message_id, subscription, attempts, acks, topic, data, attributes, token = row
            message = Message(
                topic=topic, data=json.loads(data), attributes=json.loads(attributes),
                message_id=message_id, attempt=attempts + 1,
            )
            _, handler = self._handlers[subscription]
            try:
                handler(message)
            # Any Exception from a handler asks for a retry; a BaseException is a crash and leaves the
            # lease in place for recovery.
            except Exception as e:  # noqa: BLE001
                log.warning("bus handler failed", extra={
                    "message_id": message_id, "subscription": subscription, "attempt": message.attempt,
                    "error": type(e).__name__,
                })
                self._settle(message, subscription, acks, token, e)
                continue
            if self._settle(message, subscription, acks, token, None):
                acked += 1
        return acked

    # -- inspection and repair ------------------------------------------------------------------
    def pending(self, subscription: str | None = None) -> int:
        """Deliveries not yet acked (pending or leased), for one subscription or all."""
        sql = "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'leased')"
        args: tuple[Any, ...] = ()
        if subscription:
            sql += " AND subscription = ?"
            args = (subscription,)
        with self._lock:
            return int(self._con.execute(sql, args).fetchone()[0])

    def dead_letters(self, subscription: str | None = None) -> list[DeadLetter]:
        """Parked messages, oldest first."""
        sql = (
            "SELECT m.message_id, m.topic, m.data, m.attributes, x.subscription, x.attempts, x.error, "
            "x.parked_at FROM dead_letters x JOIN messages m ON m.message_id = x.message_id"
        )
        args: tuple[Any, ...] = ()
        if subscription:
            sql += " WHERE x.subscription = ?"
            args = (subscription,)
        with self._lock:
            rows = self._con.execute(sql + " ORDER BY x.parked_at, m.seq", args).fetchall()
        return [
            DeadLetter(
                message=Message(topic=r[1], data=json.loads(r[2]), attributes=json.loads(r[3]),
                                message_id=r[0], attempt=r[5]),
                subscription=r[4], attempts=r[5], error=r[6] or "", parked_at=r[7],
            )
            for r in rows
        ]

    def replay(self, message_id: str | None = None, subscription: str | None = None) -> int:
        """Put parked messages back in their queue with fresh attempts; return how many."""
        conds, args = [], []
        if message_id:
            conds.append("message_id = ?")
            args.append(message_id)
        if subscription:
            conds.append("subscription = ?")
            args.append(subscription)
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        with self._immediate() as con:
            keys = con.execute(f"SELECT message_id, subscription FROM dead_letters{where}", args).fetchall()
            if message_id and not keys:
                raise NotFound(f"no dead letter {message_id!r}" + (f" on {subscription!r}" if subscription else ""))
            for key in keys:
                con.execute(
                    "UPDATE deliveries SET state = 'pending', attempts = 0, acks = 0, not_before = ?, "
                    "last_error = NULL WHERE message_id = ? AND subscription = ?",
                    (self._clock(), *key),
                )
                con.execute("DELETE FROM dead_letters WHERE message_id = ? AND subscription = ?", key)
        return len(keys)

    def close(self) -> None:
        with self._lock:
            self._con.close()
