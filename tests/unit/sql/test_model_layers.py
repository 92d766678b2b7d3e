"""The models keep dbt's layers: staging reads one source and only renames and casts it, sources are read by
staging only, and every model file has its grain YAML beside it (and every YAML a model).

Structural checks on the SQL and the files; that the declared grains hold is tested on the synthetic world in
tests/unit/analytics/test_model_grains.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from sqlglot import exp

from tower import sql as sqlfiles
from tower.analytics import models as registry

MODELS = registry.model_names()
STAGING = [m for m in MODELS if registry.layer(m) == "staging"]
SOURCES = set(sqlfiles.table_names()) - set(registry.MARTS)
NAME_PATTERNS = {
    "staging": re.compile(r"^stg_[a-z]+__[a-z_]+$"),
    "intermediate": re.compile(r"^int_[a-z_]+__[a-z_]+$"),
    "marts": re.compile(r"^[a-z][a-z_]*$"),
}


def _spec(name: str) -> dict[str, Any]:
    return yaml.safe_load(registry.spec_path(name).read_text())


def test_every_model_file_has_a_grain_yaml_and_every_yaml_a_model() -> None:
    sql_files = {p.relative_to(sqlfiles.MODELS_DIR).with_suffix("") for p in sqlfiles.MODELS_DIR.rglob("*.sql")}
    yml_files = {p.relative_to(sqlfiles.MODELS_DIR).with_suffix("") for p in sqlfiles.MODELS_DIR.rglob("*.yml")}
    assert sorted(map(str, sql_files - yml_files)) == [], "model files without a grain YAML"
    assert sorted(map(str, yml_files - sql_files)) == [], "grain YAMLs without a model file"
    stray = sorted(str(p) for p in sql_files if p.parent.name not in registry.LAYERS or len(p.parts) != 2)
    assert stray == [], f"model files outside models/{{{','.join(registry.LAYERS)}}}/"


@pytest.mark.parametrize("name", MODELS)
def test_the_grain_yaml_says_what_a_row_is_and_which_columns_tell_rows_apart(name: str) -> None:
    spec = _spec(name)
    assert set(spec) == {"description", "grain", "not_null"}, name
    assert isinstance(spec["description"], str) and spec["description"].strip()
    assert spec["grain"] and all(isinstance(c, str) for c in spec["grain"])
    assert isinstance(spec["not_null"], list) and all(isinstance(c, str) for c in spec["not_null"])
    assert len(set(spec["grain"])) == len(spec["grain"]) and len(set(spec["not_null"])) == len(spec["not_null"])
    assert NAME_PATTERNS[registry.layer(name)].match(name), f"{name} is not named like a {registry.layer(name)} model"


@pytest.mark.parametrize("name", list(registry.MARTS))
def test_a_marts_grain_holds_its_ddl_columns_and_names_the_brand(name: str) -> None:
    spec = _spec(name)
    columns = registry.output_columns(name)
    assert spec["grain"][0] == "brand_id", "a mart table holds every brand"
    assert set(spec["grain"]) | set(spec["not_null"]) <= set(columns)
    (tree,) = sqlfiles.parse_bigquery(sqlfiles.load(f"schema/{name}.sql"))
    ddl_not_null = {
        col.name for col in tree.this.expressions
        if isinstance(col, exp.ColumnDef)
        and any(isinstance(c.kind, exp.NotNullColumnConstraint) for c in col.constraints)
    }
    assert ddl_not_null <= set(spec["not_null"]), "the YAML lists every NOT NULL column of the DDL"


def test_every_mart_of_the_registry_has_its_model_in_marts() -> None:
    assert sorted(registry.MARTS) == sorted(m for m in MODELS if registry.layer(m) == "marts")


@pytest.mark.parametrize("name", STAGING)
def test_staging_reads_one_source_and_only_renames_and_casts_it(name: str) -> None:
    (tree,) = sqlfiles.parse_bigquery(registry.model_sql(name))
    assert isinstance(tree, exp.Select)
    (source,) = registry.referenced_tables(name)
    assert source in SOURCES, f"{name} reads {source}, not a source table"
    doing_more = [
        type(node).__name__
        for kind in (exp.Join, exp.Group, exp.Window, exp.AggFunc, exp.Distinct, exp.CTE, exp.Subquery, exp.Union)
        for node in tree.find_all(kind)
    ]
    assert doing_more == [], f"{name} does more than rename and cast: {doing_more}"


@pytest.mark.parametrize("name", [m for m in MODELS if registry.layer(m) != "staging"])
def test_sources_are_read_through_staging_only(name: str) -> None:
    assert sorted(registry.referenced_tables(name) & SOURCES) == []
    assert registry.referenced_tables(name) <= set(MODELS), "reads only models"
