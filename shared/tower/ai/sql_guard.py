"""The guard on model-written SQL: one read-only SELECT over the analytics tables, always one brand's.

A query Claude writes for ``run_select`` is parsed with sqlglot (BigQuery dialect) and accepted only if

* it is exactly one statement, and that statement is a SELECT (or a UNION / INTERSECT / EXCEPT of
  SELECTs) — no DDL, DML, scripting, ``SELECT … INTO``, EXPORT, COPY, PRAGMA, SET, CALL …;
* every table it reads is one of the allowed analytics tables (or a CTE of its own), unqualified
  (no other project or dataset, no INFORMATION_SCHEMA), with no time travel (``FOR SYSTEM_TIME``);
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

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

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


class UnsafeQuery(ValueError):
    """The SQL is refused; the message says why (it goes back to the model as a tool error)."""


def guard_select(sql: str, *, row_limit: int, allowed_tables: frozenset[str] = ALLOWED_TABLES) -> str:
    """Check a model-written query and rewrite it to read only ``@brand_id``'s rows.

    Args:
        sql: The query (BigQuery dialect).
        row_limit: The largest LIMIT the outermost query may have.
        allowed_tables: Tables it may read.

    Returns:
        The rewritten query (BigQuery dialect), with ``@brand_id`` to bind.

    Raises:
        UnsafeQuery: Anything but one safe SELECT over the allowed tables.
    """
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

    cte_names = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    shadowing = sorted(cte_names & allowed_tables)
    if shadowing:
        raise UnsafeQuery(f"a CTE may not be named like a table: {', '.join(shadowing)}")

    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            raise UnsafeQuery(f"table functions are not allowed: {table.sql(dialect='bigquery')}")
        name = table.name.lower()
        if table.args.get("db") or table.args.get("catalog"):
            raise UnsafeQuery(f"qualified table names are not allowed: {table.sql(dialect='bigquery')}")
        extra = [k for k, v in table.args.items() if v and k not in ("this", "alias")]
        if extra:
            raise UnsafeQuery(f"table modifiers are not allowed on {name}: {', '.join(sorted(extra))}")
        if name in cte_names:
            continue
        if name not in allowed_tables:
            raise UnsafeQuery(f"table {name} is not readable; allowed: {', '.join(sorted(allowed_tables))}")
        alias = table.alias or name
        filtered = exp.select("*").from_(exp.to_table(name)).where(
            exp.EQ(this=exp.column("brand_id"), expression=exp.Parameter(this=exp.var("brand_id")))
        )
        table.replace(exp.Subquery(this=filtered, alias=exp.TableAlias(this=exp.to_identifier(alias))))

    return _limit(tree, row_limit).sql(dialect="bigquery")


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
