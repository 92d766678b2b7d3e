"""bench/scale.py's parts at a small size: the real local queue and bus, the GCP model, the cost arithmetic."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", REPO / "bench" / "scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module
    spec.loader.exec_module(module)
    return module


def test_one_failing_brand_is_dead_lettered_and_delays_no_other(scale: ModuleType, tmp_path: Path) -> None:
    out = scale.fan_out(30, 2, True, tmp_path, lambda _: None)
    assert out["tasks_enqueued"] == 120  # the real schedule_syncs: one task per brand and platform
    assert out["healthy_brands_done"] == 29
    assert out["handled"] == 29 * 16  # each platform: a sync, a build, recommend, summarize
    assert out["failing_brand_dead_tasks"] == 4  # its four syncs, after their attempts
    assert out["max_task_depth"] <= 120


def _measured(wall: float = 0.2, statements: int = 4) -> dict[str, Any]:
    handlers = {name: {"calls": 2, "wall_s": wall * 2, "cpu_s": wall, "statements": statements * 2,
                       "table_refs": statements * 2, "bytes_billed": 2 * statements * 10 * 2**20,
                       "fs_reads": 4, "fs_writes": 2, "fs_deletes": 0}
                for name in ("sync_shopify", "sync_meta", "sync_tiktok", "sync_google_ads", "build_models",
                             "recommend", "summarize")}
    return {"sample_brands": 2, "handlers": handlers, "round": {"sync_tasks": 8, "messages": 24},
            "ai": {"calls": 2.0, "input_tokens": 4000.0, "output_tokens": 1000.0, "cost": 0.03},
            "storage_bytes_per_brand": 2**30}


def test_main_tf_sizing_takes_a_thousand_brands_inside_the_hour(scale: ModuleType) -> None:
    sizing = scale.terraform_sizing()
    out = scale.simulate_gcp_round(1000, scale.service_times(_measured()), sizing)
    assert out["inside_the_hour"] and out["dead_lettered"] == 0
    # tower-sync dispatches at most 5 a second: 4,000 tasks take at least 800 s
    assert out["round_s"] >= 4000 / float(sizing["queues"]["tower-sync"]["max_dispatches_per_second"])
    assert out["peak_instances"]["build_models"] <= int(sizing["functions"]["build_models"]["max_instances"])


def test_too_few_instances_show_as_throttling_and_dead_letters(scale: ModuleType) -> None:
    sizing = copy.deepcopy(scale.terraform_sizing())
    sizing["functions"]["build_models"]["max_instances"] = 1
    out = scale.simulate_gcp_round(200, {**scale.service_times(_measured()), "build_models": 600.0}, sizing)
    assert out["throttled_429"] > 0 and out["dead_lettered"] > 0


def test_costs_scale_with_brands_and_bill_bigquery_s_minimum(scale: ModuleType) -> None:
    rows = {r["brands"]: r for r in scale.cost_table(_measured(), scale.terraform_sizing(), [10, 100])}
    for service in ("functions", "bigquery", "firestore", "claude"):
        assert rows[100][service] == pytest.approx(10 * rows[10][service], rel=0.01, abs=0.06)  # cents rounding
    # 0.03 USD of Claude for 2 brands a round: 0.015 per brand x 730 rounds x 10 brands
    assert rows[10]["claude"] == pytest.approx(0.015 * 730 * 10, rel=0.01)
    meter = scale._Meter({"orders": 100.0})
    meter.brand_rows = {"orders": 10.0}
    meter.statement({"orders", "brands"})
    assert meter.stats["other"].bytes_billed == 2 * 10 * 2**20  # two tables, each at the 10 MiB minimum


def test_statements_are_charged_for_every_table_they_read(scale: ModuleType) -> None:
    tables = scale._tables_of("SELECT o.order_id FROM orders AS o JOIN order_line_items USING (order_id) "
                              "WHERE o.brand_id = @brand_id", {"orders", "order_line_items", "brands"})
    assert tables == {"orders", "order_line_items"}
