"""Generate the BigQuery table definitions Terraform deploys from the project's DDL files.

The DDL in ``shared/tower/sql/schema/*.sql`` is the data contract; Terraform cannot read SQL, so this
script parses each file with sqlglot (BigQuery dialect) and writes, under ``infra/modules/bigquery/``:

* ``schema/<table>.json``: the columns in BigQuery's JSON schema format (what ``bq show --schema``
  prints: name, type, mode, description from the column's trailing ``--`` comment);
* ``tables.json``: per table its description (the DDL's ``-- grain:`` line), day/hour/month/year
  partitioning (field and type from ``PARTITION BY``) and clustering (``CLUSTER BY``).

Usage: ``.venv/bin/python infra/gen_schema.py`` (write) or ``... --check`` (exit 1 when the committed
files differ from the DDL). ``tests/unit/infra/test_terraform.py`` runs the same comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

INFRA_DIR = Path(__file__).resolve().parent
BIGQUERY_MODULE = INFRA_DIR / "modules" / "bigquery"
SCHEMA_OUT = BIGQUERY_MODULE / "schema"
TABLES_OUT = BIGQUERY_MODULE / "tables.json"

# Type names as the BigQuery API returns them in a table's schema, so a plan after apply shows no diff
# (the API answers INTEGER / FLOAT / BOOLEAN / RECORD even for tables created as INT64 / FLOAT64 / BOOL).
_TYPES = {
    "STRING": "STRING",
    "BYTES": "BYTES",
    "INT64": "INTEGER",
    "FLOAT64": "FLOAT",
    "NUMERIC": "NUMERIC",
    "BIGNUMERIC": "BIGNUMERIC",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "DATETIME": "DATETIME",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
    "GEOGRAPHY": "GEOGRAPHY",
    "JSON": "JSON",
    "INTERVAL": "INTERVAL",
}
# Parameterised types carry their parameters as these JSON schema keys.
_PARAM_KEYS = {
    "NUMERIC": ("precision", "scale"),
    "BIGNUMERIC": ("precision", "scale"),
    "STRING": ("maxLength",),
    "BYTES": ("maxLength",),
}
_TRUNC_UNITS = {"DAY", "HOUR", "MONTH", "YEAR"}
_MAX_CLUSTERING = 4  # BigQuery allows at most four clustering columns


class SchemaError(ValueError):
    """A DDL file uses something BigQuery's JSON schema or Terraform's table resource cannot express."""


@dataclass
class TableSpec:
    """One table as Terraform declares it."""

    name: str
    description: str
    fields: list[dict[str, Any]]
    partition_field: str | None = None
    partition_type: str | None = None
    clustering: list[str] = field(default_factory=list)

    def index_entry(self) -> dict[str, Any]:
        """The table's entry in ``tables.json``: every key present so Terraform sees one shape."""
        return {
            "description": self.description,
            "partition_field": self.partition_field,
            "partition_type": self.partition_type,
            "clustering": self.clustering,
        }


def _comment_text(comments: list[str] | None) -> str:
    return " ".join(c.strip() for c in comments or [] if c.strip())


def _type_of(dtype: exp.DataType, where: str) -> dict[str, Any]:
    """The JSON schema type keys (type, and fields / precision / maxLength where they apply)."""
    if dtype.this == exp.DataType.Type.ARRAY:
        raise SchemaError(f"{where}: ARRAY is only allowed as a column's top-level type (REPEATED mode)")
    if dtype.this == exp.DataType.Type.STRUCT:
        return {"type": "RECORD", "fields": [_struct_field(f, where) for f in dtype.expressions]}
    base = exp.DataType(this=dtype.this).sql("bigquery")
    if base not in _TYPES:
        raise SchemaError(f"{where}: type {dtype.sql('bigquery')} has no BigQuery JSON schema equivalent")
    out: dict[str, Any] = {"type": _TYPES[base]}
    params = [p.sql("bigquery") for p in dtype.expressions]
    if params:
        keys = _PARAM_KEYS.get(base)
        if keys is None or len(params) > len(keys):
            raise SchemaError(f"{where}: {dtype.sql('bigquery')} takes no such parameters")
        out.update(zip(keys, params))
    return out


def _struct_field(node: exp.Expression, where: str) -> dict[str, Any]:
    if not isinstance(node, exp.ColumnDef) or not isinstance(node.args.get("kind"), exp.DataType):
        raise SchemaError(f"{where}: cannot read STRUCT member {node.sql('bigquery')}")
    return _field(node.name, node.args["kind"], required=False, description="", where=f"{where}.{node.name}")


def _field(name: str, dtype: exp.DataType, *, required: bool, description: str, where: str) -> dict[str, Any]:
    if dtype.this == exp.DataType.Type.ARRAY:
        if required:
            raise SchemaError(f"{where}: an ARRAY column cannot be NOT NULL in BigQuery")
        out = {"name": name, **_type_of(dtype.expressions[0], where), "mode": "REPEATED"}
    else:
        out = {"name": name, **_type_of(dtype, where), "mode": "REQUIRED" if required else "NULLABLE"}
    if description:
        out["description"] = description
    # Key order as BigQuery prints it: name, type, (precision, scale, maxLength), mode, description, fields.
    fields = out.pop("fields", None)
    if fields is not None:
        out["fields"] = fields
    return out


def _partitioning(node: exp.Expression, columns: dict[str, str], table: str) -> tuple[str, str]:
    """(field, type) of ``PARTITION BY col``, ``DATE(col)`` or ``DATE/TIMESTAMP/DATETIME_TRUNC(col, U)``."""
    where = f"{table}: PARTITION BY {node.sql('bigquery')}"
    if isinstance(node, (exp.Column, exp.Identifier)):
        if columns.get(node.name) != "DATE":
            raise SchemaError(
                f"{where}: a bare partition column must be a DATE (use DATE(col) for a TIMESTAMP)"
            )
        return node.name, "DAY"
    if isinstance(node, (exp.Date, exp.TsOrDsToDate, exp.Cast)) and isinstance(node.this, exp.Column):
        if isinstance(node, exp.Cast) and node.to.this != exp.DataType.Type.DATE:
            raise SchemaError(f"{where}: only a cast to DATE partitions by day")
        return node.this.name, "DAY"
    if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc, exp.DatetimeTrunc)):
        column = node.this if isinstance(node.this, exp.Column) else None
        unit = node.args.get("unit")
        unit_name = (
            unit.name if isinstance(unit, (exp.Var, exp.Literal, exp.Column, exp.Identifier)) else ""
        ).upper()
        if column is None or unit_name not in _TRUNC_UNITS:
            raise SchemaError(f"{where}: truncation must be of a column to DAY, HOUR, MONTH or YEAR")
        return column.name, unit_name
    raise SchemaError(f"{where}: only time-unit column partitioning is supported")


def table_spec(name: str, ddl: str) -> TableSpec:
    """Parse one ``CREATE TABLE`` statement (BigQuery dialect) into the table Terraform declares."""
    statements = [s for s in sqlglot.parse(ddl, read="bigquery") if s is not None]
    if len(statements) != 1 or not isinstance(statements[0], exp.Create) or statements[0].kind != "TABLE":
        raise SchemaError(f"{name}: expected exactly one CREATE TABLE statement")
    create = statements[0]
    schema = create.this
    if not isinstance(schema, exp.Schema):
        raise SchemaError(f"{name}: CREATE TABLE without a column list")
    fields: list[dict[str, Any]] = []
    column_types: dict[str, str] = {}
    for col in schema.expressions:
        if not isinstance(col, exp.ColumnDef) or not isinstance(col.args.get("kind"), exp.DataType):
            raise SchemaError(f"{name}: cannot read column definition {col.sql('bigquery')}")
        required = any(isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) for c in col.constraints)
        spec = _field(
            col.name,
            col.args["kind"],
            required=required,
            description=_comment_text(col.comments),
            where=f"{name}.{col.name}",
        )
        fields.append(spec)
        column_types[col.name] = spec["type"]
    description = _comment_text(create.comments)
    out = TableSpec(name=name, description=description, fields=fields)
    props = create.args.get("properties")
    for prop in props.expressions if props else []:
        if isinstance(prop, exp.PartitionedByProperty):
            out.partition_field, out.partition_type = _partitioning(prop.this, column_types, name)
        elif isinstance(prop, exp.ClusterProperty):
            out.clustering = [c.name for c in prop.expressions]
    if len(out.clustering) > _MAX_CLUSTERING:
        raise SchemaError(f"{name}: BigQuery clusters by at most {_MAX_CLUSTERING} columns")
    unknown = [c for c in out.clustering + [out.partition_field or ""] if c and c not in column_types]
    if unknown:
        raise SchemaError(f"{name}: PARTITION BY / CLUSTER BY name unknown columns {unknown}")
    return out


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render(ddl_files: list[Path]) -> dict[Path, str]:
    """Every generated file (absolute path → text) for the given DDL files."""
    specs = [table_spec(p.stem, p.read_text()) for p in sorted(ddl_files)]
    out = {SCHEMA_OUT / f"{s.name}.json": _dump(s.fields) for s in specs}
    out[TABLES_OUT] = _dump({s.name: s.index_entry() for s in specs})
    return out


def drift(ddl_files: list[Path]) -> list[str]:
    """What differs between the committed files and the DDL (empty when they agree)."""
    expected = render(ddl_files)
    problems = [
        f"{p.relative_to(INFRA_DIR)} is out of date"
        for p, text in expected.items()
        if not p.exists() or p.read_text() != text
    ]
    problems += [
        f"{p.relative_to(INFRA_DIR)} has no DDL file"
        for p in sorted(SCHEMA_OUT.glob("*.json"))
        if p not in expected
    ]
    return problems


def _ddl_files() -> list[Path]:
    from tower.sql import schema_files

    return schema_files()


def main(argv: list[str] | None = None) -> int:
    """Write the generated files, or with ``--check`` report drift (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed files are stale")
    args = parser.parse_args(argv)
    try:
        files = _ddl_files()
        if args.check:
            problems = drift(files)
            for p in problems:
                print(f"gen_schema: {p}; run .venv/bin/python infra/gen_schema.py", file=sys.stderr)
            return 1 if problems else 0
        expected = render(files)
    except SchemaError as e:
        print(f"gen_schema: {e}", file=sys.stderr)
        return 2
    SCHEMA_OUT.mkdir(parents=True, exist_ok=True)
    for stale in SCHEMA_OUT.glob("*.json"):
        if stale not in expected:
            stale.unlink()
    for path, text in expected.items():
        path.write_text(text)
    print(f"gen_schema: wrote {len(expected) - 1} table schemas and {TABLES_OUT.relative_to(INFRA_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
