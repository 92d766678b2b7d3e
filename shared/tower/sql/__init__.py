"""SQL lives here, written once in BigQuery dialect: ``schema/`` (DDL), ``models/`` (``staging/``,
``intermediate/`` and ``marts/``, one model a file beside its grain YAML; see :mod:`tower.analytics.models`)
and ``queries/`` (the reads of the decisions, Q&A and ops code).

The DuckDB adapter runs it through :func:`to_duckdb`, which transpiles with sqlglot once per
statement and caches the result. sqlglot's work lives in :mod:`tower.sql.dialect`, loaded by the
first call that needs it: reading a file's text (:func:`load`) does not.
"""

from __future__ import annotations

import re
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


# The shared rules under ``rules/`` a reader names as a table (see :func:`load`): rule name -> the reader's CTE
# that is its input. window_spend: spend per product over the reader's window (rules/window_spend.sql).
RULES = {"window_spend": "window_rows"}
# The source tables a rule reads, as a model reads them: through their staging model (models never read
# sources directly; queries read the tables).
_STAGED_IN_MODELS = {"ad_campaign_products": "stg_ads__campaign_products"}
_RULE_OUTPUT = "\nSELECT * FROM {name}"


@lru_cache(maxsize=256)
def load(relative: str) -> str:
    """The text of a .sql file under tower/sql, e.g. ``models/days_of_cover.sql``, its shared rules spliced in.

    A reader that selects from a rule of :data:`RULES` (``window_spend``) defines the rule's input CTE
    (``window_rows``); the rule file's CTEs are inserted right after that CTE, so the rule is written once and
    every reader computes it the same way over its own rows (a macro, in the two dialects' common SQL).
    """
    text = (SQL_DIR / relative).read_text()
    if not relative.startswith("rules/"):
        for name, input_cte in RULES.items():
            text = _splice_rule(text, name, input_cte, relative)
    return text


def _splice_rule(text: str, name: str, input_cte: str, relative: str) -> str:
    """``text`` with the CTEs of ``rules/<name>.sql`` after its ``input_cte`` CTE, when it reads ``name``."""
    if not re.search(rf"\b(FROM|JOIN)\s+{name}\b", text) or re.search(rf"\b{name}\s+AS\s*\(", text):
        return text
    head = re.search(rf"\b{input_cte}\s+AS\s*\(", text)
    if head is None:
        raise ValueError(f"{relative} reads {name} but defines no {input_cte} CTE for it (rules/{name}.sql)")
    depth, end = 1, head.end()
    while depth:  # the input CTE's closing bracket (brackets in its comments and strings must pair up)
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        end += 1
    rule = load(f"rules/{name}.sql").rstrip()
    first = re.search(r"^WITH\s", rule, re.MULTILINE)
    if first is None or not rule.endswith(_RULE_OUTPUT.format(name=name)):
        raise ValueError(f"rules/{name}.sql must be WITH ... {_RULE_OUTPUT.format(name=name).strip()}")
    ctes = rule[first.end():-len(_RULE_OUTPUT.format(name=name))]
    if relative.startswith("models/"):
        for source, staged in _STAGED_IN_MODELS.items():
            ctes = re.sub(rf"\bFROM {source}\b", f"FROM {staged}", ctes)
    return f"{text[:end]},\n\n{ctes.strip()}{text[end:]}"


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
