"""The BigQuery dialect through sqlglot: parsing, DuckDB transpiling, Arrow schemas from the DDL.

Apart from :mod:`tower.sql` (the files) because sqlglot costs a cold start about 0.1 s: a function
that only reads a query's text (the API) never loads it; :mod:`tower.sql`'s functions of the same
names load this module on their first call.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_DIR = Path(__file__).parent / "schema"

SQLGLOT_LOCK = threading.RLock()
"""Held while sqlglot parses or writes SQL here. Under R6's load (many request threads transpiling Q&A
queries at once) a valid query failed to parse now and then (``Expected TYPE after CAST`` on
``CAST(x AS FLOAT64)``): sqlglot does not promise thread safety, and its work holds the GIL anyway, so
one at a time costs nothing; each text is transpiled once (cached), so the lock is rarely taken."""

# BigQuery NUMERIC is DECIMAL(38, 9); sqlglot writes a bare DECIMAL, which DuckDB reads as (18, 3).
_NUMERIC = exp.DataType.build("DECIMAL(38, 9)", dialect="duckdb")


@lru_cache(maxsize=128)
def arrow_schema(table: str, *, not_null: bool = True) -> pa.Schema:
    """The Arrow schema of a warehouse table, from its DDL file: column order, types and (unless
    ``not_null`` is False) the NOT NULL constraints.

    BigQuery NUMERIC is ``decimal128(38, 9)``; TIMESTAMP is ``timestamp[us, tz=UTC]``; DATE ``date32``.

    Raises:
        KeyError: No DDL file declares the table.
        TypeError: A column's type has no Arrow counterpart here.
    """
    import pyarrow as pa

    types = {
        exp.DataType.Type.VARCHAR: pa.string(), exp.DataType.Type.TEXT: pa.string(),
        exp.DataType.Type.BIGINT: pa.int64(), exp.DataType.Type.INT: pa.int64(),
        exp.DataType.Type.DOUBLE: pa.float64(), exp.DataType.Type.FLOAT: pa.float64(),
        exp.DataType.Type.BOOLEAN: pa.bool_(), exp.DataType.Type.DATE: pa.date32(),
        exp.DataType.Type.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
        exp.DataType.Type.TIMESTAMP: pa.timestamp("us", tz="UTC"),
        exp.DataType.Type.DECIMAL: pa.decimal128(38, 9), exp.DataType.Type.BIGDECIMAL: pa.decimal128(38, 9),
    }
    path = SCHEMA_DIR / f"{table}.sql"
    if not path.exists():
        raise KeyError(f"no DDL file for table {table!r}")
    (create,) = parse_bigquery(path.read_text())
    fields = []
    for col in create.this.expressions:
        if not isinstance(col, exp.ColumnDef):
            continue
        kind = col.args["kind"]
        if kind.this not in types:
            raise TypeError(f"{table}.{col.name}: no Arrow type for {kind.sql('bigquery')}")
        required = not_null and any(isinstance(c.kind, exp.NotNullColumnConstraint) for c in col.constraints)
        fields.append(pa.field(col.name, types[kind.this], nullable=not required))
    return pa.schema(fields)


def parse_bigquery(sql: str) -> list[exp.Expr]:
    """Parse BigQuery-dialect SQL (raises sqlglot.ParseError on anything BigQuery would reject)."""
    with SQLGLOT_LOCK:
        return [e for e in sqlglot.parse(sql, read="bigquery") if e is not None]


def _information_schema_view(node: exp.Table) -> exp.Table | None:
    """DuckDB's ``information_schema.<view>`` for BigQuery's ``[project.][dataset.]INFORMATION_SCHEMA.VIEW``.

    sqlglot's BigQuery dialect reads ``INFORMATION_SCHEMA.TABLES`` as one quoted name (BigQuery allows it
    so), which DuckDB then looks up as a table of that name. DuckDB has one catalog and answers the
    standard views (``tables``, ``columns``, ``schemata``...) from its own ``information_schema``, so
    the project and dataset qualifiers are dropped. None when the table is not such a view.
    """
    name = node.name
    prefix, _, view = name.rpartition(".")
    if prefix.upper() != "INFORMATION_SCHEMA" or not view:
        return None
    fixed = exp.Table(this=exp.to_identifier(view.lower()), db=exp.to_identifier("information_schema"))
    alias = node.args.get("alias")
    if alias is not None:
        # sqlglot names an unaliased dotted table after its whole path; the view's own name reads the same.
        fixed.set("alias", exp.TableAlias(this=exp.to_identifier(view)) if "." in alias.name else alias.copy())
    return fixed


def _fix_for_duckdb(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Table):
        view = _information_schema_view(node)
        if view is not None:
            return view
    # BigQuery TIMESTAMP(date_or_datetime, zone_column): sqlglot rewrites only a literal zone, so a
    # per-row zone (e.g. each ad account's timezone) would reach DuckDB untranslated. Local wall
    # time AT TIME ZONE zone is DuckDB's "interpret as local time in zone" (a TIMESTAMPTZ).
    if isinstance(node, exp.Timestamp) and node.args.get("zone") is not None and not isinstance(
        node.args["zone"], exp.Literal
    ):
        return exp.AtTimeZone(
            this=exp.cast(node.this.copy(), exp.DataType.build("TIMESTAMP")), zone=node.args["zone"].copy()
        )
    if isinstance(node, exp.DataType) and node.this in (
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.BIGDECIMAL,
    ) and not node.expressions:
        return _NUMERIC.copy()
    return node


@lru_cache(maxsize=2048)
def to_duckdb(sql: str) -> tuple[str, ...]:
    """Transpile BigQuery SQL (one or more statements) to DuckDB statements. Cached per text.

    Partitioning, clustering and OPTIONS have no DuckDB meaning and are dropped.
    """
    with SQLGLOT_LOCK:
        return tuple(_transpiled(sql))


def _transpiled(sql: str) -> list[str]:
    out = []
    for tree in parse_bigquery(sql):
        if isinstance(tree, exp.Create):
            props = tree.args.get("properties")
            if props is not None:  # keep TEMPORARY and the like; drop what only BigQuery means
                props.set("expressions", [
                    p for p in props.expressions
                    if not isinstance(p, (exp.PartitionedByProperty, exp.ClusterProperty, exp.Property))
                    or isinstance(p, exp.TemporaryProperty)
                ])
        tree = tree.transform(_fix_for_duckdb)
        out.append(tree.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.IGNORE))
    return out
