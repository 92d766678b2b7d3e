"""The daily exchange-rate sync against the ECB sandbox: rates in, crosses through the euro, and spend
without a rate a warning on the brand, never silently mixed or dropped."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tower import pipeline, wiring
from tower.analytics.runner import brand_fx_gaps
from tower.brand_warnings import list_warnings
from tower.brands import add_brand
from tower.cli import app
from tower.config import get_settings
from tower.connectors.ecb.client import DAILY_PATH, HISTORY_90D_PATH
from tower.connectors.retry import RetriesExhausted, RetryPolicy
from tower.ports import Message
from tower.sync.fx import sync_fx_rates
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import sandbox_runtime
from tower_dev.sandboxes.ecb_rates.server import EcbSandbox, is_target_working_day, world_rates

TODAY = date(2026, 11, 20)  # a Friday
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
CURRENCIES = ("USD", "CAD", "GBP", "AUD")


def _instant() -> RetryPolicy:
    return RetryPolicy(sleep=lambda s: None, rng=random.Random(0), attempts=3)


@pytest.fixture
def ecb() -> Iterator[EcbSandbox]:
    sandbox = EcbSandbox(world_rates(5, CURRENCIES, TODAY - timedelta(days=200), TODAY), today=TODAY)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def runtime(tmp_path: Path, ecb: EcbSandbox) -> Any:
    return sandbox_runtime(tmp_path, ecb_origin=ecb.origin, ads_history_days=30)


def _options() -> RunOptions:
    return RunOptions(now=lambda: NOW, policy=_instant())


def _rates(runtime: Any) -> list[dict[str, Any]]:
    return runtime.warehouse.rows("SELECT rate_date, base_currency, quote_currency, rate, source FROM fx_rates "
                                  "ORDER BY rate_date, quote_currency")


def test_a_first_sync_reads_the_90_days_and_a_rerun_reads_the_day_and_changes_nothing(runtime: Any,
                                                                                        ecb: EcbSandbox) -> None:
    first = sync_fx_rates(runtime, options=_options())

    working = [TODAY - timedelta(days=i) for i in range(90) if is_target_working_day(TODAY - timedelta(days=i))]
    assert first["feed"] == "history_90d" and ecb.requests == [HISTORY_90D_PATH]
    assert first["currencies"] == ["AUD", "CAD", "GBP", "USD"]  # against the euro, which is never listed itself
    assert first["rows"] == len(working) * 4
    stored = _rates(runtime)
    assert {(r["base_currency"], r["source"]) for r in stored} == {("EUR", "ecb")}
    assert {r["rate_date"] for r in stored} == set(working)
    assert all(r["rate_date"].weekday() < 5 for r in stored)
    usd = next(r for r in stored if r["rate_date"] == TODAY and r["quote_currency"] == "USD")
    assert Decimal(str(usd["rate"])) == ecb.days[TODAY]["USD"]

    second = sync_fx_rates(runtime, options=_options())

    assert second["feed"] == "daily" and ecb.requests[-1] == DAILY_PATH
    assert second["rows"] == len(ecb.days[TODAY]) and second["last_date"] == TODAY.isoformat()
    assert _rates(runtime) == stored


def test_missed_runs_longer_than_a_long_weekend_read_the_history_again(runtime: Any, ecb: EcbSandbox) -> None:
    sync_fx_rates(runtime, options=_options())
    ecb.today = TODAY + timedelta(days=4)  # Tuesday: the daily feed would skip Monday
    later = RunOptions(now=lambda: NOW + timedelta(days=4), policy=_instant())
    assert sync_fx_rates(runtime, options=later)["feed"] == "daily"
    ecb.today = TODAY + timedelta(days=12)
    resumed = sync_fx_rates(runtime, options=RunOptions(now=lambda: NOW + timedelta(days=12), policy=_instant()))
    assert resumed["feed"] == "history_90d"
    stored_days = {r["rate_date"] for r in _rates(runtime)}
    assert {d for d in ecb.days if TODAY < d <= TODAY + timedelta(days=12)} <= stored_days


def test_a_failing_feed_is_retried_and_an_unreachable_one_names_its_origin(runtime: Any, ecb: EcbSandbox,
                                                                            tmp_path: Path) -> None:
    ecb.faults.add("server_error", times=1).add("drop", times=1)
    assert sync_fx_rates(runtime, options=_options())["rows"] > 0
    assert ecb.faults.count() == 2

    gone = sandbox_runtime(tmp_path / "gone", ecb_origin="http://127.0.0.1:9")
    with pytest.raises(RetriesExhausted, match=r"http://127.0.0.1:9/stats/eurofxref/eurofxref-hist-90d.xml"):
        sync_fx_rates(gone, options=_options())


def _foreign_spend(runtime: Any, brand_id: str, currency: str, days: int, amount: str) -> None:
    rows = [{"brand_id": brand_id, "platform": "meta", "account_id": f"act-{currency}", "campaign_id": f"c-{currency}",
             "campaign_name": f"{currency} campaign", "stat_date": TODAY - timedelta(days=i), "country_code": "US",
             "region_code": "US-TX", "region_name": "Texas", "spend_amount": Decimal(amount), "impressions": 100,
             "clicks": 5, "purchases": 1.0, "purchase_value_amount": Decimal("50.00"), "currency": currency,
             "synced_at": NOW} for i in range(1, days + 1)]
    runtime.warehouse.merge("ad_performance", rows, ["brand_id", "platform", "account_id", "campaign_id",
                                                     "stat_date", "country_code", "region_code"])


def test_spend_without_a_rate_is_a_warning_until_rates_arrive_and_rates_rebuild_the_models(runtime: Any,
                                                                                           ecb: EcbSandbox) -> None:
    add_brand(runtime.warehouse, brand_id="maple", name="Maple Goods", timezone="America/Toronto", currency="USD",
              now=NOW)
    _foreign_spend(runtime, "maple", "CAD", 10, "100.00")
    _foreign_spend(runtime, "maple", "ARS", 5, "9000.00")  # the ECB publishes no Argentine peso rate

    # Models built before any rate: both currencies' spend is left out, and the brand says so.
    built = pipeline.handle_sync_completed(
        runtime, Message("tower-sync-completed",
                         {"brand_id": "maple", "window_start": (TODAY - timedelta(days=20)).isoformat(),
                          "window_end": (TODAY + timedelta(days=1)).isoformat()}, {}, "m1"), today=TODAY, now=NOW)
    assert built["brand_id"] == "maple"
    warned = {w["details"]["currency"]: w for w in list_warnings(runtime.store, "maple")}
    assert set(warned) == {"CAD", "ARS"}
    assert warned["CAD"]["details"] == {"currency": "CAD", "store_currency": "USD", "rows": 10,
                                        "first_date": (TODAY - timedelta(days=10)).isoformat(),
                                        "last_date": (TODAY - timedelta(days=1)).isoformat()}
    assert "left out" in warned["CAD"]["message"] and "tower fx sync" in warned["CAD"]["fix"]

    published: list[dict[str, Any]] = []
    runtime.bus.subscribe("probe", "tower-sync-completed", lambda m: published.append(dict(m.data)))
    result = pipeline.run_fx_sync(runtime, now=NOW, policy=_instant())
    runtime.bus.drain()

    assert result["brands"]["maple"] == {"raised": ["ARS"], "cleared": ["CAD"]}
    assert [w["details"]["currency"] for w in list_warnings(runtime.store, "maple")] == ["ARS"]
    # CAD converts through the euro (1 CAD = EUR/CAD x USD/EUR): only ARS is still missing.
    gaps = brand_fx_gaps(runtime.warehouse, runtime.settings, "maple", TODAY - timedelta(days=30),
                         TODAY + timedelta(days=1))
    assert [g["account_currency"] for g in gaps] == ["ARS"]
    converted = runtime.warehouse.rows(
        "SELECT r.rate_date, r.rate FROM fx_rates AS r WHERE r.quote_currency = 'CAD' AND r.rate_date = @d",
        {"d": TODAY - timedelta(days=1)})
    assert converted  # Thursday's rate, which Thursday's CAD spend is converted at
    # The new rates rebuild the brand's models over the days they cover.
    assert published == [{"brand_id": "maple", "platform": "fx",
                          "window_start": (TODAY - timedelta(days=30)).isoformat(),
                          "window_end": (TODAY + timedelta(days=1)).isoformat()}]


def test_the_rate_sync_is_a_scheduled_entry_point_after_the_ecb_publishes() -> None:
    entry = wiring.ENTRY_POINTS["sync_fx"]
    assert (entry.kind, entry.target, entry.handler) == ("schedule", "0 17 * * *", pipeline.handle_fx_schedule)
    assert entry.function_name == "tower-sync-fx"


def test_tower_fx_sync_loads_and_an_unreachable_ecb_exits_1_naming_the_origin(
        tmp_path: Path, ecb: EcbSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOWER_ECB_ORIGIN", ecb.origin)
    monkeypatch.setattr("tower.sync.run.default_policy", lambda sleep=None: _instant())
    get_settings.cache_clear()
    try:
        loaded = CliRunner().invoke(app, ["fx", "sync"])
        monkeypatch.setenv("TOWER_ECB_ORIGIN", "http://127.0.0.1:9")
        get_settings.cache_clear()
        unreachable = CliRunner().invoke(app, ["fx", "sync", "--history"])
    finally:
        get_settings.cache_clear()
    assert loaded.exit_code == 0, loaded.output
    assert "fx rates loaded" in loaded.output and "history_90d" in loaded.output
    assert unreachable.exit_code == 1
    assert "TOWER_ECB_ORIGIN=http://127.0.0.1:9" in " ".join(unreachable.output.split())
