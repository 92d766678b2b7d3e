"""The Google Ads connector (google-ads SDK over gRPC) against the gRPC sandbox."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from tower.connectors.google_ads.client import is_loopback
from tower.connectors.google_ads.streams import GoogleAdsConnector
from tower.connectors.retry import FatalError, RetriesExhausted, RetryPolicy
from tower.sync.ads import sync_ads
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    connect_sandbox_account,
    performance_mismatches,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox

TODAY = date(2026, 10, 10)
START = date(2026, 9, 17)
PLATFORM = "google_ads"


class _Sandboxes(AdSandboxes):
    def settings_overrides(self) -> dict[str, str]:
        return {"google_ads_endpoint": self.google_ads.endpoint}


@pytest.fixture
def google() -> Any:
    [account] = [a for a in sample_accounts(seed=13, start=START, days=24) if a.platform == PLATFORM]
    sandbox = GoogleAdsSandbox([account], batch_size=40)
    yield sandbox, account
    sandbox.stop()


def _runtime(tmp_path: Any, sandbox: GoogleAdsSandbox, **overrides: Any) -> Any:
    return sandbox_runtime(tmp_path, _Sandboxes(None, None, sandbox), **{"ads_history_days": 24, **overrides})


def _connect(runtime: Any, sandbox: GoogleAdsSandbox, account: Any) -> str:
    return connect_sandbox_account(runtime, _Sandboxes(None, None, sandbox), account)


def _policy(sleeps: list[float] | None = None, attempts: int = 6) -> RetryPolicy:
    return RetryPolicy(
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        rng=random.Random(0),
        attempts=attempts,
    )


def _stored(runtime: Any) -> list[dict[str, Any]]:
    return runtime.warehouse.rows(
        "SELECT * EXCEPT (synced_at) FROM ad_performance WHERE platform = 'google_ads' "
        "ORDER BY campaign_id, stat_date, country_code, region_code"
    )


def test_full_sync_equals_what_google_served(tmp_path: Any, google: Any) -> None:
    sandbox, account = google
    runtime = _runtime(tmp_path, sandbox)
    _connect(runtime, sandbox, account)

    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy())).status == "ok"

    stored = _stored(runtime)
    assert performance_mismatches(stored, account.performance_rows()) == []
    tx = next(r for r in stored if r["region_code"] == "US-TX")
    assert tx["region_name"] == "geoTargetConstants/21176"
    assert {r["region_code"] for r in stored if r["country_code"] == "CA"} == {""}
    # Headers as Google requires them: a developer token on every call, the manager's login-customer-id.
    assert {m["has_developer_token"] for m in sandbox.metadata} == {"True"}
    assert {m.get("login-customer-id") for m in sandbox.metadata} == {"9876543210"}
    campaigns = runtime.warehouse.rows(
        "SELECT campaign_id, status, daily_budget_amount, budget_id FROM ad_campaigns ORDER BY 1"
    )
    assert [(c["campaign_id"], c["status"], c["daily_budget_amount"]) for c in campaigns] == [
        (cid, "ENABLED", account.campaigns[cid]["daily_budget_amount"]) for cid in sorted(account.campaigns)
    ]
    assert all(
        c["budget_id"].startswith(f"customers/{account.account_id}/campaignBudgets/") for c in campaigns
    )
    products = runtime.warehouse.rows("SELECT campaign_id, product_id, source FROM ad_campaign_products")
    # Shopping item ids always; search ads' final URLs need the Shopify products (none loaded here).
    assert {(p["campaign_id"], p["product_id"], p["source"]) for p in products} == {
        (cid, p["product_id"], p["source"])
        for cid, ps in account.products.items()
        for p in ps
        if p["source"] == "shopping_item"
    }


def test_queries_stream_in_many_batches_and_a_second_run_changes_nothing(tmp_path: Any, google: Any) -> None:
    sandbox, account = google
    sandbox.batch_size = 7
    runtime = _runtime(tmp_path, sandbox)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    first = _stored(runtime)
    assert len(account.performance_rows()) * 2 > 7 * 50  # user_location_view rows come in > 50 batches

    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    assert _stored(runtime) == first
    assert performance_mismatches(first, account.performance_rows()) == []


def test_late_conversions_inside_the_conversion_window_are_picked_up(tmp_path: Any, google: Any) -> None:
    sandbox, account = google
    runtime = _runtime(tmp_path, sandbox, google_ads_trailing_days=14)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id,
             options=RunOptions(today=TODAY - timedelta(days=1), policy=_policy()))

    account.add_late_conversions(TODAY - timedelta(days=10), seed=4)
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    assert performance_mismatches(_stored(runtime), account.performance_rows()) == []
    query = (
        sandbox.queries[-1][1]
        if "user_location_view" in sandbox.queries[-1][1]
        else next(q for _c, q in reversed(sandbox.queries) if "user_location_view" in q)
    )
    assert f"'{(TODAY - timedelta(days=14)).isoformat()}' AND '{TODAY.isoformat()}'" in query


@pytest.mark.parametrize("kind", ["quota", "internal", "unavailable", "stream_break"])
def test_every_fault_kind_is_retried_to_the_same_tables(tmp_path: Any, google: Any, kind: str) -> None:
    sandbox, account = google
    runtime = _runtime(tmp_path, sandbox, ads_chunk_days=8)
    _connect(runtime, sandbox, account)
    sandbox.faults.add(kind, endpoint="search_stream", after=4, times=2)
    sleeps: list[float] = []

    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy(sleeps))).status == "ok"

    assert sandbox.faults.count(kind) == 2 and len(sleeps) == 2
    if kind == "quota":
        assert min(sleeps) >= 3.0  # QuotaErrorDetails.retry_delay said 3 s
    # A stream broken after its first batch is re-run whole: nothing counted twice.
    assert performance_mismatches(_stored(runtime), account.performance_rows()) == []


def test_an_expired_token_marks_the_integration_and_reconnecting_resumes(tmp_path: Any, google: Any) -> None:
    sandbox, account = google
    runtime = _runtime(tmp_path, sandbox, ads_chunk_days=8)
    _connect(runtime, sandbox, account)
    sandbox.faults.add("token_expired", endpoint="search_stream", after=4, times=1)

    assert (
        sync_ads(runtime, PLATFORM, account.brand_id,
                 options=RunOptions(today=TODAY, policy=_policy())).status == "needs_reauth"
    )
    state = runtime.warehouse.rows("SELECT status, checkpoint FROM sync_state")[0]
    assert state["status"] == "needs_reauth" and state["checkpoint"]

    _connect(runtime, sandbox, account)
    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy())).status == "ok"
    assert performance_mismatches(_stored(runtime), account.performance_rows()) == []


def test_random_faults_end_in_the_same_tables_as_a_fault_free_run(tmp_path: Any, google: Any) -> None:
    sandbox, account = google
    clean = _runtime(tmp_path / "clean", sandbox)
    _connect(clean, sandbox, account)
    sync_ads(clean, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    faulty = _runtime(tmp_path / "faulty", sandbox, ads_chunk_days=3)
    _connect(faulty, sandbox, account)
    sandbox.faults.randomize(5, 0.4, ["quota", "internal", "unavailable", "stream_break"])

    for _attempt in range(10):
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

    assert sandbox.faults.count() > 3
    assert _stored(faulty) == _stored(clean)


def test_a_query_google_would_refuse_is_fatal(google: Any) -> None:
    sandbox, account = google
    connector = GoogleAdsConnector(
        sandbox.issue_token(account.account_id),
        account.account_id,
        developer_token="d",
        login_customer_id=None,
        endpoint=sandbox.endpoint,
        version="v26",
        policy=_policy(),
    )
    try:
        with pytest.raises(FatalError, match="UNRECOGNIZED|Unrecognized"):
            connector.client.search(account.account_id, "SELECT campaign.id, metrics.nonsense FROM campaign")
        with pytest.raises(FatalError, match="segments.date"):
            connector.client.search(
                account.account_id,
                "SELECT campaign.id, segments.date, metrics.clicks FROM user_location_view",
            )
    finally:
        connector.close()


def test_the_channel_is_plaintext_only_on_loopback() -> None:
    assert is_loopback("127.0.0.1:50051") and is_loopback("localhost:1") and is_loopback("[::1]:9")
    assert not is_loopback("googleads.googleapis.com:443")
