"""SQL lives here, written once in BigQuery dialect: ``schema/`` (DDL), ``models/`` (``staging/``,
``intermediate/`` and ``marts/``, one model a file beside its grain YAML; see :mod:`tower.analytics.models`)
and ``queries/`` (the reads of the decisions, Q&A and ops code).

The DuckDB adapter runs it through :func:`to_duckdb`, which transpiles with sqlglot once per
statement and caches the result. sqlglot's work lives in :mod:`tower.sql.dialect`, loaded by the
first call that needs it: reading a file's text (:func:`load`) does not.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

SQL_DIR = Path(__file__).parent
SCHEMA_DIR = SQL_DIR / "schema"
MODELS_DIR = SQL_DIR / "models"


def schema_files() -> list[Path]:
    """Every DDL file, in name order."""
    return sorted(SCHEMA_DIR.glob("*.sql"))


def table_names() -> list[str]:
    """The tables the DDL declares (file stem = table name)."""
    return [p.stem for p in schema_files()]


@lru_cache(maxsize=256)
def load(relative: str) -> str:
    """The text of a .sql file under tower/sql, e.g. ``models/days_of_cover.sql``."""
    return (SQL_DIR / relative).read_text()


def arrow_schema(table: str, *, not_null: bool = True) -> pa.Schema:
    """The Arrow schema of a warehouse table from its DDL (:func:`tower.sql.dialect.arrow_schema`)."""
    from tower.sql import dialect  # lazy: sqlglot, which reading SQL files does not need

    return dialect.arrow_schema(table, not_null=not_null)


def parse_bigquery(sql: str) -> list[exp.Expr]:
    """Parse BigQuery-dialect SQL (raises sqlglot.ParseError on anything BigQuery would reject)."""
    from tower.sql import dialect  # lazy: sqlglot, which reading SQL files does not need

    return dialect.parse_bigquery(sql)


def to_duckdb(sql: str) -> tuple[str, ...]:
    """BigQuery SQL as DuckDB statements, cached per text (:func:`tower.sql.dialect.to_duckdb`)."""
    from tower.sql import dialect  # lazy: sqlglot, which reading SQL files does not need

    return dialect.to_duckdb(sql)
