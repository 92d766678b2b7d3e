"""The embedded document store: Firestore semantics on SQLite (JSON documents, WAL mode).

One row per document, keyed by its full path (``coll/doc[/coll/doc...]``). Several processes may
share the file: WAL lets readers run beside one writer, a busy timeout makes writers wait for each
other instead of failing, and transactions take the write lock up front (``BEGIN IMMEDIATE``) so a
read-modify-write can never interleave with another process's.

Queries read the collection's documents and filter them in Python with Firestore's own rules (typed
comparisons, its cross-type ordering, ``!=`` skipping null and missing fields, implicit ordering on
inequality fields then the document id). The product's collections are small per brand, so this is
exact rather than clever. The same rules are checked against the Firestore emulator by
``tests/contract/test_store_contract.py``.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tower.adapters.sqlite_file import SqliteBacked
from tower.ports import Conflict, DocQuery, PortError, Where

WHERE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "array_contains")
_INEQUALITY_OPS = ("!=", "<", "<=", ">", ">=")
_TS_TAG = "__tower_ts__"  # JSON has no timestamp type: datetimes are stored as {"__tower_ts__": iso}


# --- paths and values (shared with the Firestore adapter) ------------------------------------------


def split_doc_path(path: str) -> tuple[str, str]:
    """``brands/b1/alerts/a1`` → (``brands/b1/alerts``, ``a1``); raise PortError on a collection path."""
    parts = path.strip("/").split("/")
    if not path or len(parts) % 2 or any(not p for p in parts):
        raise PortError(f"not a document path (coll/doc[/coll/doc...]): {path!r}")
    return "/".join(parts[:-1]), parts[-1]


def check_collection_path(path: str) -> str:
    """A collection path has an odd number of non-empty segments (``brands`` or ``brands/b1/alerts``)."""
    parts = path.strip("/").split("/")
    if not path or len(parts) % 2 == 0 or any(not p for p in parts):
        raise PortError(f"not a collection path (coll[/doc/coll...]): {path!r}")
    return "/".join(parts)


def check_value(value: Any, where: str = "") -> None:
    """Reject values Firestore cannot store, so both adapters accept exactly the same documents.

    Allowed: None, bool, int, float, str, bytes, datetime, lists and string-keyed maps of those.
    ``date`` and ``Decimal`` are refused (Firestore refuses them too): store ISO strings or numbers.
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes, datetime)):
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str) or not k:
                raise PortError(f"document keys must be non-empty strings, got {k!r} at {where or 'top'}")
            check_value(v, f"{where}.{k}" if where else k)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            if isinstance(v, (list, tuple)):
                raise PortError(f"arrays cannot directly contain arrays (Firestore rule) at {where}[{i}]")
            check_value(v, f"{where}[{i}]")
        return
    raise PortError(
        f"unsupported value of type {type(value).__name__} at {where or 'top'} "
        "(use str/int/float/bool/None/datetime/bytes, lists and maps)"
    )


def _utc(dt: datetime) -> datetime:
    # Firestore reads a naive datetime as UTC and always returns aware UTC datetimes.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TS_TAG: _utc(value).isoformat()}
    if isinstance(value, bytes):
        return {"__tower_bytes__": value.hex()}
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(_encode(data), separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if _TS_TAG in obj:
            return datetime.fromisoformat(obj[_TS_TAG])
        if "__tower_bytes__" in obj:
            return bytes.fromhex(obj["__tower_bytes__"])
    return obj


def loads(text: str) -> dict[str, Any]:
    # Decoded while parsing (the hook sees each object once, innermost first), and not at all for a
    # document with neither tag: every page load reads several documents, and a walk over each
    # value in Python cost more than the parse itself.
    if "__tower_" not in text:
        plain: dict[str, Any] = json.loads(text)
        return plain
    out: dict[str, Any] = json.loads(text, object_hook=_decode_object)
    return out


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Firestore's ``set(..., merge=True)``: maps merge recursively, everything else replaces.

    An empty map replaces the field with an empty map (checked against the emulator).
    """
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and value and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# --- Firestore's value ordering ----------------------------------------------------------------------

_MISSING = object()


def _type_rank(v: Any) -> int:
    # Firestore orders values of different types: null < bool < number < timestamp < string
    # < bytes < (reference < geopoint) < array < map.
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1
    if isinstance(v, (int, float)):
        return 2
    if isinstance(v, datetime):
        return 3
    if isinstance(v, str):
        return 4
    if isinstance(v, bytes):
        return 5
    if isinstance(v, (list, tuple)):
        return 8
    if isinstance(v, Mapping):
        return 9
    raise PortError(f"cannot compare value of type {type(v).__name__}")


def sort_key(v: Any) -> tuple[Any, ...]:
    """A key that orders any document values exactly as Firestore does."""
    rank = _type_rank(v)
    if rank == 0:
        return (0,)
    if rank == 2:
        f = float(v)
        return (2, (0, 0.0) if math.isnan(f) else (1, v))  # NaN sorts before every number
    if rank == 3:
        return (3, _utc(v))
    if rank == 4:
        return (4, v.encode("utf-8"))  # Firestore compares strings by their UTF-8 bytes
    if rank == 8:
        return (8, tuple(sort_key(x) for x in v))
    if rank == 9:
        return (9, tuple((k.encode("utf-8"), sort_key(v[k])) for k in sorted(v, key=lambda s: s.encode())))
    return (rank, v)


def field_value(doc: Mapping[str, Any], field_path: str) -> Any:
    """The value at a dotted field path (``a.b``), or ``_MISSING``."""
    cur: Any = doc
    for part in field_path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def _equal(a: Any, b: Any) -> bool:
    return sort_key(a) == sort_key(b)


def matches(doc: Mapping[str, Any], w: Where) -> bool:
    """Whether one document passes one filter, by Firestore's rules."""
    v = field_value(doc, w.field)
    if v is _MISSING:
        return False  # every filter, even !=, skips documents without the field
    if w.op == "==":
        return _equal(v, w.value)
    if w.op == "!=":
        return v is not None and not _equal(v, w.value)
    if w.op == "in":
        return any(_equal(v, x) for x in w.value)
    if w.op == "array_contains":
        return isinstance(v, list) and any(_equal(x, w.value) for x in v)
    # Range filters only match values of the operand's type (1 < "a" is never true).
    if _type_rank(v) != _type_rank(w.value):
        return False
    a, b = sort_key(v), sort_key(w.value)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[w.op]


def check_query(q: DocQuery) -> None:
    """Refuse queries Firestore would refuse, with the reason."""
    check_collection_path(q.collection)
    for w in q.where:
        if w.op not in WHERE_OPS:
            raise PortError(f"unknown where op {w.op!r}; use one of {', '.join(WHERE_OPS)}")
        if w.op == "in" and (not isinstance(w.value, (list, tuple)) or not w.value or len(w.value) > 30):
            raise PortError(f"'in' needs a list of 1 to 30 values, got {w.value!r}")
        if w.op in ("<", "<=", ">", ">=") and w.value is None:
            raise PortError(f"range filter {w.field} {w.op} None: only == and != compare with null")
        check_value(w.value, w.field)
    for _, direction in q.order_by:
        if direction not in ("asc", "desc"):
            raise PortError(f"order direction must be 'asc' or 'desc', got {direction!r}")
    if q.limit is not None and q.limit < 0:
        raise PortError(f"limit must be >= 0, got {q.limit}")


def _by_field(field_path: str) -> Callable[[tuple[str, dict[str, Any]]], tuple[Any, ...]]:
    """A sort key on one field of (doc id, data) pairs, in Firestore's order of values."""
    return lambda pair: sort_key(field_value(pair[1], field_path))


def run_query(q: DocQuery, docs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Filter, order and limit (doc id, data) pairs of one collection by Firestore's rules."""
    found = [(i, d) for i, d in docs if all(matches(d, w) for w in q.where)]
    order = list(q.order_by)
    if not order:
        # Firestore orders an inequality query by its inequality fields (lexicographically) first.
        order = [(f, "asc") for f in sorted({w.field for w in q.where if w.op in _INEQUALITY_OPS})]
    # Documents lacking an order-by field are not in the result.
    found = [(i, d) for i, d in found if all(field_value(d, f) is not _MISSING for f, _ in order)]
    # Ties break on the document id, in the direction of the last ordering (Firestore's __name__).
    last_desc = bool(order) and order[-1][1] == "desc"
    found.sort(key=lambda p: p[0].encode("utf-8"), reverse=last_desc)
    for f, direction in reversed(order):
        found.sort(key=_by_field(f), reverse=direction == "desc")
    return found if q.limit is None else found[: q.limit]


# --- the SQLite adapter --------------------------------------------------------------------------------


class _LocalTransaction:
    """Reads go to the database inside ``BEGIN IMMEDIATE``; writes are buffered and applied at commit.

    Like Firestore, every read must come before the first write.
    """

    def __init__(self, store: LocalStore, con: sqlite3.Connection) -> None:
        self._store = store
        self._con = con
        self._writes: list[tuple[str, str, Mapping[str, Any] | None]] = []

    def get(self, path: str) -> dict[str, Any] | None:
        if self._writes:
            raise PortError("transaction read after write: do every read before the first write")
        return self._store._get(self._con, path)

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._writes.append(("set", path, data))

    def merge(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._writes.append(("merge", path, data))

    def delete(self, path: str) -> None:
        split_doc_path(path)
        self._writes.append(("delete", path, None))

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        """Create the document; the commit fails with Conflict when it exists."""
        split_doc_path(path)
        check_value(data)
        self._writes.append(("create", path, data))

    def _apply(self) -> None:
        for kind, path, data in self._writes:
            self._store._write(self._con, kind, path, data)


class _LocalBatch:
    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self._writes: list[tuple[str, str, Mapping[str, Any] | None]] = []

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._writes.append(("set", path, data))

    def merge(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._writes.append(("merge", path, data))

    def delete(self, path: str) -> None:
        split_doc_path(path)
        self._writes.append(("delete", path, None))

    def commit(self) -> None:
        """Apply every write atomically (all or none)."""
        with self._store._immediate() as con:
            for kind, path, data in self._writes:
                self._store._write(con, kind, path, data)
        self._writes = []


class LocalStore(SqliteBacked):
    """DocumentStore port on one SQLite file (or ``:memory:`` for a single process)."""

    change_poll_seconds = 0.02
    """How stale another process's commits may be in :meth:`change_stamp` (0: never)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 30_000) -> None:
        self._data_version = 0
        self._version_read_at = -math.inf
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._open_sqlite(
            self.path, busy_timeout_ms,
            "CREATE TABLE IF NOT EXISTS documents ("
            " path TEXT PRIMARY KEY, collection TEXT NOT NULL, doc_id TEXT NOT NULL,"
            " data TEXT NOT NULL, updated_at TEXT NOT NULL);"
            "CREATE INDEX IF NOT EXISTS documents_collection ON documents (collection);",
        )

    # -- plumbing -------------------------------------------------------------------------------
    def _get(self, con: sqlite3.Connection, path: str) -> dict[str, Any] | None:
        split_doc_path(path)
        row = con.execute("SELECT data FROM documents WHERE path = ?", (path.strip("/"),)).fetchone()
        return loads(row[0]) if row else None

    def _write(self, con: sqlite3.Connection, kind: str, path: str, data: Mapping[str, Any] | None) -> None:
        collection, doc_id = split_doc_path(path)
        key = f"{collection}/{doc_id}"
        if kind == "delete":
            con.execute("DELETE FROM documents WHERE path = ?", (key,))
            return
        assert data is not None
        if kind == "merge":
            current = self._get(con, key) or {}
            data = deep_merge(current, data)
        now = datetime.now(UTC).isoformat()
        if kind == "create":
            try:
                con.execute(
                    "INSERT INTO documents (path, collection, doc_id, data, updated_at) VALUES (?,?,?,?,?)",
                    (key, collection, doc_id, dumps(data), now),
                )
            except sqlite3.IntegrityError as e:
                raise Conflict(f"document already exists: {key}") from e
            return
        con.execute(
            "INSERT INTO documents (path, collection, doc_id, data, updated_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT (path) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (key, collection, doc_id, dumps(data), now),
        )

    def change_stamp(self) -> tuple[int, int]:
        """(writes this process committed, SQLite's ``data_version``) (:class:`tower.ports.ChangeStamped`).

        The first moves at once with this process's commits; the second when another connection
        (another process: the CLI, a build, a second server) commits to the file, read at most every
        ``change_poll_seconds``: asking SQLite on every request made the API's request threads queue
        on the connection's lock, so another process's commit is seen within that much (20 ms).
        """
        now = time.monotonic()
        if now - self._version_read_at >= self.change_poll_seconds:
            with self._lock:
                self._data_version = int(self._con.execute("PRAGMA data_version").fetchone()[0])
            self._version_read_at = now  # the time before the read: a commit after it shows next time
        return self._commits, self._data_version

    # -- the port -----------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            return self._get(self._con, path)

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        check_value(data)
        with self._immediate() as con:
            self._write(con, "set", path, data)

    def merge(self, path: str, data: Mapping[str, Any]) -> None:
        check_value(data)
        with self._immediate() as con:
            self._write(con, "merge", path, data)

    def delete(self, path: str) -> None:
        with self._immediate() as con:
            self._write(con, "delete", path, None)

    def create(self, path: str, data: Mapping[str, Any]) -> bool:
        check_value(data)
        try:
            with self._immediate() as con:
                self._write(con, "create", path, data)
        except Conflict:
            return False
        return True

    def query(self, q: DocQuery) -> list[tuple[str, dict[str, Any]]]:
        check_query(q)
        collection = check_collection_path(q.collection)
        with self._lock:
            rows = self._con.execute(
                "SELECT doc_id, data FROM documents WHERE collection = ?", (collection,)
            ).fetchall()
        docs = [(doc_id, loads(data)) for doc_id, data in rows]
        return [(f"{collection}/{doc_id}", d) for doc_id, d in run_query(q, docs)]

    def transaction(self, fn: Callable[[Any], Any]) -> Any:
        """Run fn inside one write-locked SQLite transaction; its writes commit together.

        BEGIN IMMEDIATE takes the database's write lock before the first read, so no other process
        can change what fn read: there is nothing to retry. An exception in fn rolls back.
        """
        with self._immediate() as con:
            txn = _LocalTransaction(self, con)
            result = fn(txn)
            txn._apply()
        return result

    def batch(self) -> _LocalBatch:
        return _LocalBatch(self)

    def close(self) -> None:
        with self._lock:
            self._con.close()
