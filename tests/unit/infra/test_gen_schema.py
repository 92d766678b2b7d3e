"""infra/gen_schema.py: BigQuery DDL -> BigQuery JSON schema, partitioning and clustering."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schema", REPO / "infra" / "gen_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_schema", module)
    spec.loader.exec_module(module)
    return module


def test_columns_modes_types_and_comments(gen: ModuleType) -> None:
    spec = gen.table_spec(
        "t",
        """
        -- grain: one row per thing
        CREATE TABLE IF NOT EXISTS t (
          id STRING NOT NULL,          -- the thing's id
          n INT64,
          x FLOAT64,
          ok BOOL NOT NULL,
          amount NUMERIC(12, 2),
          code STRING(3),
          tags ARRAY<STRING>,
          place STRUCT<country STRING, lat FLOAT64>,
          at TIMESTAMP,
          dt DATETIME
        )
        PARTITION BY DATE(at)
        CLUSTER BY id, code
    """,
    )
    assert spec.description == "grain: one row per thing"
    assert spec.fields == [
        {"name": "id", "type": "STRING", "mode": "REQUIRED", "description": "the thing's id"},
        {"name": "n", "type": "INTEGER", "mode": "NULLABLE"},
        {"name": "x", "type": "FLOAT", "mode": "NULLABLE"},
        {"name": "ok", "type": "BOOLEAN", "mode": "REQUIRED"},
        {"name": "amount", "type": "NUMERIC", "precision": "12", "scale": "2", "mode": "NULLABLE"},
        {"name": "code", "type": "STRING", "maxLength": "3", "mode": "NULLABLE"},
        {"name": "tags", "type": "STRING", "mode": "REPEATED"},
        {
            "name": "place",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [
                {"name": "country", "type": "STRING", "mode": "NULLABLE"},
                {"name": "lat", "type": "FLOAT", "mode": "NULLABLE"},
            ],
        },
        {"name": "at", "type": "TIMESTAMP", "mode": "NULLABLE"},
        {"name": "dt", "type": "DATETIME", "mode": "NULLABLE"},
    ]
    assert (spec.partition_field, spec.partition_type, spec.clustering) == ("at", "DAY", ["id", "code"])


@pytest.mark.parametrize(
    ("partition", "column_type", "expected"),
    [
        ("d", "DATE", ("d", "DAY")),
        ("DATE(d)", "TIMESTAMP", ("d", "DAY")),
        ("TIMESTAMP_TRUNC(d, HOUR)", "TIMESTAMP", ("d", "HOUR")),
        ("DATE_TRUNC(d, MONTH)", "DATE", ("d", "MONTH")),
        ("DATETIME_TRUNC(d, YEAR)", "DATETIME", ("d", "YEAR")),
    ],
)
def test_time_unit_partitioning(
    gen: ModuleType, partition: str, column_type: str, expected: tuple[str, str]
) -> None:
    spec = gen.table_spec("t", f"CREATE TABLE t (d {column_type}) PARTITION BY {partition}")
    assert (spec.partition_field, spec.partition_type) == expected


def test_unpartitioned_table_has_no_partition(gen: ModuleType) -> None:
    spec = gen.table_spec("t", "CREATE TABLE t (a STRING)")
    assert spec.index_entry() == {
        "description": "",
        "partition_field": None,
        "partition_type": None,
        "clustering": [],
    }


@pytest.mark.parametrize(
    ("ddl", "message"),
    [
        ("CREATE TABLE t (a TIMESTAMP) PARTITION BY a", "must be a DATE"),
        ("CREATE TABLE t (a INT64) PARTITION BY RANGE_BUCKET(a, GENERATE_ARRAY(0, 10, 1))", "time-unit"),
        ("CREATE TABLE t (a STRING) CLUSTER BY b", "unknown columns ['b']"),
        (
            "CREATE TABLE t (a STRING, b STRING, c STRING, d STRING, e STRING) CLUSTER BY a, b, c, d, e",
            "at most 4",
        ),
        ("CREATE TABLE t (a ARRAY<STRING> NOT NULL)", "cannot be NOT NULL"),
        ("SELECT 1", "exactly one CREATE TABLE"),
    ],
)
def test_what_bigquery_cannot_express_is_refused_with_the_reason(
    gen: ModuleType, ddl: str, message: str
) -> None:
    with pytest.raises(gen.SchemaError) as err:
        gen.table_spec("t", ddl)
    assert message in str(err.value)


def test_every_project_ddl_file_converts(gen: ModuleType) -> None:
    from tower.sql import schema_files

    rendered = gen.render(schema_files())
    assert {p.stem for p in rendered if p.parent.name == "schema"} == {p.stem for p in schema_files()}
