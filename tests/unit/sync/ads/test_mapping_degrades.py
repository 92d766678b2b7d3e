"""Degrade, don't drop: a failed read that only maps campaigns to products never costs the spend.

Each platform through its real client (facebook-business, requests, google-ads over gRPC) against its
sandbox, with the sandbox refusing only the mapping reads the way the platform does (Graph error 200,
TikTok 40001 in the envelope, Google ``PERMISSION_DENIED`` with a ``GoogleAdsFailure``): every spend
row is stored all the same, the campaigns are stored without products (they count as promoting
unknown products), the integration carries the warning with its fix and stays active, and the next
sync that reads the mapping puts the products back and clears the warning.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tower.analytics.models import compose
from tower.brands import add_brand
from tower.connectors.retry import RetryPolicy
from tower.names import AD_PLATFORMS
from tower.sync.ads import MAPPING_WARNING, sync_ads
from tower.sync.health import integration_health, problems
from tower.sync.outcomes import record_outcome, standing_warnings
from tower.sync.run import RunOptions
from tower_dev.sandboxes import google_ads_grpc, meta_graph, tiktok_business
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    connect_sandbox_account,
    performance_mismatches,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox
from tower_dev.sandboxes.meta_graph.server import MetaSandbox
from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox

# A Canadian store in Toronto, not the demo: its own brand, seed, currency and time zone.
BRAND = "maple-goods"
START = date(2026, 8, 3)
TODAY = date(2026, 8, 16)
NOW = datetime(2026, 8, 16, 15, 0, tzinfo=UTC)
SANDBOX = {"meta": MetaSandbox, "tiktok": TikTokSandbox, "google_ads": GoogleAdsSandbox}
MAPPING_ENDPOINTS = {"meta": meta_graph.server.MAPPING_ENDPOINTS, "tiktok": tiktok_business.server.MAPPING_ENDPOINTS,
                     "google_ads": google_ads_grpc.server.MAPPING_ENDPOINTS}
# What each platform answers when refused, as the warning quotes it.
REFUSAL = {"meta": "Meta error 200", "tiktok": "TikTok error 40001", "google_ads": "PERMISSION_DENIED"}


def _sandboxes(platform: str, sandbox: Any) -> AdSandboxes:
    return AdSandboxes(**{p: (sandbox if p == platform else None) for p in AD_PLATFORMS})


def _overrides(platform: str, sandbox: Any) -> dict[str, str]:
    return {"meta": {"meta_api_origin": getattr(sandbox, "origin", "")},
            "tiktok": {"tiktok_api_origin": getattr(sandbox, "origin", "")},
            "google_ads": {"google_ads_endpoint": getattr(sandbox, "endpoint", "")}}[platform]


@pytest.fixture(params=AD_PLATFORMS)
def setup(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[str, Any, Any, Any]]:
    """(platform, sandbox, account, runtime): one connected account of that platform."""
    platform = request.param
    [account] = [a for a in sample_accounts(seed=47, brand_id=BRAND, start=START, days=14, campaigns=3,
                                            currency="CAD", timezone="America/Toronto")
                 if a.platform == platform]
    account.today = TODAY  # Google's click_view counts its 90 days back from the test's today, not the machine's
    sandbox = SANDBOX[platform]([account])
    runtime = sandbox_runtime(tmp_path, None, ads_history_days=14, ads_page_size=30,
                              **_overrides(platform, sandbox))
    # The brand's Shopify products (the Shopify sync's job): destination URLs match their handles, so the
    # ads' URL reads run too and are refused too.
    runtime.warehouse.insert("products", [
        {"brand_id": BRAND, "product_id": pid, "handle": ref["handle"], "is_active": True}
        for pid, ref in account.catalog.items()])
    add_brand(runtime.warehouse, brand_id=BRAND, name="Maple Goods", timezone="America/Toronto", currency="CAD",
              now=NOW)
    connect_sandbox_account(runtime, _sandboxes(platform, sandbox), account)
    yield platform, sandbox, account, runtime
    runtime.close()
    sandbox.stop()


def _sync(runtime: Any, platform: str) -> Any:
    policy = RetryPolicy(sleep=lambda s: None, rng=random.Random(0), attempts=3)
    return sync_ads(runtime, platform, BRAND, options=RunOptions(today=TODAY, policy=policy, now=lambda: NOW))


def _stored(runtime: Any, platform: str) -> list[dict[str, Any]]:
    return runtime.warehouse.rows("SELECT * EXCEPT (synced_at) FROM ad_performance WHERE platform = @p",
                                  {"p": platform})


def _mapped(runtime: Any, platform: str) -> set[tuple[str, str]]:
    """The campaigns' products as the models read them: the platform's product sets and Shopping items, and
    the destination handles matched to the store's products at build time."""
    return {(r["campaign_id"], r["product_id"]) for r in runtime.warehouse.rows(
        compose("int_ads__promoted_products"), {"brand_id": BRAND}) if r["platform"] == platform}


def test_refused_mapping_reads_keep_every_spend_row_and_warn_until_a_sync_reads_them(setup: Any) -> None:
    platform, sandbox, account, runtime = setup
    truth = {(cid, p["product_id"]) for cid, ps in account.products.items() for p in ps}
    first = _sync(runtime, platform)
    assert first.status == "ok" and _mapped(runtime, platform) == truth

    sandbox.fail_mapping_reads()
    result = _sync(runtime, platform)

    # Every spend row served is stored, and nothing else.
    assert result.status == "ok", result.as_dict()
    stored = _stored(runtime, platform)
    assert performance_mismatches(stored, account.performance_rows(),
                                  purchases_by_country=platform == "meta") == []
    assert {r["currency"] for r in stored} == {"CAD"} and len(stored) > 100
    # The refusal was served the platform's way, to mapping reads only.
    served = {endpoint for endpoint, kind in sandbox.faults.served}
    assert served and served <= set(MAPPING_ENDPOINTS[platform])
    # Campaigns kept, with no products: they promote unknown products now.
    campaigns = runtime.warehouse.rows("SELECT campaign_id, daily_budget_amount FROM ad_campaigns WHERE platform = @p",
                                       {"p": platform})
    assert {c["campaign_id"] for c in campaigns} == set(account.campaigns)
    assert _mapped(runtime, platform) == set()
    [acct] = result.accounts
    assert acct.unmapped_campaigns == 3 and acct.error is None
    # The warning is on the integration, which stays active (no reconnect asked of anyone).
    [warning] = standing_warnings(runtime.store, BRAND, platform, account.account_id)
    assert warning["code"] == MAPPING_WARNING and REFUSAL[platform] in warning["message"]
    assert "3 campaign(s) count as promoting unknown products" in warning["message"]
    assert f"tower connect {platform} --brand {BRAND} --account {account.account_id}" in warning["fix"]
    integration = runtime.warehouse.rows("SELECT status FROM integrations WHERE platform = @p", {"p": platform})
    assert integration == [{"status": "active"}]
    record_outcome(runtime.store, BRAND, platform, result.as_dict(), NOW)
    [health] = integration_health(runtime.warehouse, runtime.store, now=NOW)
    assert not health.needs_reconnect and health.last_error is None
    assert health.warnings == [f"{warning['message']}. Fix: {warning['fix']}"]  # the sync's and the standing one, once
    assert [line for line in problems([health], NOW) if "warning:" in line] == [
        f"{BRAND} {platform} {account.account_id}: warning: {warning['message']}. Fix: {warning['fix']}"]

    # A later sync reads the mapping: the products are back and the warning is gone.
    sandbox.faults.clear()
    again = _sync(runtime, platform)
    assert again.status == "ok" and again.accounts[0].warnings == []
    assert _mapped(runtime, platform) == truth
    assert standing_warnings(runtime.store, BRAND, platform, account.account_id) == []
    record_outcome(runtime.store, BRAND, platform, again.as_dict(), NOW)
    assert integration_health(runtime.warehouse, runtime.store, now=NOW)[0].warnings == []


def test_google_account_without_shopping_data_still_syncs_its_spend(tmp_path: Any) -> None:
    [account] = [a for a in sample_accounts(seed=5, brand_id=BRAND, start=START, days=14)
                 if a.platform == "google_ads"]
    account.today = TODAY
    sandbox = GoogleAdsSandbox([account])
    try:
        runtime = sandbox_runtime(tmp_path, None, ads_history_days=14, **_overrides("google_ads", sandbox))
        connect_sandbox_account(runtime, _sandboxes("google_ads", sandbox), account)
        sandbox.fail_mapping_reads("account_type")
        result = _sync(runtime, "google_ads")
        assert result.status == "ok"
        assert performance_mismatches(_stored(runtime, "google_ads"), account.performance_rows()) == []
        [warning] = standing_warnings(runtime.store, BRAND, "google_ads", account.account_id)
        assert "account type does not allow" in warning["message"]
        assert sandbox.faults.served == [("search_stream:shopping_performance_view", "account_type")]
        runtime.close()
    finally:
        sandbox.stop()


def test_a_named_fault_does_not_consume_the_faults_of_any_request() -> None:
    """The Google sandbox draws twice per query; the second draw sees only faults named for it."""
    from tower_dev.sandboxes.ad_sandbox import FaultPlan

    plan = FaultPlan().add("quota", times=1)
    assert plan.draw("search_stream:campaign", named_only=True) is None
    assert plan.draw("search_stream") == "quota"
    plan.deny("permission_denied", ["search_stream:ad_group_ad"])
    assert [plan.draw("search_stream:ad_group_ad", named_only=True) for _ in range(3)] == ["permission_denied"] * 3
    assert plan.draw("search_stream") is None
    plan.clear()
    assert plan.draw("search_stream:ad_group_ad", named_only=True) is None
