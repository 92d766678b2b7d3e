"""Every model's declared grain holds on the synthetic world: one generic unique + not-null test, as dbt runs.

Each model's YAML (beside its SQL) names the columns that tell its rows apart (``grain``) and the columns that are
never NULL (``not_null``). Marts are checked in the tables the build wrote; staging and intermediate models, which
are never stored, are run on their own (inlined with what they read, as the runner does) for each brand with
the build's parameters. A model with no rows on the world would prove nothing, so that fails too.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tower.analytics import models as registry
from tower.analytics.parameters import ModelParameters
from tower.config import Settings
from tower.ports import Warehouse

MODELS = registry.model_names()


def _spec(name: str) -> dict[str, Any]:
    return yaml.safe_load(registry.spec_path(name).read_text())


def grain_report(
    warehouse: Warehouse, source_sql: str, params: dict[str, Any], grain: list[str], not_null: list[str]
) -> dict[str, int]:
    """Rows, grain keys held by more than one row, and NULLs per not-null column, of one SELECT's output."""
    keys = ", ".join(grain)
    nulls = "".join(f", (SELECT COUNTIF({c} IS NULL) FROM m) AS null__{c}" for c in not_null)
    sql = (
        f"WITH m AS (SELECT * FROM ({source_sql}))\n"
        "SELECT (SELECT COUNT(*) FROM m) AS rows_,\n"
        f"  (SELECT COUNT(*) FROM (SELECT {keys} FROM m GROUP BY {keys} HAVING COUNT(*) > 1)) AS duplicate_keys"
        f"{nulls}"
    )
    (row,) = warehouse.rows(sql, params)
    return {k: int(v) for k, v in row.items()}


def _model_source(name: str, brand_id: str, result: Any) -> tuple[str, dict[str, Any]]:
    """The SELECT that yields a model's rows for one brand's build, and its parameters."""
    if not registry.is_ephemeral(name):
        return f"SELECT * FROM {name} WHERE brand_id = @brand_id", {"brand_id": brand_id}
    params = ModelParameters.for_brand(Settings(), brand_id).sql_params(
        brand_id, result.window_start, result.window_end, result.as_of_date
    )
    return registry.compose(name), params


@pytest.mark.parametrize("name", MODELS)
def test_the_declared_grain_is_unique_and_not_null_columns_hold_no_nulls(small_world, name: str) -> None:
    spec = _spec(name)
    rows = 0
    for brand_id, result in small_world.results.items():
        sql, params = _model_source(name, brand_id, result)
        report = grain_report(small_world.warehouse, sql, params, spec["grain"], spec["not_null"])
        rows += report.pop("rows_")
        assert report == dict.fromkeys(report, 0), (brand_id, name, report)
    assert rows > 0, f"{name} has no rows on the world, so its grain is untested"


def test_the_check_catches_a_grain_that_does_not_hold(small_world) -> None:
    brand_id, result = next(iter(small_world.results.items()))
    sql, params = _model_source("attributed_orders", brand_id, result)
    # linear credits spread an order over several campaigns; unattributed rows have no touch date
    report = grain_report(small_world.warehouse, sql, params, ["order_id", "attribution_model"], ["touch_date"])
    assert report["duplicate_keys"] > 0 and report["null__touch_date"] > 0
