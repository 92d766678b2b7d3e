"""The SQL models as a dependency graph: which file is a mart, what it writes, and the SQL that builds it.

Models live in ``tower/sql/models/<layer>/`` (BigQuery dialect, one model a file, dbt's layers), each beside a
``<model>.yml`` that declares its grain, its columns that are never NULL and what one row is:

* ``staging/`` (``stg_<source>__<entity>``): one source table each, its columns renamed, cast and tidied, read
  for the build's brand and date span; no joins, no aggregates.
* ``intermediate/`` (``int_<entity>__<step>``): the steps between: joins (brand, FX rates, campaigns), keys,
  attribution and allocation stages that several marts or one long mart build on.
* ``marts/``: each writes the table of the same name (DDL in ``tower/sql/schema/``), one brand and one date
  window at a time, replacing exactly that window.

Staging and intermediate models are *ephemeral*: never stored, the runner inlines them as CTEs into the marts
that read them (dbt's "ephemeral" materialisation). That keeps every build one statement per mart on both
warehouses: no sessions. One exception, on DuckDB only: the ephemeral models several marts of one build read
(:func:`shared_models`: the orders and their lines above all) are computed once into temporary tables of that
build's connection, which the marts read instead of inlining them again, and dropped when the build ends.

Dependencies are read from the SQL itself (the tables each model selects from), so the order in which the
runner builds the marts cannot drift from what the SQL says.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Literal

from sqlglot import exp

from tower import sql as sqlfiles

WindowKind = Literal["window", "weeks", "as_of"]
Layer = Literal["staging", "intermediate", "marts"]

LAYERS: tuple[Layer, ...] = ("staging", "intermediate", "marts")


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


@cache
def _layers() -> dict[str, Layer]:
    """Model name -> the layer folder its file sits in."""
    found: dict[str, Layer] = {}
    for layer in LAYERS:
        for path in sorted((sqlfiles.MODELS_DIR / layer).glob("*.sql")):
            if path.stem in found:
                raise ValueError(f"model {path.stem!r} is in both {found[path.stem]}/ and {layer}/")
            found[path.stem] = layer
    return found


def model_names() -> list[str]:
    """Every model file stem, in name order."""
    return sorted(_layers())


def layer(name: str) -> Layer:
    """The layer of a model: ``staging``, ``intermediate`` or ``marts``.

    Raises:
        KeyError: no model file has that name.
    """
    try:
        return _layers()[name]
    except KeyError:
        raise KeyError(f"no model named {name!r} under {sqlfiles.MODELS_DIR}") from None


def is_ephemeral(name: str) -> bool:
    """Staging and intermediate models are inlined, never stored."""
    return layer(name) != "marts"


def model_path(name: str) -> str:
    """The model file, relative to ``tower/sql`` (its grain YAML sits beside it, same stem)."""
    return f"models/{layer(name)}/{name}.sql"


def model_sql(name: str) -> str:
    """The model file's own text (BigQuery dialect)."""
    return sqlfiles.load(model_path(name))


def spec_path(name: str) -> Path:
    """The model's YAML beside its SQL: ``description``, ``grain`` (the columns that tell its rows apart) and
    ``not_null`` (the columns never NULL). The tests hold every model to it on the synthetic world."""
    return (sqlfiles.SQL_DIR / model_path(name)).with_suffix(".yml")


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


def _ephemeral_closure(name: str, stored: Collection[str] = ()) -> list[str]:
    """The ephemeral models a model needs, each after the ones it needs itself; models in ``stored`` are read as
    tables, so neither they nor what only they need are part of it."""
    graph: dict[str, set[str]] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        deps = {d for d in dependencies(current) if is_ephemeral(d) and d not in stored}
        graph[current] = deps
        todo.extend(d for d in deps if d not in graph)
    return [m for m in TopologicalSorter(graph).static_order() if m != name]


def shared_models(marts: Sequence[str]) -> list[str]:
    """The ephemeral models worth storing once for a build of these marts, in dependency order.

    A model is shared when two or more readers would each inline it: the marts, and the shared models
    themselves (each stored once, reading the shared models below it as tables). Walking from the marts down,
    a model all of whose readers reach it through one shared model is not shared again (the staging models
    under int_shopify__order_lines are read once, by it). A model that reads a mart is never shared: it is
    stored before the build writes any mart.
    """
    stored: list[str] = []
    # every ephemeral model the marts need, readers (closest to the marts) before what they read
    needed = {m for mart in marts for m in _ephemeral_closure(mart)}
    graph = {m: {d for d in dependencies(m) if d in needed} for m in needed}
    for candidate in reversed(list(TopologicalSorter(graph).static_order())):
        readers = [r for r in (*marts, *stored) if candidate in _ephemeral_closure(r, stored)]
        if len(readers) >= 2 and not _mart_inputs(candidate):
            stored.append(candidate)
    return [m for m in TopologicalSorter(graph).static_order() if m in stored]


@cache
def output_columns(table: str) -> tuple[str, ...]:
    """The columns of a table, in DDL order (the mart's SELECT must produce exactly these)."""
    (tree,) = sqlfiles.parse_bigquery(sqlfiles.load(f"schema/{table}.sql"))
    schema = tree.this
    return tuple(col.name for col in schema.expressions if isinstance(col, exp.ColumnDef))


def compose(
    name: str, columns: tuple[str, ...] | None = None, where: str = "", tables: Mapping[str, str] | None = None
) -> str:
    """A self-contained SELECT for a model: its ephemeral inputs inlined as CTEs, in dependency order.

    Args:
        name: the model.
        columns: the columns to select from it (default: a mart's DDL columns; ``*`` for ephemeral models).
        where: an optional condition on the model's output (BigQuery SQL with @params, never values).
        tables: ephemeral models already stored for this build (model -> table name): read from those tables
            instead of inlined (see :func:`shared_models`).
    """
    tables = dict(tables or {})
    if columns is None:
        columns = output_columns(name) if not is_ephemeral(name) else ()
    ctes = [f"{dep} AS (\n{model_sql(dep).rstrip().rstrip(';')}\n)" for dep in _ephemeral_closure(name, tables)]
    ctes.append(f"model__{name} AS (\n{model_sql(name).rstrip().rstrip(';')}\n)")
    select = ", ".join(columns) if columns else "*"
    sql = "WITH " + ",\n".join(ctes) + f"\nSELECT {select} FROM model__{name}"
    for model, table in tables.items():  # model names are whole identifiers: no other name contains one
        sql = re.sub(rf"\b{model}\b", table, sql)
    return sql + (f"\nWHERE {where}" if where else "")


def build_script(spec: MartSpec, tables: Mapping[str, str] | None = None) -> str:
    """The statement that rebuilds one brand's target window of a mart, atomically.

    Parameters: the model's own, plus ``@brand_id``, ``@target_start`` and ``@target_end``. ``tables``: the
    ephemeral models stored for this build (see :func:`compose`).
    """
    table = spec.name
    cols = output_columns(table)
    # the model computes its window already; the filter makes "replaces exactly that window" hold by construction
    in_target = f"{spec.date_column} >= @target_start AND {spec.date_column} < @target_end"
    return (
        "BEGIN TRANSACTION;\n"
        f"DELETE FROM {table} WHERE brand_id = @brand_id "
        f"AND {spec.date_column} >= @target_start AND {spec.date_column} < @target_end;\n"
        f"INSERT INTO {table} ({', '.join(cols)})\n{compose(table, where=in_target, tables=tables)};\n"
        "COMMIT TRANSACTION;"
    )
