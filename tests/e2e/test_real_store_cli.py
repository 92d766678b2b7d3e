"""A store connected by hand, end to end through the ``tower`` command: connect, ``tower run``, then what the
merchant reads (status, mismatches, recommendations, alerts) against the world's manifest (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from real_store import (
    BRAND,
    Sandboxes,
    connect_by_hand,
    has_alert,
    has_recommendation,
    needs_cover,
    start_sandboxes,
    tower,
    tower_json,
)

from tower.config import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    s = start_sandboxes()
    yield s
    s.shop.stop()
    s.ads.stop()


@pytest.fixture(scope="module")
def ran(sandboxes: Sandboxes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Connected by hand and run once: what ``tower run`` printed and where its files are."""
    data_dir: Path = tmp_path_factory.mktemp("store")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in sandboxes.env(data_dir).items():
            mp.setenv(k, v)
        for k in ("TOWER_WAREHOUSE", "TOWER_STORE", "TOWER_BUS", "TOWER_TASKS", "TOWER_SECRETS"):
            mp.delenv(k, raising=False)
        connect_by_hand(sandboxes)
        never = tower("recommendations", "--brand", BRAND)
        code, out = tower("run", "--brand", BRAND)
        yield {"code": code, "out": out, "never": never, "data_dir": data_dir}
    get_settings.cache_clear()


@pytest.fixture
def env(ran: dict[str, Any], sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in sandboxes.env(ran["data_dir"]).items():
        monkeypatch.setenv(k, v)


def test_before_any_run_an_empty_list_says_why_and_what_to_run(ran: dict[str, Any]) -> None:
    code, out = ran["never"]
    assert code == 0, out
    assert "never built" in out and f"tower run --brand {BRAND}" in out


def test_tower_run_syncs_every_platform_then_builds_decides_and_summarises(ran: dict[str, Any]) -> None:
    assert ran["code"] == 0, ran["out"]
    out = ran["out"]
    for stage in ("sync shopify", "sync meta", "sync tiktok", "sync google_ads", "models", "decisions", "summaries"):
        assert stage in out, stage
    assert "failed" not in out


def test_status_shows_every_integration_synced_fresh_and_no_problem(env: None, sandboxes: Sandboxes) -> None:
    status = tower_json("status", "--brand", BRAND)
    by_platform = {i["platform"]: i for i in status["integrations"]}
    assert set(by_platform) == {"shopify", "meta", "tiktok", "google_ads"}
    for platform, i in by_platform.items():
        assert i["last_success_at"] and not i["needs_reconnect"] and not i["last_error"], (platform, i)
        assert i["rows"] > 0 and i["lag_days"] is not None and i["lag_days"] <= 2, (platform, i)
        assert i["sandbox"], platform  # remembered: it comes back after the sandbox stops
    assert by_platform["shopify"]["rows"] == sandboxes.brand.tables["orders"].num_rows
    [brand] = status["brands"]
    assert brand["models_built_at"] and brand["recommendations"] > 0 and brand["open_alerts"] > 0
    assert status["problems"] == [], status["problems"]
    assert status["setup"]["data_dir"] == str(Path(get_settings().data_dir).resolve())


def _expected(sandboxes: Sandboxes, kind: str, *, cover: bool) -> list[dict[str, Any]]:
    return [e for e in sandboxes.manifest["expected_findings"][kind] if needs_cover(e) == cover]


def test_alerts_that_rest_on_spend_and_stock_match_the_manifest(env: None, sandboxes: Sandboxes) -> None:
    alerts = tower_json("alerts", "--brand", BRAND, "--cached")
    expected = _expected(sandboxes, "alerts", cover=False)
    assert {e["type"] for e in expected} >= {"roas_drop", "inventory_mismatch"}
    missing = [e for e in expected if not has_alert(alerts, e)]
    assert not missing, missing
    clean = set(sandboxes.manifest["clean_products"])
    assert not [a for a in alerts if a.get("product_id") in clean]


def test_mismatches_name_the_product_spending_on_a_stockout(env: None, sandboxes: Sandboxes) -> None:
    planted = sandboxes.manifest["stockout_with_spend"]
    code, out = tower("sql", "SELECT product_id, channel, mismatch_type FROM inventory_alignment WHERE brand_id = "
                      f"'{BRAND}' AND mismatch_type = 'spending_on_stockout' AND level = 'product'", "--json")
    assert code == 0, out
    assert planted["product_id"] in out


def test_recommendations_are_built_and_name_no_clean_product(env: None, sandboxes: Sandboxes) -> None:
    cards = tower_json("recommendations", "--brand", BRAND, "--cached")
    assert cards
    clean = set(sandboxes.manifest["clean_products"])
    assert not [c for c in cards if c.get("product_id") in clean]
    # what rests on spend and stock alone holds now (the manifest plants none such for this profile:
    # every planted recommendation rests on days of cover, checked below)
    missing = [e for e in _expected(sandboxes, "recommendations", cover=False) if not has_recommendation(cards, e)]
    assert not missing, missing


# Days of cover now come from Shopify's fulfillment orders (the store has no location_regions rows) and the
# velocity counts the order history before the first snapshot: the products the world plants at 120 days of
# cover show exactly 120 here, and most cover findings are found. Still missing on this world (seed 11, brand 4):
# the promotion card for MNM-CAN-1002 and the meta increase_spend cards for two overstocked products, whose
# alignment rows (ROAS ~5.8, cover 120, share < 10 %) look eligible: the rules' spare-stock cap is the next
# suspect (tower.decisions.rules.increase_hits), not the cover figures.
@pytest.mark.xfail(reason="three cover-based cards still missing; see the comment above", strict=False)
def test_findings_resting_on_days_of_cover_match_the_manifest(env: None, sandboxes: Sandboxes) -> None:
    alerts = tower_json("alerts", "--brand", BRAND, "--cached")
    cards = tower_json("recommendations", "--brand", BRAND, "--cached", "--all")
    missing = [e for e in _expected(sandboxes, "alerts", cover=True) if not has_alert(alerts, e)]
    missing += [e for e in _expected(sandboxes, "recommendations", cover=True) if not has_recommendation(cards, e)]
    assert not missing, missing
