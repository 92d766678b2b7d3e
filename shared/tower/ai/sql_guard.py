"""The guard on model-written SQL: one read-only SELECT over the analytics tables, always one brand's.

A query Claude writes for ``run_select`` is parsed with sqlglot (BigQuery dialect) and accepted only if

* it is exactly one statement, and that statement is a SELECT (or a UNION / INTERSECT / EXCEPT of
  SELECTs) — no DDL, DML, scripting, ``SELECT … INTO``, EXPORT, COPY, PRAGMA, SET, CALL …;
* every table it reads is one of the allowed analytics tables, unqualified (no other project or
  dataset, no INFORMATION_SCHEMA), with no time travel (``FOR SYSTEM_TIME``); a name counts as one of
  its own CTEs only in the scopes where that CTE is visible, and no CTE may be named like any table;
* every function it calls is on an allowlist of scalar, aggregate and window functions — anything
  else (``read_csv``, ``read_parquet``, ``read_text``, ``glob``, ``EXTERNAL_QUERY``, ``getenv``,
  user functions, functions sqlglot does not know) is refused;
* it uses no query parameter other than ``@brand_id``.

Then it is **rewritten**, never trusted: every allowed table reference becomes
``(SELECT * FROM table WHERE brand_id = @brand_id) AS alias``, so no predicate the model writes
(``OR 1=1``, another brand's id) can reach another brand's rows, and the outermost query gets a
``LIMIT`` of at most the configured row limit. The caller binds ``@brand_id`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.scope import Scope, traverse_scope

from tower import sql as sqlfiles

ALLOWED_TABLES: frozenset[str] = frozenset({
    "unified_performance",
    "performance_snapshots",
    "inventory_alignment",
    "days_of_cover",
    "attribution_reconciliation",
    "products",
    "variants",
    "ad_campaigns",
    "locations",
    "location_regions",
})
"""The analytics views a model-written query may read: the marts and the catalogue, never raw orders
(order rows carry hashed customer ids and URLs), secrets, integrations or usage tables."""

ALLOWED_FUNCTIONS: frozenset[str] = frozenset({
    # aggregates
    "Sum", "Avg", "Count", "CountIf", "Min", "Max", "AnyValue", "ArrayAgg", "GroupConcat", "LogicalOr",
    "LogicalAnd", "Stddev", "StddevPop", "StddevSamp", "Variance", "VariancePop", "ApproxDistinct",
    "ApproxQuantiles", "PercentileCont", "PercentileDisc", "Median", "ArgMax", "ArgMin",
    # windows
    "RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "Ntile", "Lag", "Lead", "FirstValue",
    "LastValue", "NthValue",
    # arithmetic and logic
    "Abs", "Round", "Floor", "Ceil", "Sqrt", "Pow", "Ln", "Log", "Exp", "Sign", "SafeDivide", "Div", "Mod",
    "Greatest", "Least", "Coalesce", "Nullif", "If", "Case", "Cast", "TryCast", "IsNan", "IsInf",
    # strings
    "Concat", "Lower", "Upper", "Substring", "Length", "Trim", "StrPosition", "StartsWith", "EndsWith",
    "Replace", "Left", "Right", "Initcap", "Split", "RegexpContains", "RegexpLike", "RegexpExtract",
    "Lpad", "Rpad", "Reverse", "Format",
    # dates
    "CurrentDate", "Date", "DateAdd", "DateSub", "DateDiff", "DateTrunc", "Extract", "TimestampTrunc",
    "TimeToStr", "TsOrDsToDate", "DateFromParts", "LastDay", "StrToDate", "DateStrToDate", "DateToDateStr",
    "DateFromUnixDate", "UnixDate", "Timestamp", "TimestampAdd", "TimestampSub", "TimestampDiff",
    "GenerateDateArray", "Unnest", "Array",
})

_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Set,
    exp.Pragma, exp.Use, exp.Copy, exp.Transaction, exp.Commit, exp.Rollback, exp.LoadData, exp.Describe,
    exp.Into, exp.TruncateTable, exp.Grant, exp.Show, exp.Export, exp.Attach, exp.Detach, exp.Install,
    exp.Cache, exp.Uncache, exp.Refresh, exp.Analyze, exp.Kill, exp.Declare,
)


@dataclass(frozen=True)
class GuardedSelect:
    """A query the guard accepted: the rewritten SQL and the stored tables it reads."""

    sql: str
    tables: frozenset[str]


class UnsafeQuery(ValueError):
    """The SQL is refused; the message says why (it goes back to the model as a tool error)."""


def guard_select(sql: str, *, row_limit: int, allowed_tables: frozenset[str] = ALLOWED_TABLES) -> GuardedSelect:
    """Check a model-written query and rewrite it to read only ``@brand_id``'s rows.

    Args:
        sql: The query (BigQuery dialect).
        row_limit: The largest LIMIT the outermost query may have.
        allowed_tables: Tables it may read.

    Returns:
        The rewritten query (BigQuery dialect, with ``@brand_id`` to bind) and the tables it reads.

    Raises:
        UnsafeQuery: Anything but one safe SELECT over the allowed tables.
    """
    tree = _one_select(sql)
    _check_nodes(tree)
    _check_table_references(tree)

    # A CTE named like any real table would make "which one is meant" depend on scoping rules: refuse
    # it outright (the bypass this closes: WITH orders AS (SELECT * FROM orders) read every brand).
    reserved = allowed_tables | _real_table_names()
    shadowing = sorted({c.alias_or_name.lower() for c in tree.find_all(exp.CTE)} & reserved)
    if shadowing:
        raise UnsafeQuery(f"a CTE may not be named like a table: {', '.join(shadowing)}")

    read: set[str] = set()
    for table in real_tables(tree):
        name = table.name.lower()
        if name not in allowed_tables:
            raise UnsafeQuery(f"table {name} is not readable; allowed: {', '.join(sorted(allowed_tables))}")
        read.add(name)
        alias = table.alias or table.name
        filtered = exp.select("*").from_(exp.to_table(name)).where(
            exp.EQ(this=exp.column("brand_id"), expression=exp.Parameter(this=exp.var("brand_id")))
        )
        table.replace(exp.Subquery(this=filtered, alias=exp.TableAlias(this=exp.to_identifier(alias))))

    return GuardedSelect(_limit(tree, row_limit).sql(dialect="bigquery"), frozenset(read))


def _one_select(sql: str) -> exp.Expression:
    """The one SELECT (or set operation of SELECTs) the text must be."""
    if not sql or not sql.strip():
        raise UnsafeQuery("empty query")
    try:
        statements = [s for s in sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE) if s]
    except (ParseError, sqlglot.errors.TokenError) as e:
        raise UnsafeQuery(f"not valid BigQuery SQL: {str(e).splitlines()[0]}") from e
    if len(statements) != 1:
        raise UnsafeQuery(f"exactly one statement is allowed, got {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise UnsafeQuery(f"only SELECT is allowed, not {type(tree).__name__.upper()}")
    return tree


def _check_nodes(tree: exp.Expression) -> None:
    """No writing or session statement anywhere, only allowed functions, no parameter but @brand_id."""
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise UnsafeQuery(f"{type(node).__name__.upper()} is not allowed in a read-only query")
        # AND / OR / XOR are operators that sqlglot models as functions
        if isinstance(node, exp.Func) and not isinstance(node, exp.Connector):
            name = type(node).__name__
            if isinstance(node, exp.Anonymous) or name not in ALLOWED_FUNCTIONS:
                shown = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
                raise UnsafeQuery(f"function {shown}() is not allowed")
        if isinstance(node, exp.Parameter | exp.Placeholder) and node.name.lower() != "brand_id":
            raise UnsafeQuery(f"query parameter @{node.name} is not allowed")


def _check_table_references(tree: exp.Expression) -> None:
    """Every table reference is a plain, unqualified name without modifiers."""
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            raise UnsafeQuery(f"table functions are not allowed: {table.sql(dialect='bigquery')}")
        if table.args.get("db") or table.args.get("catalog"):
            raise UnsafeQuery(f"qualified table names are not allowed: {table.sql(dialect='bigquery')}")
        extra = [k for k, v in table.args.items() if v and k not in ("this", "alias")]
        if extra:
            raise UnsafeQuery(f"table modifiers are not allowed on {table.name}: {', '.join(sorted(extra))}")


def real_tables(tree: exp.Expression) -> list[exp.Table]:
    """The table references of a query that name a stored table, resolved scope by scope.

    A name is a CTE only inside the scopes where that CTE is visible (sqlglot's optimizer.scope, the
    same resolution the engines apply): a CTE defined inside one subquery does not hide the real
    table of that name beside it. Every table node must be resolved either way, else the query is
    refused, so a construct the scope walk does not cover cannot slip past unfiltered.

    Raises:
        UnsafeQuery: A reference that cannot be resolved.
    """
    try:
        scopes = traverse_scope(tree)
    except (OptimizeError, ValueError, KeyError) as e:
        raise UnsafeQuery(f"the query's scopes cannot be resolved: {e}") from e
    real: dict[int, exp.Table] = {}
    resolved: set[int] = set()
    for scope in scopes:
        for table in scope.tables:
            source = scope.sources.get(table.alias_or_name)
            if source is table:
                real[id(table)] = table
            elif isinstance(source, Scope) and table.name in scope.cte_sources:
                pass  # a CTE visible here
            else:
                raise UnsafeQuery(f"table reference {table.sql(dialect='bigquery')} cannot be resolved")
            resolved.add(id(table))
    unresolved = [t for t in tree.find_all(exp.Table) if id(t) not in resolved]
    if unresolved:
        raise UnsafeQuery(f"table reference {unresolved[0].sql(dialect='bigquery')} is outside any query scope")
    return list(real.values())


@lru_cache(maxsize=1)
def _real_table_names() -> frozenset[str]:
    """Every table the warehouse DDL declares (a CTE may not take any of these names)."""
    return frozenset(name.lower() for name in sqlfiles.table_names())


def _limit(tree: exp.Expression, row_limit: int) -> exp.Expression:
    """Cap the outermost query's LIMIT (adding one when missing)."""
    if isinstance(tree, exp.SetOperation):
        # a LIMIT on a set operation is wrapped so it applies to the whole result
        return exp.select("*").from_(exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier("q")))) \
            .limit(row_limit)
    assert isinstance(tree, exp.Select)
    current = tree.args.get("limit")
    if current is not None:
        value = current.expression
        if not (isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit()):
            raise UnsafeQuery("LIMIT must be a whole number")
        if int(value.this) <= row_limit:
            return tree
    return tree.limit(row_limit)
