"""The embedded warehouse: DuckDB running the same BigQuery-dialect SQL, transpiled by sqlglot.

DuckDB lets one process open a file for writing and, while it has it, no other process open it at
all. Commands that only read open it read-only (several may then read at once); either way a file
held by another process (a running ``tower demo`` or ``tower serve``) is reported as
:class:`~tower.ports.WarehouseUnavailable`, in one sentence saying what to do, and a full disk as
:class:`~tower.ports.DiskFull`.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tower import sql as sqlfiles
from tower.adapters.local_files import disk_full, is_disk_full, private_dir, tighten
from tower.adapters.warehouse_common import (
    as_arrow,
    dedupe_sql,
    ident,
    merge_sql,
    run_with_timeout,
    window_delete_sql,
)
from tower.ports import Confinement, PortError, WarehouseUnavailable

_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


def _arrow(rel: duckdb.DuckDBPyRelation | None) -> pa.Table:
    """A relation's rows as Arrow (a statement with no result gives an empty table)."""
    return rel.to_arrow_table() if rel is not None else pa.table({})


class DuckDBWarehouse:
    """Warehouse port on a DuckDB file (or ``:memory:``).

    One writing connection, guarded by a lock: DuckDB allows one writing process per file, and the
    embedded default runs the pipeline in one process. Reads through ``read`` go to a cursor of the
    same database per thread (DuckDB's MVCC gives each a consistent snapshot), so a slow read never
    holds the lock the writes and other readers need, and its timeout interrupts only itself.

    Args:
        path: The database file (created 0600 in a 0700 folder), or ``:memory:``.
        threads: DuckDB's worker threads (default: DuckDB's choice).
        read_only: Open for reading only: the file must exist, nothing can be written through
            this connection, and other read-only processes may read the file at the same time.

    Raises:
        WarehouseUnavailable: Another process holds the file, or a read-only open found no file.
        DiskFull: The disk holding the file is full.
        PortError: Another failure to open.
    """

    engine = "duckdb"

    def __init__(self, path: str | Path = ":memory:", *, threads: int | None = None,
                 read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        if self.path != ":memory:" and not read_only:
            private_dir(Path(self.path).parent)
        try:
            self._con = self._connect()
        except duckdb.Error as e:
            raise self._open_error(e) from e
        if self.path != ":memory:":
            for f in (self.path, self.path + ".wal"):  # DuckDB creates them with the umask's mode
                tighten(f)
        self._con.execute("SET TimeZone = 'UTC'")
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")
        self._lock = threading.RLock()
        self._readers = threading.local()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(self.path, read_only=self.read_only)
        except duckdb.ConnectionException as e:
            if not (self.read_only and "different configuration" in str(e)):
                raise
            # This process has the file open for writing already, and DuckDB keeps one database per
            # file and process: share it. Reading through it takes no lock from anyone.
            return duckdb.connect(self.path)

    def _open_error(self, e: duckdb.Error) -> PortError:
        """What a failed open means, in words that say what to do."""
        text = str(e)
        if "Could not set lock" in text or "Conflicting lock" in text:
            holder = _LOCK_HOLDER.search(text)
            pid = f" (PID {holder.group(1)})" if holder else ""
            return WarehouseUnavailable(
                f"the warehouse {self.path} is held by another process{pid}, such as a running `tower demo` "
                "or `tower serve` (DuckDB lets no other process open the file meanwhile); stop that process, "
                "or use its API and page instead, then run this command again"
            )
        if self.read_only and "does not exist" in text:
            return WarehouseUnavailable(f"the warehouse {self.path} does not exist yet; create it with "
                                        "`tower init` (or `tower demo`) first")
        if is_disk_full(e):
            return disk_full(self.path, "opened")
        return PortError(f"cannot open the warehouse {self.path}: {text}")

    def _failed(self, e: duckdb.Error, message: str) -> PortError:
        """A failed statement as a PortError with message, or DiskFull when the disk is full."""
        return disk_full(self.path) if is_disk_full(e) else PortError(message)

    def _rollback(self) -> None:
        """End the open transaction (DuckDB has ended it already when the COMMIT itself failed)."""
        try:
            self._con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass

    # -- schema ---------------------------------------------------------------------------------
    def init_schema(self) -> list[str]:
        names = []
        for f in sqlfiles.schema_files():
            ddl = f.read_text()
            self.execute(ddl)
            self._add_new_columns(ddl)
            names.append(f.stem)
        return names

    def _add_new_columns(self, ddl: str) -> None:
        """Add the DDL's nullable columns a table made by an older DDL lacks (``CREATE TABLE IF NOT EXISTS``
        leaves an existing table as it was, and a local warehouse outlives releases: BigQuery's tables are
        updated by Terraform). A new NOT NULL column cannot be added to rows that exist: it is left out."""
        from sqlglot import exp  # lazy: sqlglot, which only schema work needs here

        for tree in sqlfiles.parse_bigquery(ddl):
            if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
                continue
            table = tree.this.this.name
            have = set(self.columns(table))
            for col in tree.this.expressions:
                if not isinstance(col, exp.ColumnDef) or col.name in have:
                    continue
                if any(isinstance(c.kind, exp.NotNullColumnConstraint) for c in col.constraints):
                    continue
                kind = col.args["kind"].sql("bigquery")
                self.execute(f"ALTER TABLE {table} ADD COLUMN {col.name} {kind}")

    def table_exists(self, table: str) -> bool:
        with self._lock:
            # fetchall, not fetchone: DuckDB 2 keeps a result that was not read to its end open on the
            # connection, and the next statement then fails with ResourceInUseException
            rows = self._con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [ident(table)]
            ).fetchall()
        return bool(rows and rows[0][0])

    def columns(self, table: str) -> list[str]:
        with self._lock:
            rows = self._con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [ident(table)],
            ).fetchall()
        if not rows:
            raise PortError(f"no such table: {table}")
        return [r[0] for r in rows]

    # -- statements -----------------------------------------------------------------------------
    def _run(self, sql: str, params: Mapping[str, Any] | None, *, want_result: bool = False) -> pa.Table | None:
        """Run every statement of sql; return the last one's rows as Arrow when asked."""
        statements = sqlfiles.to_duckdb(sql)
        if not statements:
            raise PortError("empty SQL")
        result = None
        for i, stmt in enumerate(statements):
            used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", stmt)}
            try:
                if want_result and i == len(statements) - 1:
                    rel = self._con.sql(stmt, params=used or None)
                    result = rel.to_arrow_table() if rel is not None else pa.table({})
                else:
                    self._con.execute(stmt, used or None).fetchall()
            except duckdb.Error as e:
                raise self._failed(e, f"{type(e).__name__}: {e}\n-- in --\n{stmt}") from e
        return result

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        with self._lock:
            result = self._run(sql, params, want_result=True)
        assert result is not None
        return result

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.query(sql, params).to_pylist()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self._lock:
            self._run(sql, params)

    # -- loads ----------------------------------------------------------------------------------
    def _stage(self, rows: pa.Table, table: str, target_cols: Sequence[str] | None = None) -> tuple[str, list[str]]:
        target_cols = target_cols or self.columns(table)
        unknown = [c for c in rows.column_names if c not in target_cols]
        if unknown:
            raise PortError(f"{table}: unknown columns {unknown}")
        name = f"_stage_{ident(table)}_{uuid.uuid4().hex[:8]}"
        self._con.register(name, rows)
        return name, list(rows.column_names)

    def merge(self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]], keys: Sequence[str]) -> int:
        data = as_arrow(rows)
        if data.num_rows == 0:
            return 0
        merge_sql(table, "_", data.column_names, keys)  # names a missing key column clearly
        with self._lock:
            data = data.append_column("__ord", pa.array(range(data.num_rows), pa.int64()))
            target_cols = self.columns(table)
            stage, cols = self._stage(data.drop(["__ord"]), table, target_cols)
            self._con.unregister(stage)
            raw = f"_raw_{stage}"
            self._con.register(raw, data)
            # Rows with unique keys (the usual case) need no dedupe pass: stage them as they are.
            try:
                unique = data.group_by(list(keys)).aggregate([]).num_rows == data.num_rows
            except pa.ArrowException:  # a key type Arrow cannot group by: dedupe in SQL
                unique = False
            try:
                self._con.execute("BEGIN TRANSACTION")
                if unique:
                    self._con.execute(f"CREATE TEMP VIEW {stage} AS SELECT {', '.join(cols)} FROM {raw}")
                else:
                    self._con.execute(
                        f"CREATE TEMP TABLE {stage} AS {dedupe_sql(raw, cols, keys, '__ord')}"
                    )
                if set(cols) == set(target_cols):
                    # The rows carry every column, so "delete the matching keys, insert the rows" in
                    # this transaction ends in the same table as the MERGE. DuckDB's MERGE slows
                    # as the target grows (~1 s per 40k rows into 1M rows); the delete + insert
                    # stays ~0.1 s (bench/shopify_bulk.py).
                    on = " AND ".join(f"T.{k} = S.{k}" for k in keys)
                    col_list = ", ".join(cols)
                    self._con.execute(f"DELETE FROM {ident(table)} T USING {stage} S WHERE {on}").fetchall()
                    self._con.execute(
                        f"INSERT INTO {ident(table)} ({col_list}) SELECT {col_list} FROM {stage}"
                    ).fetchall()
                else:
                    for stmt in sqlfiles.to_duckdb(merge_sql(table, stage, cols, keys)):
                        self._con.execute(stmt).fetchall()
                self._con.execute("COMMIT")
            except duckdb.Error as e:
                self._rollback()
                raise self._failed(e, f"merge into {table} failed: {e}") from e
            finally:
                self._con.unregister(raw)
                self._con.execute(f"DROP {'VIEW' if unique else 'TABLE'} IF EXISTS {stage}")
        return data.num_rows

    def insert(self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]]) -> int:
        """Append rows without key matching (for append-only tables and fresh windows)."""
        data = as_arrow(rows)
        if data.num_rows == 0:
            return 0
        with self._lock:
            stage, cols = self._stage(data, table)
            try:
                self._con.execute(
                    f"INSERT INTO {ident(table)} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage}"
                )
            except duckdb.Error as e:
                raise self._failed(e, f"insert into {table} failed: {e}") from e
            finally:
                self._con.unregister(stage)
        return data.num_rows

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
        data = as_arrow(rows)
        params: dict[str, Any] = {"window_start": start, "window_end": end}
        params.update({f"w_{k}": v for k, v in (where or {}).items()})
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                self._run(window_delete_sql(table, date_column, where), params)
                if data.num_rows:
                    stage, cols = self._stage(data, table)
                    try:
                        self._con.execute(
                            f"INSERT INTO {ident(table)} ({', '.join(cols)}) "
                            f"SELECT {', '.join(cols)} FROM {stage}"
                        )
                    finally:
                        self._con.unregister(stage)
                self._con.execute("COMMIT")
            except duckdb.Error as e:
                self._rollback()
                raise self._failed(e, f"replacing {date_column} [{start}, {end}) of {table} failed: {e}") from e
            except Exception:
                self._rollback()
                raise
        return data.num_rows

    def load_file(self, path: str, statements: Sequence[str],
                  params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run DuckDB-dialect statements that read the local file ``$path``, in one transaction.

        DuckDB reads the file where it lies; nothing is copied. The last statement's rows are
        fetched before the commit.
        """
        if not statements:
            raise PortError("load_file needs at least one statement")
        values = {**(params or {}), "path": str(path)}
        rows: list[dict[str, Any]] = []
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                for i, stmt in enumerate(statements):
                    used = {k: v for k, v in values.items() if re.search(rf"\${k}\b", stmt)}
                    if i == len(statements) - 1:
                        rows = _arrow(self._con.sql(stmt, params=used or None)).to_pylist()
                    else:
                        self._con.execute(stmt, used or None)
                self._con.execute("COMMIT")
            except duckdb.Error as e:
                self._rollback()
                raise self._failed(e, f"loading {path} failed: {type(e).__name__}: {e}") from e
            except BaseException:
                self._rollback()
                raise
        return rows

    # -- the read path ----------------------------------------------------------------------------
    def _reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's read connection (a cursor: same database, own transaction and interrupt)."""
        cur = getattr(self._readers, "con", None)
        if cur is None:
            with self._lock:  # the parent connection object is not thread-safe while it spawns one
                cur = self._con.cursor()
                cur.execute("SET TimeZone = 'UTC'")
            self._readers.con = cur
        return cur

    def read(self, sql: str, params: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = None) -> list[dict[str, Any]]:
        statements = sqlfiles.to_duckdb(sql)
        if len(statements) != 1:
            raise PortError(f"a read is one statement, got {len(statements)}")
        stmt = statements[0]
        used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", stmt)}
        con = self._reader()

        def work() -> list[dict[str, Any]]:
            try:
                return _arrow(con.sql(stmt, params=used or None)).to_pylist()
            except duckdb.Error as e:
                raise PortError(f"{type(e).__name__}: {e}") from e

        return run_with_timeout(work, timeout_s, con.interrupt)

    def read_confined(self, sql: str, params: Mapping[str, Any] | None,
                      confinement: Confinement) -> list[dict[str, Any]]:
        """Run an untrusted SELECT in a throwaway in-memory database that holds nothing but
        ``confinement.brand_id``'s rows of ``confinement.tables``.

        The copy is made through this thread's read connection; the query's database has external
        access off (no files, no ATTACH, no extensions), its configuration locked (the query cannot
        lift the memory limit or re-enable anything), one thread and the memory limit. Whatever the
        SQL guard might miss, no other brand's row and no other table exists where the query runs.
        """
        statements = sqlfiles.to_duckdb(sql)
        if len(statements) != 1:
            raise PortError(f"a confined read is one statement, got {len(statements)}")
        source = self._reader()
        iso = duckdb.connect(":memory:", config={
            "memory_limit": f"{int(confinement.memory_limit_mb)}MB", "threads": 1,
        })
        try:
            iso.execute("SET TimeZone = 'UTC'")
            for table in sorted(confinement.tables):
                name = ident(table)
                rows = _arrow(source.sql(f"SELECT * FROM {name} WHERE brand_id = $brand_id",
                                         params={"brand_id": confinement.brand_id}))
                iso.register("_rows", rows)
                iso.execute(f"CREATE TABLE {name} AS SELECT * FROM _rows")
                iso.unregister("_rows")
            iso.execute("SET enable_external_access = false")
            iso.execute("SET lock_configuration = true")
            stmt = statements[0]
            used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", stmt)}

            def work() -> list[dict[str, Any]]:
                try:
                    return _arrow(iso.sql(stmt, params=used or None)).to_pylist()
                except duckdb.Error as e:
                    raise PortError(f"{type(e).__name__}: {str(e).splitlines()[0]}") from e

            return run_with_timeout(work, confinement.timeout_s, iso.interrupt)
        finally:
            iso.close()

    def interrupt(self) -> None:
        """Stop the statement running now (called from another thread, e.g. a query timeout).

        Deliberately lock-free: the running statement holds the lock until it ends.
        """
        self._con.interrupt()

    def close(self) -> None:
        with self._lock:
            self._con.close()
