"""The runner: dependency order from the SQL, idempotent windows, model_runs, clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tower.analytics import models as registry
from tower.analytics.runner import BuildError
from tower.config import Settings

START, END = date(2024, 5, 1), date(2024, 5, 21)
MARTS = tuple(registry.MARTS)


def _seed(shop) -> None:
    shop.campaign("meta", "m", products=("mug",))
    for i in range(20):
        day = START + timedelta(days=i)
        shop.spend("meta", "m", day, 10.0 + i)
        shop.spend("tiktok", "t", day, 5.0, region="US-CA")
        shop.order(datetime(day.year, day.month, day.day, 18, tzinfo=UTC), {"mug": 1, "cup": i % 3 + 1},
                   region="US-TX" if i % 2 else "US-CA", revenue=40.0 + i)
        shop.stock("mug", day, 100 - i)
        shop.stock("cup", day, 50)


def _cell(v: object) -> str:
    # parallel sums may differ in the last bit between runs: compare floats to 10 significant digits
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def snapshot(shop) -> dict[str, list[tuple]]:
    """Every mart's rows for the brand, as sorted tuples (comparable across builds)."""
    out = {}
    for mart in MARTS:
        cols = registry.output_columns(mart)
        out[mart] = sorted(tuple(_cell(r[c]) for c in cols) for r in shop.rows(mart))
    return out


def test_build_order_follows_the_sql() -> None:
    order = registry.build_order()
    assert set(order) == set(MARTS)
    before = {m: i for i, m in enumerate(order)}
    assert before["attributed_orders"] < before["unified_performance"]
    assert before["days_of_cover"] < before["unified_performance"]
    assert before["unified_performance"] < before["inventory_alignment"]
    assert before["unified_performance"] < before["performance_snapshots"]
    assert before["attributed_orders"] < before["attribution_reconciliation"]


def test_rebuilding_a_window_changes_nothing(shop) -> None:
    _seed(shop)
    first = shop.build(START, END)
    once = snapshot(shop)
    second = shop.build(START, END)
    assert snapshot(shop) == once
    assert first.data_version == second.data_version
    assert all(len(rows) for rows in once.values())


def test_a_window_replaces_exactly_its_own_rows(shop) -> None:
    _seed(shop)
    shop.build(START, END)
    before = snapshot(shop)
    inner = (date(2024, 5, 8), date(2024, 5, 11))
    # a late order inside the inner window: only the inner window may change
    shop.order(datetime(2024, 5, 9, 15, tzinfo=UTC), {"mug": 5}, revenue=500.0, region="US-TX")
    result = shop.build(*inner)
    after = snapshot(shop)

    spec = registry.MARTS
    for mart in ("attributed_orders", "days_of_cover", "unified_performance", "performance_snapshots"):
        col = registry.output_columns(mart).index(spec[mart].date_column)
        outside = [r for r in after[mart] if not (str(inner[0]) <= r[col] < str(inner[1]))]
        assert outside == [r for r in before[mart] if not (str(inner[0]) <= r[col] < str(inner[1]))], mart
    assert after["attributed_orders"] != before["attributed_orders"]
    runs = {r.model: (r.window_start, r.window_end) for r in result.runs}
    assert runs["attributed_orders"] == inner
    assert runs["inventory_alignment"] == (date(2024, 5, 10), date(2024, 5, 11))  # as of the last day built
    assert runs["attribution_reconciliation"] == (date(2024, 5, 6), inner[1])  # from the week's Monday


def test_model_runs_record_every_mart_with_a_data_version(shop) -> None:
    _seed(shop)
    built_at = datetime(2024, 6, 1, 9, tzinfo=UTC)
    a = shop.build(START, END, clock=lambda: built_at)
    shop.order(datetime(2024, 5, 3, 15, tzinfo=UTC), revenue=10.0)
    b = shop.build(START, END, clock=lambda: built_at)
    assert a.data_version != b.data_version  # the inputs changed
    runs = shop.warehouse.rows("SELECT * FROM model_runs WHERE brand_id = @b ORDER BY data_version, model",
                               {"b": shop.brand_id})
    assert len(runs) == 2 * len(MARTS)
    assert {r["model"] for r in runs} == set(MARTS)
    assert {r["data_version"] for r in runs} == {a.data_version, b.data_version}
    counted = {r.model: r.row_count for r in b.runs}
    for r in runs:
        assert r["built_at"] == built_at
        if r["data_version"] == b.data_version:
            assert r["row_count"] == counted[r["model"]]


def test_today_cuts_the_window(shop) -> None:
    _seed(shop)
    result = shop.build(START, END, today=date(2024, 5, 15))
    assert (result.window_end, result.as_of_date) == (date(2024, 5, 15), date(2024, 5, 14))
    days = {r["order_date"] for r in shop.rows("attributed_orders")}
    assert max(days) == date(2024, 5, 14)


def test_only_some_marts(shop) -> None:
    _seed(shop)
    result = shop.build(START, END, models=["days_of_cover"])
    assert [r.model for r in result.runs] == ["days_of_cover"]
    assert shop.rows("attributed_orders") == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": END, "end": START}, "must be before"),
        ({"today": START}, "no complete day"),
        ({"models": ["nope"]}, "unknown models"),
        ({"brand": "ghost"}, "unknown brand"),
        ({"settings": Settings(model_brand_overrides={"brand_1": {"cover_low_days": "many"}})}, "cover_low_days"),
        ({"settings": Settings(model_brand_overrides={"brand_1": {"colour": 1}})}, "unknown model settings"),
    ],
)
def test_bad_requests_are_refused_clearly(shop, kwargs: dict, message: str) -> None:
    from tower.analytics.runner import build_models

    with pytest.raises(BuildError if "settings" not in kwargs else ValueError, match=message):
        build_models(shop.warehouse, kwargs.get("brand", shop.brand_id), kwargs.get("start", START),
                     kwargs.get("end", END), kwargs.get("settings", Settings()), today=kwargs.get("today", END),
                     models=kwargs.get("models"))


def test_a_failing_model_leaves_its_window_as_it_was(shop, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(shop)
    shop.build(START, END)
    before = snapshot(shop)["unified_performance"]
    real = registry.build_script

    def broken(spec: registry.MartSpec, tables: dict[str, str] | None = None) -> str:
        script = real(spec, tables)
        # the DELETE runs, then the INSERT fails: the transaction must take the DELETE back
        return script.replace("SELECT ", "SELECT no_such_column, ", 1) if spec.name == "unified_performance" else script

    monkeypatch.setattr(registry, "build_script", broken)
    with pytest.raises(BuildError, match="unified_performance"):
        shop.build(START, END)
    assert snapshot(shop)["unified_performance"] == before


def test_models_several_marts_read_are_stored_once_and_change_no_row(shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """On DuckDB the ephemeral models several marts read are computed once per build into temporary tables
    (dropped after); every mart's rows are those of a build that inlines everything, as BigQuery's does."""
    shared = registry.shared_models(registry.build_order())
    assert {"int_shopify__orders", "int_shopify__order_lines", "int_ads__performance"} <= set(shared)
    assert "stg_shopify__order_lines" not in shared  # read once, by int_shopify__order_lines
    assert "int_performance__credits" not in shared  # reads a mart, which the build has not written yet
    assert shared.index("int_shopify__orders") < shared.index("int_shopify__order_lines")  # dependency order
    _seed(shop)
    stored = shop.build(START, END)
    assert stored.shared_seconds > 0 and stored.seconds > stored.shared_seconds
    with_tables = snapshot(shop)
    left = shop.warehouse.rows("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%__build_%'")
    assert left == []

    monkeypatch.setattr(registry, "shared_models", lambda marts: [])
    shop.build(START, END)
    assert snapshot(shop) == with_tables
