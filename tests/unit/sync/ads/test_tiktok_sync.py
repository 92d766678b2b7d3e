"""The TikTok connector (requests) against the TikTok sandbox: the Business API's real shapes."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from tower.analytics.models import compose
from tower.connectors.retry import RetriesExhausted, RetryPolicy
from tower.connectors.tiktok.streams import REPORT_BY_COUNTRY, REPORT_BY_PROVINCE
from tower.sync.ads import sync_ads
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    connect_sandbox_account,
    performance_mismatches,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox

TODAY = date(2026, 10, 10)
START = date(2026, 9, 17)
PLATFORM = "tiktok"


class _Sandboxes(AdSandboxes):
    def settings_overrides(self) -> dict[str, str]:
        return {"tiktok_api_origin": self.tiktok.origin}


@pytest.fixture
def tiktok() -> Any:
    [account] = [a for a in sample_accounts(seed=12, start=START, days=24) if a.platform == PLATFORM]
    sandbox = TikTokSandbox([account])
    yield sandbox, account
    sandbox.stop()


def _runtime(tmp_path: Any, sandbox: TikTokSandbox, account: Any, *, products: bool = True,
             **overrides: Any) -> Any:
    runtime = sandbox_runtime(
        tmp_path,
        _Sandboxes(None, sandbox, None),
        **{"ads_history_days": 24, "ads_page_size": 40, **overrides},
    )
    if products:
        _store_products(runtime, account)
    return runtime


def _store_products(runtime: Any, account: Any) -> None:
    """The brand's Shopify products (the Shopify sync's job): landing pages name their handles."""
    runtime.warehouse.insert(
        "products",
        [
            {"brand_id": account.brand_id, "product_id": pid, "handle": ref["handle"], "is_active": True}
            for pid, ref in account.catalog.items()
        ],
    )


def _promoted(runtime: Any, account: Any) -> list[tuple[str, str, str]]:
    """The campaigns' promoted products as the models read them."""
    rows = runtime.warehouse.rows(compose("int_ads__promoted_products"), {"brand_id": account.brand_id})
    return sorted((r["platform"], r["campaign_id"], r["product_id"]) for r in rows)


def test_an_ad_sync_before_the_store_sync_maps_landing_pages_as_one_after_it(tmp_path: Any, tiktok: Any) -> None:
    """A new brand's first hour: the ad sync may finish before the Shopify sync has stored any product."""
    sandbox, account = tiktok
    after = _runtime(tmp_path / "after", sandbox, account)  # products first, as the tests above
    _connect(after, sandbox, account)
    assert sync_ads(after, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy())).status == "ok"

    before = _runtime(tmp_path / "before", sandbox, account, products=False)
    _connect(before, sandbox, account)
    assert sync_ads(before, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy())).status == "ok"
    by_url = {(cid, p["product_id"]) for cid, ps in account.products.items() for p in ps
              if p["source"] == "destination_url"}
    sets = {(cid, p["product_id"]) for cid, ps in account.products.items() for p in ps if p["source"] == "product_set"}
    assert by_url - sets  # the account has products only its landing pages name
    assert {(r[1], r[2]) for r in _promoted(before, account)} == sets  # no product to match a handle yet
    _store_products(before, account)  # then the Shopify sync lands

    assert _promoted(before, account) == _promoted(after, account)
    assert {(r[1], r[2]) for r in _promoted(before, account)} == by_url | sets


def _connect(runtime: Any, sandbox: TikTokSandbox, account: Any) -> str:
    return connect_sandbox_account(runtime, _Sandboxes(None, sandbox, None), account)


def _policy(sleeps: list[float] | None = None, attempts: int = 6) -> RetryPolicy:
    return RetryPolicy(
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        rng=random.Random(0),
        attempts=attempts,
    )


def _stored(runtime: Any) -> list[dict[str, Any]]:
    return runtime.warehouse.rows(
        "SELECT * EXCEPT (synced_at) FROM ad_performance WHERE platform = 'tiktok' "
        "ORDER BY campaign_id, stat_date, country_code, region_code"
    )


def test_full_sync_equals_what_tiktok_served(tmp_path: Any, tiktok: Any) -> None:
    sandbox, account = tiktok
    runtime = _runtime(tmp_path, sandbox, account)
    _connect(runtime, sandbox, account)

    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy())).status == "ok"

    stored = _stored(runtime)
    assert performance_mismatches(stored, account.performance_rows()) == []
    tx = next(r for r in stored if r["region_code"] == "US-TX")
    assert (
        tx["region_name"] == "4736286"
    )  # TikTok's own province id (a GeoNames id) is kept beside the ISO code
    # product sets as stored; landing pages matched to the products' handles when the models are built
    stored = runtime.warehouse.rows("SELECT source FROM ad_campaign_products WHERE platform = 'tiktok'")
    assert {r["source"] for r in stored} == {"product_set"}
    assert runtime.warehouse.rows("SELECT COUNT(*) AS n FROM ad_campaign_destinations")[0]["n"] > 0
    assert {(cid, pid) for _, cid, pid in _promoted(runtime, account)} == {
        (cid, p["product_id"]) for cid, ps in account.products.items() for p in ps
    }
    campaigns = runtime.warehouse.rows("SELECT campaign_id, daily_budget_amount FROM ad_campaigns ORDER BY 1")
    assert campaigns == [
        {"campaign_id": c, "daily_budget_amount": account.campaigns[c]["daily_budget_amount"]}
        for c in sorted(account.campaigns)
    ]


def test_the_reports_asked_for_are_the_ones_the_api_accepts(tmp_path: Any, tiktok: Any) -> None:
    sandbox, account = tiktok
    token = sandbox.issue_token(account.account_id)
    params = REPORT_BY_COUNTRY.params(account.account_id, START, START)
    assert (params["report_type"], params["data_level"], params["dimensions"]) == (
        "AUDIENCE",
        "AUCTION_CAMPAIGN",
        ["campaign_id", "stat_time_day", "country_code"],
    )
    assert REPORT_BY_PROVINCE.dimensions == ("campaign_id", "stat_time_day", "province_id")

    def ask(**p: Any) -> dict[str, Any]:
        q = {k: json.dumps(v) if isinstance(v, list) else v for k, v in p.items()}
        return requests.get(
            f"{sandbox.origin}/open_api/v1.3/report/integrated/get/",
            params=q,
            headers={"Access-Token": token},
            timeout=10,
        ).json()

    ok = ask(**params, page=1, page_size=10)
    assert ok["code"] == 0 and ok["data"]["list"][0]["dimensions"]["stat_time_day"].endswith(" 00:00:00")
    # The product plan's sketch (BASIC with province_name) is not what the API takes.
    sketch = ask(
        **{**params, "report_type": "BASIC", "dimensions": ["campaign_id", "country_code", "province_name"]},
        page=1,
        page_size=10,
    )
    assert sketch["code"] == 40002


def test_only_country_figures_when_tiktok_gives_no_provinces(tmp_path: Any, tiktok: Any) -> None:
    sandbox, account = tiktok
    sandbox.province_empty = True
    runtime = _runtime(tmp_path, sandbox, account)
    _connect(runtime, sandbox, account)

    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    stored = _stored(runtime)
    assert {(r["region_code"], r["region_name"]) for r in stored} == {("", "")}  # said so, not guessed
    by_country: dict[tuple[str, date, str], float] = {}
    for r in account.performance_rows():
        k = (r["campaign_id"], r["stat_date"], r["country_code"])
        by_country[k] = by_country.get(k, 0) + float(r["spend_amount"])
    assert {
        (r["campaign_id"], r["stat_date"], r["country_code"]): float(r["spend_amount"]) for r in stored
    } == pytest.approx(by_country)


def test_pagination_second_run_and_late_conversions(tmp_path: Any, tiktok: Any) -> None:
    sandbox, account = tiktok
    runtime = _runtime(tmp_path, sandbox, account, ads_page_size=9, tiktok_trailing_days=3)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id,
             options=RunOptions(today=TODAY - timedelta(days=1), policy=_policy()))
    report_pages = sum(1 for _m, path in sandbox.calls if "report/integrated" in path)
    assert report_pages > 30
    first = _stored(runtime)

    sync_ads(runtime, PLATFORM, account.brand_id,
             options=RunOptions(today=TODAY - timedelta(days=1), policy=_policy()))
    assert _stored(runtime) == first

    account.add_late_conversions(TODAY - timedelta(days=2), seed=3)  # inside TikTok's 3-day re-pull
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    assert performance_mismatches(_stored(runtime), account.performance_rows()) == []


@pytest.mark.parametrize("kind", ["throttle", "server_error", "timeout", "http_error", "drop"])
def test_every_fault_kind_is_retried_to_the_same_tables(tmp_path: Any, tiktok: Any, kind: str) -> None:
    sandbox, account = tiktok
    runtime = _runtime(tmp_path, sandbox, account)
    _connect(runtime, sandbox, account)
    sandbox.faults.add(kind, endpoint="report_integrated_get", after=3, times=2)
    sleeps: list[float] = []

    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy(sleeps))).status == "ok"

    assert sandbox.faults.count(kind) == 2 and len(sleeps) == 2
    if kind == "throttle":
        assert min(sleeps) >= 1.0  # 40100: at least a second before asking again
    assert performance_mismatches(_stored(runtime), account.performance_rows()) == []


def test_an_expired_token_marks_the_integration_and_reconnecting_resumes(tmp_path: Any, tiktok: Any) -> None:
    sandbox, account = tiktok
    runtime = _runtime(tmp_path, sandbox, account, ads_chunk_days=8)
    _connect(runtime, sandbox, account)
    sandbox.faults.add("token_expired", endpoint="report_integrated_get", after=4, times=1)

    assert (
        sync_ads(runtime, PLATFORM, account.brand_id,
                 options=RunOptions(today=TODAY, policy=_policy())).status == "needs_reauth"
    )
    assert runtime.warehouse.rows("SELECT status FROM integrations")[0]["status"] == "needs_reauth"

    _connect(runtime, sandbox, account)
    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy())).status == "ok"
    assert performance_mismatches(_stored(runtime), account.performance_rows()) == []


def test_random_faults_end_in_the_same_tables_as_a_fault_free_run(tmp_path: Any, tiktok: Any) -> None:
    sandbox, account = tiktok
    clean = _runtime(tmp_path / "clean", sandbox, account)
    _connect(clean, sandbox, account)
    sync_ads(clean, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    faulty = _runtime(tmp_path / "faulty", sandbox, account, ads_page_size=13, ads_chunk_days=7)
    _connect(faulty, sandbox, account)
    sandbox.faults.randomize(21, 0.3, ["throttle", "server_error", "timeout", "http_error", "drop"])

    for _attempt in range(6):
        try:
            if (
                sync_ads(faulty, PLATFORM, account.brand_id,
                         options=RunOptions(today=TODAY, policy=_policy(attempts=3))).status
                == "ok"
            ):
                break
        except RetriesExhausted:
            continue
    sandbox.faults.clear()

    assert sandbox.faults.count() > 5
    assert _stored(faulty) == _stored(clean)


def test_since_and_full_choose_the_window_and_the_pipeline_gets_it(tmp_path: Any, tiktok: Any) -> None:
    from tower.sync.ads import sync_tiktok_brand

    sandbox, account = tiktok
    runtime = _runtime(tmp_path, sandbox, account, ads_history_days=10)
    _connect(runtime, sandbox, account)

    since = sync_ads(runtime, PLATFORM, account.brand_id, since=START,
                     options=RunOptions(today=TODAY, policy=_policy()))
    assert (since.accounts[0].window_start, since.accounts[0].window_end) == ("2026-09-17", "2026-10-11")
    assert performance_mismatches(_stored(runtime), account.performance_rows()) == []
    full = sync_ads(runtime, PLATFORM, account.brand_id, full=True,
                    options=RunOptions(today=TODAY, policy=_policy()))
    assert full.accounts[0].window_start == "2026-10-01"  # TOWER_ADS_HISTORY_DAYS back from tomorrow
    incremental = sync_ads(runtime, PLATFORM, account.brand_id,
                           options=RunOptions(today=TODAY, policy=_policy()))
    assert incremental.accounts[0].window_start == "2026-10-08"  # the cursor minus TikTok's 3 trailing days

    summary = sync_tiktok_brand(runtime, account.brand_id)
    assert summary["status"] == "ok" and summary["platform"] == "tiktok"
    assert summary["window_start"] < summary["window_end"] and summary["accounts"][0]["account_id"] == account.account_id
