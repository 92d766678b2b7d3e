"""The four ports (and the task queue) that separate the pure core from GCP or the embedded default.

Each port is a small Protocol. ``tower.adapters.open_*`` picks the adapter from the settings' URL;
the contract suites in ``tests/contract`` run the same tests against every adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa


class PortError(RuntimeError):
    """An adapter could not do what was asked (bad table, bad query, unavailable backend)."""


class NotFound(PortError):
    """The document, secret or table asked for does not exist."""


class Conflict(PortError):
    """A write lost a race (a transaction's precondition no longer holds)."""


class QueryTimeout(PortError):
    """A read ran longer than its timeout and was stopped."""


class DiskFull(PortError):
    """A write failed because the disk holding an embedded adapter's file is full (the message names it)."""


class WarehouseUnavailable(PortError):
    """The embedded warehouse file cannot be opened: another process holds it, or a read-only open
    found no file. The message names the file and what to do."""


@dataclass(frozen=True)
class Confinement:
    """How far an untrusted (model-written) query may reach: one brand's rows of a few tables.

    Attributes:
        brand_id: The only brand whose rows the query can see.
        tables: The tables it reads (already checked against the allowed set by the SQL guard).
        timeout_s: Wall-clock limit; the query is stopped after it.
        memory_limit_mb: Memory the embedded engine may use for it.
        max_bytes_billed: BigQuery's cap on bytes the job may scan (the job fails beyond it).
    """

    brand_id: str
    tables: frozenset[str]
    timeout_s: float
    memory_limit_mb: int = 256
    max_bytes_billed: int = 1_000_000_000


# --- Warehouse ---------------------------------------------------------------------------------


@runtime_checkable
class Warehouse(Protocol):
    """An analytics warehouse speaking BigQuery-dialect SQL with ``@named`` parameters."""

    engine: str  # "duckdb" | "bigquery"

    def init_schema(self) -> list[str]:
        """Create every table of ``tower/sql/schema`` that does not exist; return the table names."""

    def merge(self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]], keys: Sequence[str]) -> int:
        """Upsert rows on their natural keys (MERGE); return the number of rows given."""

    def insert(self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]]) -> int:
        """Append rows as they are (no key matching); return the number of rows given."""

    def replace_window(
        self,
        table: str,
        rows: pa.Table | Sequence[Mapping[str, Any]],
        *,
        date_column: str,
        start: date,
        end: date,
        where: Mapping[str, Any] | None = None,
    ) -> int:
        """Atomically delete ``[start, end)`` on date_column (and ``where`` equalities), then insert rows."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run one BigQuery-dialect statement and return the result as an Arrow table."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Like ``query`` but as a list of dicts (for small results)."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement (DML/DDL or a script) for its effect."""

    def read(self, sql: str, params: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = None) -> list[dict[str, Any]]:
        """Run one trusted read on the read path: it never waits behind a write or another read,
        and is stopped after ``timeout_s`` (raising QueryTimeout) without touching other work."""

    def read_confined(self, sql: str, params: Mapping[str, Any] | None, confinement: Confinement) -> list[dict[str, Any]]:
        """Run one untrusted SELECT where only ``confinement.brand_id``'s rows of
        ``confinement.tables`` exist for it (see each adapter for how), within its limits."""

    def table_exists(self, table: str) -> bool:
        """Whether the table exists."""

    def load_file(self, path: str, statements: Sequence[str],
                  params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run statements over one local file of text lines, in one transaction; return the last
        statement's rows.

        The statements are written in this engine's own dialect (not transpiled: reading a file is
        where engines differ most), so a caller writes one script per ``engine``:

        * ``duckdb``: they read the file with DuckDB's own readers through the ``$path`` parameter;
          parameters are ``$name``.
        * ``bigquery``: the file goes to Cloud Storage, a load job puts each line in the one STRING
          column ``line`` of a staging table, which the statements call ``{lines}``; parameters are
          ``@name``.
        """

    def close(self) -> None:
        """Release connections."""


# --- Document store ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """One filter of a document query: ``field op value`` (op: == != < <= > >= in array_contains)."""

    field: str
    op: str
    value: Any


@dataclass
class DocQuery:
    """A collection query: filters, ordering, limit."""

    collection: str
    where: list[Where] = field(default_factory=list)
    order_by: list[tuple[str, str]] = field(default_factory=list)  # (field, "asc"|"desc")
    limit: int | None = None


@runtime_checkable
class DocumentStore(Protocol):
    """A Firestore-shaped document store. Paths are ``collection/doc[/collection/doc...]``."""

    def get(self, path: str) -> dict[str, Any] | None: ...

    def set(self, path: str, data: Mapping[str, Any]) -> None: ...

    def merge(self, path: str, data: Mapping[str, Any]) -> None: ...

    def delete(self, path: str) -> None: ...

    def query(self, q: DocQuery) -> list[tuple[str, dict[str, Any]]]:
        """Documents of one collection (a full path like ``brands/b1/alerts``) as (path, data)."""

    def create(self, path: str, data: Mapping[str, Any]) -> bool:
        """Create the document only if it does not exist; return whether it was created."""

    def transaction(self, fn: Callable[[Transaction], Any]) -> Any:
        """Run fn with a transaction: reads see a consistent view, writes commit together."""

    def batch(self) -> Batch: ...


@runtime_checkable
class ChangeStamped(Protocol):
    """A store that can tell cheaply whether anything may have changed since it last said (optional).

    ``change_stamp()`` returns a value that differs from any earlier one after a write this process
    made through the store, and after a commit by anyone else when the store can see those (the
    embedded store can; Firestore cannot, so there it covers this instance's own writes only). The
    API reuses what it read (API keys, ready answers) while the stamp stays the same, for at most
    ``TOWER_API_MEMO_SECONDS`` (:mod:`tower.api.ready`).
    """

    def change_stamp(self) -> tuple[int, int]: ...


class Transaction(Protocol):
    def get(self, path: str) -> dict[str, Any] | None: ...

    def set(self, path: str, data: Mapping[str, Any]) -> None: ...

    def merge(self, path: str, data: Mapping[str, Any]) -> None: ...

    def delete(self, path: str) -> None: ...


class Batch(Protocol):
    def set(self, path: str, data: Mapping[str, Any]) -> None: ...

    def merge(self, path: str, data: Mapping[str, Any]) -> None: ...

    def delete(self, path: str) -> None: ...

    def commit(self) -> None: ...


# --- Bus -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One delivered message: JSON payload, string attributes, id and attempt number."""

    topic: str
    data: dict[str, Any]
    attributes: dict[str, str]
    message_id: str
    attempt: int = 1


Handler = Callable[[Message], None]
"""A subscriber: raise to have the message redelivered, return when done."""


@runtime_checkable
class Bus(Protocol):
    """Publish/subscribe with at-least-once delivery."""

    def publish(self, topic: str, data: Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> str:
        """Publish a JSON payload; return the message id."""

    def subscribe(self, subscription: str, topic: str, handler: Handler) -> None:
        """Wire a handler to a topic under a subscription name."""

    def drain(self, max_messages: int | None = None) -> int:
        """Deliver pending messages to their handlers (local bus; pull adapters poll). Return count."""


# --- Task queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    queue: str
    handler: str  # entry point name, e.g. "apply_budget_change"
    payload: dict[str, Any]
    task_id: str
    attempt: int = 1


@runtime_checkable
class TaskQueue(Protocol):
    """Cloud Tasks shape: enqueue named, deduplicated HTTP tasks."""

    def enqueue(
        self, queue: str, handler: str, payload: Mapping[str, Any], *, task_id: str | None = None,
        delay_seconds: float = 0,
    ) -> str:
        """Enqueue a task; a task_id already used is not enqueued again. Return the task id."""

    def register(self, handler: str, fn: Callable[[Task], None]) -> None:
        """Local queues call fn for tasks naming this handler (Cloud Tasks calls the HTTP target)."""

    def drain(self, max_tasks: int | None = None) -> int:
        """Run due tasks (local queue). Return how many ran."""


# --- Secrets -------------------------------------------------------------------------------------


@runtime_checkable
class Secrets(Protocol):
    """A secret store: values are bytes-safe strings, versioned."""

    def put(self, secret_id: str, value: str) -> str:
        """Create the secret if needed and add a version with value; return the version name."""

    def get(self, secret_id: str, version: str = "latest") -> str:
        """The value of a version (raises NotFound)."""

    def rotate(self, secret_id: str, value: str) -> str:
        """Add a new version and disable the previous ones; return the new version name."""

    def delete(self, secret_id: str) -> None: ...

    def exists(self, secret_id: str) -> bool: ...
