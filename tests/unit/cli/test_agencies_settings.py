"""``tower agencies``, ``tower brands set|show|regions`` and ``tower api-key create --operator``: every input
only the merchant or the operator has, written through the command line, read where the product reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_run import add_brand, run

from tower.analytics.runner import build_models
from tower.config import EMBEDDED_FILES, get_settings
from tower.runtime import Runtime

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in EMBEDDED_FILES:
        monkeypatch.delenv(f"TOWER_{name.upper()}", raising=False)
    monkeypatch.setenv("TOWER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    assert add_brand("maple", "America/Toronto").exit_code == 0
    assert add_brand("cedar", "America/Vancouver").exit_code == 0
    yield tmp_path / "data"
    get_settings.cache_clear()


def _runtime() -> Runtime:
    return Runtime(get_settings())


def test_agencies_add_attach_list_then_an_agency_key(env: Path) -> None:
    assert run("agencies", "add", "--id", "northstar", "--name", "Northstar Growth")[0] == 0
    code, out = run("agencies", "attach", "--agency", "northstar", "--brand", "maple", "--brand", "cedar")
    assert code == 0, out
    code, out = run("agencies", "list")
    assert code == 0 and "northstar" in out and "cedar, maple" in out
    code, out = run("api-key", "create", "--agency", "northstar")
    assert code == 0 and "tower_" in out
    code, out = run("api-key", "create", "--operator")
    assert code == 0 and "the operator" in " ".join(out.split())
    rt = _runtime()
    try:
        assert rt.store.get("agencies/northstar")["brand_ids"] == ["cedar", "maple"]
        assert rt.store.get("brands/maple")["agency_id"] == "northstar"
        assert {r["agency_id"] for r in rt.warehouse.rows("SELECT agency_id FROM brands")} == {"northstar"}
    finally:
        rt.close()


@pytest.mark.parametrize(("args", "words"), [
    (("agencies", "add", "--id", "Not Valid", "--name", "x"), "agency id 'Not Valid'"),
    (("agencies", "attach", "--agency", "ghost", "--brand", "maple"), "unknown agency 'ghost'"),
    (("agencies", "attach", "--agency", "northstar", "--brand", "nobody"), "unknown brand 'nobody'"),
    (("brands", "set", "--brand", "maple", "cover_low_days=lots"), "cover_low_days='lots'"),
    (("brands", "set", "--brand", "maple", "cover_low_days=120"), "must not exceed cover_overstock_days"),
    (("brands", "set", "--brand", "maple", "rules.no_such=1"), "unknown setting 'rules.no_such'"),
    (("brands", "set", "--brand", "maple", "alerts.anomaly_z=-2"), "zero or more"),
    (("brands", "set", "--brand", "maple", "fulfillment_cost_per_order"), "NAME=VALUE"),
    (("brands", "set", "--brand", "ghost", "cover_low_days=7"), "unknown brand 'ghost'"),
    (("brands", "regions", "set", "--brand", "maple", "--region", "Ontario", "--location", "1"), "ISO 3166-2"),
    (("brands", "regions", "set", "--brand", "maple", "--region", "CA-ON", "--location", "1"), "no locations yet"),
])
def test_bad_input_exits_2_naming_it(env: Path, args: tuple[str, ...], words: str) -> None:
    run("agencies", "add", "--id", "northstar", "--name", "Northstar Growth")
    code, out = run(*args)
    assert code == 2, out
    assert words in " ".join(out.split())


def test_brands_set_is_what_the_models_and_rules_read(env: Path) -> None:
    code, out = run("brands", "set", "--brand", "maple", "fulfillment_cost_per_order=6.5", "cover_low_days=21",
                    "rules.reduce_roas_below=2", "alerts.stockout_within_days=10")
    assert code == 0, out
    code, out = run("brands", "show", "--brand", "maple")
    assert code == 0 and "fulfillment_cost_per_order" in out and "6.5" in out
    rt = _runtime()
    try:
        built = build_models(rt.warehouse, "maple", date(2026, 11, 1), date(2026, 11, 8), rt.settings,
                             today=date(2026, 11, 23), clock=lambda: NOW)
        assert built.parameters["fulfillment_cost_per_order"] == 6.5
        assert built.parameters["cover_low_days"] == 21.0
        assert rt.store.get("brands/maple")["thresholds"] == {"rules": {"reduce_roas_below": 2},
                                                              "alerts": {"stockout_within_days": 10}}
    finally:
        rt.close()
    code, out = run("brands", "set", "--brand", "maple", "--unset", "cover_low_days")
    assert code == 0, out
    rt = _runtime()
    try:
        assert build_models(rt.warehouse, "maple", date(2026, 11, 1), date(2026, 11, 8), rt.settings,
                            today=date(2026, 11, 23), clock=lambda: NOW).parameters["cover_low_days"] == 14.0
    finally:
        rt.close()


def test_region_rules_set_list_remove(env: Path) -> None:
    rt = _runtime()
    try:
        rt.warehouse.merge("locations", [
            {"brand_id": "maple", "location_id": "gid://shopify/Location/71", "location_name": "Toronto DC",
             "country_code": "CA", "province_code": "ON", "is_active": True, "updated_at": NOW}],
            ["brand_id", "location_id"])
    finally:
        rt.close()
    code, out = run("brands", "regions", "set", "--brand", "maple", "--region", "ca-on", "--location", "71",
                    "--fulfillment-cost", "7.25")
    assert code == 0, out
    code, out = run("brands", "regions", "set", "--brand", "maple", "--region", "CA-QC", "--location", "Montreal")
    assert code == 2 and "Toronto DC" in out
    code, out = run("brands", "regions", "list", "--brand", "maple")
    assert code == 0 and "CA-ON" in out and "gid://shopify/Location/71" in out and "7.25" in out
    code, out = run("brands", "regions", "remove", "--brand", "maple", "--region", "CA-ON")
    assert code == 0 and "rule removed" in out
    rt = _runtime()
    try:
        assert rt.warehouse.rows("SELECT * FROM location_regions") == []
    finally:
        rt.close()
