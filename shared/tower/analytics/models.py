"""The SQL models as a dependency graph: which file is a mart, what it writes, and the SQL that builds it.

Models live in ``tower/sql/models/`` (BigQuery dialect, one model a file, grain in the first comment line):

* ``stg_*`` (staging) and ``int_*`` (intermediate) models are *ephemeral*: they are never stored, the runner
  inlines them as CTEs into the marts that read them (dbt's "ephemeral" materialisation). That keeps every
  build one statement per mart on both warehouses: no temporary tables, no sessions.
* every other file is a *mart*: it writes the table of the same name (DDL in ``tower/sql/schema/``), one
  brand and one date window at a time, replacing exactly that window.

Dependencies are read from the SQL itself (the tables each model selects from), so the order in which the
runner builds the marts cannot drift from what the SQL says.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from typing import Literal

from sqlglot import exp

from tower import sql as sqlfiles

WindowKind = Literal["window", "weeks", "as_of"]


@dataclass(frozen=True)
class MartSpec:
    """How a mart's output is windowed.

    Attributes:
        name: model file stem = table name.
        date_column: the table's partition column; the runner replaces ``[target_start, target_end)`` of it.
        window: ``window`` = the build window; ``weeks`` = whole weeks from the Monday on or before the
            window's start; ``as_of`` = the one as-of day of the build (a point-in-time model).
    """

    name: str
    date_column: str
    window: WindowKind


# The marts and how each is windowed. The build ORDER comes from the SQL (see build_order).
MARTS: dict[str, MartSpec] = {
    spec.name: spec
    for spec in (
        MartSpec("attributed_orders", "order_date", "window"),
        MartSpec("days_of_cover", "snapshot_date", "window"),
        MartSpec("unified_performance", "performance_date", "window"),
        MartSpec("attribution_reconciliation", "week_start", "weeks"),
        MartSpec("inventory_alignment", "as_of_date", "as_of"),
        MartSpec("performance_snapshots", "as_of_date", "window"),
    )
}


def model_names() -> list[str]:
    """Every model file stem, in name order."""
    return sorted(p.stem for p in sqlfiles.MODELS_DIR.glob("*.sql"))


def is_ephemeral(name: str) -> bool:
    """Staging and intermediate models are inlined, never stored."""
    return name.startswith(("stg_", "int_"))


def model_sql(name: str) -> str:
    """The model file's own text (BigQuery dialect)."""
    return sqlfiles.load(f"models/{name}.sql")


@cache
def referenced_tables(name: str) -> frozenset[str]:
    """Tables (and models) the model selects from, CTE names excluded."""
    (tree,) = sqlfiles.parse_bigquery(model_sql(name))
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return frozenset(t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes)


def dependencies(name: str) -> frozenset[str]:
    """The models (ephemeral or mart) this model reads."""
    models = set(model_names())
    return frozenset(t for t in referenced_tables(name) if t in models and t != name)


def build_order() -> list[str]:
    """The marts in an order where every mart comes after the marts it reads."""
    graph = {m: {d for d in _mart_inputs(m)} for m in MARTS}
    return list(TopologicalSorter(graph).static_order())


def _mart_inputs(name: str) -> set[str]:
    """Marts read by a model, directly or through the ephemeral models it inlines."""
    out: set[str] = set()
    for dep in dependencies(name):
        if is_ephemeral(dep):
            out |= _mart_inputs(dep)
        elif dep in MARTS:
            out.add(dep)
    return out


def _ephemeral_closure(name: str) -> list[str]:
    """The ephemeral models a model needs, each after the ones it needs itself."""
    graph: dict[str, set[str]] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        deps = {d for d in dependencies(current) if is_ephemeral(d)}
        graph[current] = deps
        todo.extend(d for d in deps if d not in graph)
    return [m for m in TopologicalSorter(graph).static_order() if m != name]


@cache
def output_columns(table: str) -> tuple[str, ...]:
    """The columns of a table, in DDL order (the mart's SELECT must produce exactly these)."""
    (tree,) = sqlfiles.parse_bigquery(sqlfiles.load(f"schema/{table}.sql"))
    schema = tree.this
    return tuple(col.name for col in schema.expressions if isinstance(col, exp.ColumnDef))


def compose(name: str, columns: tuple[str, ...] | None = None, where: str = "") -> str:
    """A self-contained SELECT for a model: its ephemeral inputs inlined as CTEs, in dependency order.

    Args:
        name: the model.
        columns: the columns to select from it (default: a mart's DDL columns; ``*`` for ephemeral models).
        where: an optional condition on the model's output (BigQuery SQL with @params, never values).
    """
    if columns is None:
        columns = output_columns(name) if not is_ephemeral(name) else ()
    ctes = [f"{dep} AS (\n{model_sql(dep).rstrip().rstrip(';')}\n)" for dep in _ephemeral_closure(name)]
    ctes.append(f"model__{name} AS (\n{model_sql(name).rstrip().rstrip(';')}\n)")
    select = ", ".join(columns) if columns else "*"
    sql = "WITH " + ",\n".join(ctes) + f"\nSELECT {select} FROM model__{name}"
    return sql + (f"\nWHERE {where}" if where else "")


def build_script(spec: MartSpec) -> str:
    """The statement that rebuilds one brand's target window of a mart, atomically.

    Parameters: the model's own, plus ``@brand_id``, ``@target_start`` and ``@target_end``.
    """
    table = spec.name
    cols = output_columns(table)
    # the model computes its window already; the filter makes "replaces exactly that window" hold by construction
    in_target = f"{spec.date_column} >= @target_start AND {spec.date_column} < @target_end"
    return (
        "BEGIN TRANSACTION;\n"
        f"DELETE FROM {table} WHERE brand_id = @brand_id "
        f"AND {spec.date_column} >= @target_start AND {spec.date_column} < @target_end;\n"
        f"INSERT INTO {table} ({', '.join(cols)})\n{compose(table, where=in_target)};\n"
        "COMMIT TRANSACTION;"
    )
