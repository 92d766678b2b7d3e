"""What both warehouse adapters share: the MERGE and window-replace statements, in BigQuery dialect."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import pyarrow as pa

from tower.ports import PortError, QueryTimeout

T = TypeVar("T")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """Check a table or column name is a plain identifier (they are never user input, but be sure)."""
    if not _IDENT.match(name):
        raise PortError(f"not a plain identifier: {name!r}")
    return name


def as_arrow(rows: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows as an Arrow table (loads are columnar; lists of dicts are converted once)."""
    if isinstance(rows, pa.Table):
        return rows
    if isinstance(rows, pa.RecordBatch):
        return pa.Table.from_batches([rows])
    return pa.Table.from_pylist(list(rows))


def merge_sql(table: str, staging: str, columns: Sequence[str], keys: Sequence[str]) -> str:
    """A BigQuery MERGE of staging into table on keys, updating every non-key column given.

    NULL-safe key comparison is not needed: natural keys are NOT NULL by construction.
    """
    for c in (*columns, *keys, table, staging):
        ident(c)
    missing = [k for k in keys if k not in columns]
    if missing:
        raise PortError(f"merge into {table}: key columns missing from rows: {missing}")
    on = " AND ".join(f"T.{k} = S.{k}" for k in keys)
    updates = [c for c in columns if c not in keys]
    cols = ", ".join(columns)
    vals = ", ".join(f"S.{c}" for c in columns)
    sql = f"MERGE {table} T USING {staging} S ON {on}\n"
    if updates:
        sql += "WHEN MATCHED THEN UPDATE SET " + ", ".join(f"{c} = S.{c}" for c in updates) + "\n"
    sql += f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})"
    return sql


def dedupe_sql(staging_source: str, columns: Sequence[str], keys: Sequence[str], order_col: str) -> str:
    """Keep the last row per key of a staging source (MERGE rejects two source rows for one target)."""
    cols = ", ".join(ident(c) for c in columns)
    part = ", ".join(ident(k) for k in keys)
    return (
        f"SELECT {cols} FROM {staging_source} "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY {ident(order_col)} DESC) = 1"
    )


def window_delete_sql(table: str, date_column: str, where: Mapping[str, Any] | None) -> str:
    """DELETE of one half-open date window [@window_start, @window_end) (plus equalities)."""
    conds = [f"{ident(date_column)} >= @window_start", f"{ident(date_column)} < @window_end"]
    for col in where or {}:
        conds.append(f"{ident(col)} = @w_{ident(col)}")
    return f"DELETE FROM {ident(table)} WHERE " + " AND ".join(conds)


def run_with_timeout(work: Callable[[], T], timeout_s: float | None, stop: Callable[[], None]) -> T:
    """Run ``work`` in a worker thread; after ``timeout_s`` call ``stop`` (which must make it end)
    and raise QueryTimeout. ``stop`` reaches only the connection ``work`` runs on."""
    if timeout_s is None:
        return work()
    result: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            result["value"] = work()
        except BaseException as e:  # noqa: BLE001 - handed over and re-raised in the caller's thread
            result["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, name="warehouse-read", daemon=True).start()
    if not done.wait(timeout_s):
        stop()
        done.wait(5.0)
        raise QueryTimeout(f"the query ran longer than {timeout_s:g} s and was stopped")
    if "error" in result:
        raise result["error"]
    return result["value"]
