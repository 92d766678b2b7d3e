"""Every model is BigQuery SQL, and every read of a date-partitioned table is bounded on its partition column.

The proof is structural (sqlglot ASTs), so it holds for BigQuery without running there: for each reference to a
partitioned table, the SELECT that reads it (its WHERE, or the ON of its JOIN) must compare that table's
partition column with expressions of parameters and constants only, as an equality or as a lower and an upper
bound. BigQuery prunes partitions on exactly such predicates, so a build scans only its window.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from tower import sql as sqlfiles
from tower.analytics import models as registry
from tower.analytics import runner, snapshots

MODELS = registry.model_names()
MARTS = list(registry.MARTS)


def _partitioned_tables() -> dict[str, str]:
    """Table → partition column, read from the DDL files."""
    out = {}
    for path in sqlfiles.schema_files():
        (tree,) = sqlfiles.parse_bigquery(path.read_text())
        part = tree.find(exp.PartitionedByProperty)
        if part is not None:
            (col,) = list(part.find_all(exp.Column)) or [None]
            out[path.stem] = col.name if col is not None else part.this.name
    return out


PARTITIONED = _partitioned_tables()


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    node = node.unnest()
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _is_constant(node: exp.Expression) -> bool:
    """Parameters, literals and functions of them only: no column of any table."""
    return not any(True for _ in node.find_all(exp.Column))


def _on_column(node: exp.Expression, alias: str, column: str, only_table: bool) -> bool:
    if not isinstance(node, exp.Column) or node.name != column:
        return False
    return node.table == alias or (not node.table and only_table)


def _bounds(select: exp.Select, table: exp.Table, column: str) -> set[str]:
    """Which bounds ('eq', 'lo', 'hi') the SELECT puts on table.column with constant expressions."""
    alias = table.alias_or_name
    sources = [select.args.get("from_") or select.args.get("from")] + list(select.args.get("joins") or [])
    only_table = sum(1 for s in sources if s is not None for _ in s.find_all(exp.Table)) == 1
    predicates = _conjuncts(select.args["where"].this if select.args.get("where") else None)
    join = table.parent if isinstance(table.parent, exp.Join) else None
    if join is not None:
        predicates += _conjuncts(join.args.get("on"))
    found: set[str] = set()
    for p in predicates:
        if isinstance(p, exp.Between) and _on_column(p.this, alias, column, only_table):
            if _is_constant(p.args["low"]) and _is_constant(p.args["high"]):
                found |= {"lo", "hi"}
        elif isinstance(p, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
            left, right = p.this, p.expression
            if _on_column(right, alias, column, only_table) and _is_constant(left):
                left, right = right, left
                p = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}.get(type(p), type(p))(
                    this=left, expression=right)
            if _on_column(left, alias, column, only_table) and _is_constant(right):
                found.add({exp.EQ: "eq", exp.GT: "lo", exp.GTE: "lo", exp.LT: "hi", exp.LTE: "hi"}[type(p)])
    return found


def unbounded_reads(sql: str) -> list[str]:
    """Every read of a partitioned table that is not bounded on its partition column (empty = all good)."""
    problems = []
    for tree in sqlfiles.parse_bigquery(sql):
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            column = PARTITIONED.get(table.name)
            if column is None or table.name in ctes:
                continue
            select = table.find_ancestor(exp.Select)
            if isinstance(tree, (exp.Delete, exp.Insert)) and select is None:
                continue  # the runner's own DELETE / INSERT target; checked below
            bounds = _bounds(select, table, column) if select is not None else set()
            if not ("eq" in bounds or {"lo", "hi"} <= bounds):
                problems.append(f"{table.name} AS {table.alias_or_name}: bounds on {column}: {sorted(bounds)}")
    return problems


@pytest.mark.parametrize("name", MODELS)
def test_every_model_parses_and_regenerates_as_bigquery(name: str) -> None:
    text = registry.model_sql(name)
    (tree,) = sqlfiles.parse_bigquery(text)
    assert isinstance(tree, (exp.Select, exp.Union))
    tree.sql(dialect="bigquery", unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert sqlfiles.to_duckdb(text)


@pytest.mark.parametrize("name", MODELS)
def test_every_read_of_a_partitioned_table_is_bounded(name: str) -> None:
    assert unbounded_reads(registry.model_sql(name)) == []


@pytest.mark.parametrize("name", MARTS)
def test_the_build_statement_is_one_bigquery_script_bounded_everywhere(name: str) -> None:
    script = registry.build_script(registry.MARTS[name])
    trees = sqlfiles.parse_bigquery(script)
    kinds = [type(t).__name__ for t in trees]
    assert kinds[0] == "Transaction" and kinds[-1] == "Commit" and "Delete" in kinds and "Insert" in kinds
    assert unbounded_reads(script) == []
    delete = next(t for t in trees if isinstance(t, exp.Delete))
    conds = {c.sql(dialect="bigquery") for c in _conjuncts(delete.args["where"].this)}
    column = registry.MARTS[name].date_column
    assert {f"{column} >= @target_start", f"{column} < @target_end", "brand_id = @brand_id"} <= conds


@pytest.mark.parametrize(
    ("name", "sql"),
    [("input_fingerprint", runner.INPUT_FINGERPRINT_SQL)]
    + [(f"snapshots.{k}", v) for k, v in snapshots.QUERIES.items()],
)
def test_the_runners_and_readers_queries_are_bounded_too(name: str, sql: str) -> None:
    sqlfiles.parse_bigquery(sql)
    assert unbounded_reads(sql) == []


def test_the_checker_catches_an_unbounded_read() -> None:
    assert unbounded_reads("SELECT * FROM orders WHERE brand_id = @b")
    assert unbounded_reads("SELECT * FROM orders WHERE order_date >= @start")  # a lower bound alone
    assert unbounded_reads("SELECT * FROM orders AS o WHERE o.order_date >= o.processed_at AND o.order_date < @e")
    assert unbounded_reads(
        "SELECT * FROM ad_performance AS a JOIN orders AS o ON o.order_id = a.campaign_id "
        "WHERE a.stat_date = @d")  # the join's table is unbounded
    assert not unbounded_reads("SELECT * FROM orders WHERE order_date BETWEEN @a AND @b")
    assert not unbounded_reads("SELECT * FROM fx_rates WHERE @d = rate_date")


@pytest.mark.parametrize("name", MARTS)
def test_each_mart_selects_exactly_its_ddl_columns(name: str) -> None:
    (tree,) = sqlfiles.parse_bigquery(registry.model_sql(name))
    selects = [s for s in tree.find_all(exp.Select) if s.parent is tree or s is tree
               or isinstance(s.parent, exp.Union) and s.parent.parent is None]
    columns = registry.output_columns(name)
    for select in selects or [tree]:
        assert tuple(select.named_selects) == columns


@pytest.mark.parametrize("name", MARTS)
def test_mart_tables_are_partitioned_by_date_and_clustered_by_brand(name: str) -> None:
    (tree,) = sqlfiles.parse_bigquery(sqlfiles.load(f"schema/{name}.sql"))
    assert PARTITIONED[name] == registry.MARTS[name].date_column
    cluster = tree.find(exp.ClusterProperty)
    assert cluster is not None and cluster.expressions[0].name == "brand_id"


# Staging models whose money is still in the currency of its source (an ad account, an order, a variant).
FOREIGN_MONEY = {
    "stg_ads__performance": ("spend_amount", "purchase_value_amount"),
    "stg_shopify__orders": ("net_revenue_amount",),
    "stg_shopify__variants": ("unit_cost_amount",),
}


def test_money_is_converted_to_the_store_currency_where_it_is_first_read() -> None:
    """Staging keeps each amount in its source's currency; every model that reads one of those amounts
    multiplies it by the day's rate to the store currency right there, so no model sums raw foreign money.
    (Line prices and discounts only make within-order shares, a ratio of one currency.)"""
    converted = 0
    for name in MODELS:
        if registry.layer(name) == "staging":
            continue
        (tree,) = sqlfiles.parse_bigquery(registry.model_sql(name))
        for select in tree.find_all(exp.Select):
            sources = [select.args.get("from_") or select.args.get("from")] + list(select.args.get("joins") or [])
            aliases = {t.alias_or_name: t.name for s in sources if s is not None for t in s.find_all(exp.Table)}
            only = next(iter(aliases.values())) if len(aliases) == 1 else None
            for column in select.find_all(exp.Column):
                table = aliases.get(column.table) if column.table else only
                if column.name in FOREIGN_MONEY.get(table or "", ()) and column.find_ancestor(exp.Select) is select:
                    product = column.find_ancestor(exp.Mul)
                    assert product is not None and "rate_to_store" in product.sql(), (name, column.sql())
                    converted += 1
    assert converted >= 4
