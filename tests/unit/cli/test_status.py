"""``tower status`` after real syncs from the command line, one per ad sandbox.

A Toronto brand (not the demo) connects an account purely through the CLI. With the sandbox refusing only
the reads that map campaigns to products, ``tower sync`` still stores every spend row, says so as a
warning, and ``tower status`` shows that warning on the integration with its fix; the next sync that reads
the mapping clears it. Then an expired token: status says the account needs reconnecting and how. Every
column status promises is checked against what was synced (rows counted in the warehouse, the latest day
served, the data directory in use).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cli_run import run, tower

from tower.config import EMBEDDED_FILES, get_settings
from tower.names import AD_PLATFORMS
from tower_dev.sandboxes.ad_sandbox import sample_accounts
from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox
from tower_dev.sandboxes.meta_graph.server import MetaSandbox
from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox

BRAND = "maple-goods"
TIMEZONE = "America/Toronto"
LABELS = {"meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads"}


@pytest.fixture(params=AD_PLATFORMS)
def ad_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """(platform, sandbox, account, data dir): one sandbox serving a sample account of the last 5 days."""
    platform = request.param
    today = datetime.now(ZoneInfo(TIMEZONE)).date()  # the account's today: the sync's window ends with it
    [account] = [a for a in sample_accounts(seed=53, brand_id=BRAND, start=today - timedelta(days=4), days=5,
                                            currency="CAD", timezone=TIMEZONE) if a.platform == platform]
    sandbox = {"meta": MetaSandbox, "tiktok": TikTokSandbox, "google_ads": GoogleAdsSandbox}[platform]([account])
    for name in EMBEDDED_FILES:  # only TOWER_DATA_DIR: every embedded store goes under it
        monkeypatch.delenv(f"TOWER_{name.upper()}", raising=False)
    monkeypatch.setenv("TOWER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOWER_ADS_HISTORY_DAYS", "5")
    if platform == "google_ads":
        monkeypatch.setenv("TOWER_GOOGLE_ADS_ENDPOINT", sandbox.endpoint)
        monkeypatch.setenv("TOWER_GOOGLE_ADS_DEVELOPER_TOKEN", "sandbox-developer-token")
    else:
        monkeypatch.setenv(f"TOWER_{platform.upper()}_API_ORIGIN", sandbox.origin)
    get_settings.cache_clear()
    yield platform, sandbox, account, tmp_path / "data"
    get_settings.cache_clear()
    sandbox.stop()


def _status() -> dict[str, Any]:
    code, out = run("status", "--brand", BRAND, "--json")
    assert code == 0, out
    return json.loads(out)


def test_a_refused_mapping_read_is_a_warning_with_its_fix_and_spend_is_all_there(ad_env: Any) -> None:
    platform, sandbox, account, data_dir = ad_env
    r = tower("brands", "add", "--id", BRAND, "--name", "Maple Goods", "--timezone", TIMEZONE, "--currency", "CAD")
    assert r.exit_code == 0, r.output
    token = sandbox.issue_token(account.account_id)
    connect = ["connect", platform, "--brand", BRAND, "--account", account.account_id, "--token", token]
    if platform == "google_ads":
        connect += ["--login-customer-id", "9876543210"]
    assert tower(*connect).exit_code == 0
    sandbox.fail_mapping_reads()

    code, out = run("sync", platform, "--brand", BRAND, "--no-build")

    assert code == 0, out
    assert "warning:" in out and "promoting unknown products" in out
    served = sum(1 for r in account.performance_rows() if r["spend_amount"])
    code, out = run("sql", "--json", "SELECT COUNT(*) AS n, MAX(stat_date) AS latest FROM ad_performance "
                    "WHERE spend_amount > 0")
    stored = json.loads(out.splitlines()[0])
    assert code == 0 and stored["n"] == served and served > 20
    status = _status()
    [integ] = status["integrations"]
    assert (integ["platform"], integ["account_id"], integ["status"]) == (platform, account.account_id, "active")
    assert integ["last_success_at"] and integ["last_error"] is None and integ["needs_reconnect"] is False
    assert integ["rows"] == len(account.performance_rows()) and integ["latest_data"] == stored["latest"]
    assert integ["lag_days"] == 0
    [warning] = integ["warnings"]
    assert "2 campaign(s) count as promoting unknown products" in warning
    assert f"Fix: {_fix_start(platform)}" in warning and f"tower connect {platform} --brand {BRAND}" in warning
    assert f"{BRAND} {platform} {account.account_id}: warning: {warning}" in status["problems"]
    assert status["setup"]["data_dir"] == str(data_dir.resolve())
    assert status["setup"]["warehouse"] == f"duckdb:///{data_dir.resolve()}/warehouse.duckdb"
    code, text = run("status", "--brand", BRAND)
    flat = " ".join(text.split())
    assert code == 0 and "promoting unknown products" in flat and f"tower connect {platform} --brand {BRAND}" in flat
    assert f"data_dir {data_dir.resolve()}" in text  # the "running on" line, never wrapped

    sandbox.faults.clear()
    code, out = run("sync", platform, "--brand", BRAND, "--no-build")
    assert code == 0 and "warning:" not in out
    status = _status()
    assert status["integrations"][0]["warnings"] == []
    assert not any("warning:" in p for p in status["problems"])

    sandbox.registry.expire_token(token)
    code, out = run("sync", platform, "--brand", BRAND, "--no-build")
    assert code == 1
    [integ] = _status()["integrations"]
    assert integ["needs_reconnect"] is True and integ["last_error"]
    lines = [p for p in _status()["problems"] if f"{BRAND} {platform} {account.account_id}:" in p]
    assert any("syncs stop until it is connected again" in p and f"Fix: tower connect {platform} --brand {BRAND}"
               in p for p in lines)


def _fix_start(platform: str) -> str:
    return {"meta": "let the token read the ad sets", "tiktok": "share the catalog with the app",
            "google_ads": "give the user read access"}[platform]
