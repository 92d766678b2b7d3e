"""How each integration stands, and one line per problem with the command that fixes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.adapters.local_store import LocalStore
from tower.brands import add_brand
from tower.sync.health import integration_health, problems
from tower.sync.outcomes import record_outcome

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # noon in Chicago


def _integration(wh: DuckDBWarehouse, platform: str, account: str, status: str = "active") -> None:
    wh.merge("integrations", [{"brand_id": "b1", "platform": platform, "account_id": account,
                               "secret_ref": f"integration-b1-{platform}", "status": status, "connected_at": NOW,
                               "updated_at": NOW}], ["brand_id", "platform", "account_id"])


def test_health_reads_rows_freshness_outcomes_and_says_what_to_fix(tmp_path: Path) -> None:
    wh = DuckDBWarehouse()
    wh.init_schema()
    store = LocalStore(tmp_path / "s.sqlite")
    add_brand(wh, brand_id="b1", name="B", timezone="America/Chicago", currency="USD", now=NOW)
    _integration(wh, "shopify", "b1.myshopify.com")
    _integration(wh, "meta", "111")
    _integration(wh, "tiktok", "222", status="needs_reauth")
    _integration(wh, "google_ads", "333")
    wh.insert("orders", [{"brand_id": "b1", "order_id": f"o{i}",
                          "order_date": date(2026, 11, 21), "created_at": NOW, "currency": "USD"}
                         for i in range(3)])
    record_outcome(store, "b1", "shopify", {"status": "ok", "shop_domain": "b1.myshopify.com",
                                            "stored": {"orders": 3}, "warnings": ["no locations"]}, NOW)
    record_outcome(store, "b1", "meta", {"accounts": [{"account_id": "111", "status": "ok", "rows": 0}]},
                   NOW - timedelta(hours=5))
    record_outcome(store, "b1", "meta", {"accounts": [{"account_id": "111", "status": "failed",
                                                      "error": "Meta connection failed"}]}, NOW)

    by = {h.platform: h for h in integration_health(wh, store, now=NOW)}
    shop = by["shopify"]
    assert (shop.rows, shop.latest_data, shop.lag_days) == (3, date(2026, 11, 21), 2)
    assert shop.last_success_at == NOW and shop.warnings == ["no locations"] and not shop.needs_reconnect
    assert by["meta"].last_error == "Meta connection failed" and by["tiktok"].needs_reconnect
    lines = problems(by.values(), NOW)
    assert any("tiktok 222" in line and "tower connect tiktok --brand b1" in line for line in lines)
    assert any("meta 111" in line and "over 3 hours ago" in line for line in lines)
    assert any("meta 111" in line and "tower sync meta --brand b1" in line for line in lines)
    assert any("google_ads 333: never synced" in line and "tower run --brand b1" in line for line in lines)
    assert any("warning: no locations" in line for line in lines)
    assert not any("shopify" in line and "never" in line for line in lines)
    wh.close()
