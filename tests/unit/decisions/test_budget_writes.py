"""The budget write path on each platform's real write API (sandboxes), bounded and audited."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tower.connectors.retry import RetriesExhausted, RetryPolicy
from tower.decisions.budget_writes import (
    BudgetChangeFailed,
    BudgetConflict,
    BudgetRefused,
    BudgetRequest,
    read_campaign_budget,
    set_campaign_budget,
)
from tower.sync.ads import sync_ads
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    connect_sandbox_account,
    sample_accounts,
    sandbox_runtime,
    start_ad_sandboxes,
)

PLATFORMS = ("meta", "tiktok", "google_ads")


@pytest.fixture
def world(tmp_path: Any) -> Any:
    accounts = sample_accounts(seed=21, start=date(2026, 10, 1), days=5)
    sandboxes = start_ad_sandboxes(accounts)
    runtime = sandbox_runtime(tmp_path, sandboxes, ads_history_days=5)
    for a in accounts:
        connect_sandbox_account(runtime, sandboxes, a)
    yield runtime, sandboxes, {a.platform: a for a in accounts}
    runtime.close()
    sandboxes.stop()


def _policy() -> RetryPolicy:
    return RetryPolicy(sleep=lambda s: None, rng=random.Random(0))


def _audit(runtime: Any) -> list[dict[str, Any]]:
    return runtime.warehouse.rows("SELECT * FROM budget_changes ORDER BY created_at, change_id")


def _writes(sandboxes: Any, platform: str) -> int:
    """Budget writes the platform received."""
    if platform == "meta":
        return sum(1 for m, path, p in sandboxes.meta.calls if m == "POST" and "daily_budget" in p)
    if platform == "tiktok":
        return sum(1 for m, path in sandboxes.tiktok.calls if path.endswith("/campaign/update/"))
    return sandboxes.google_ads.faults.requests.get("mutate_budgets", 0)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_change_is_applied_on_the_platform_audited_and_seen_by_the_next_sync(
    world: Any, platform: str
) -> None:
    runtime, _sandboxes, accounts = world
    account = accounts[platform]
    cid = min(account.campaigns)
    before = account.campaigns[cid]["daily_budget_amount"]
    target = (before * Decimal("1.2")).quantize(Decimal("0.01"))

    change = set_campaign_budget(runtime, BudgetRequest(
        platform, account.brand_id, account.account_id, cid, target, recommendation_id="rec-1",
        requested_by="agency@example.com"), policy=_policy())

    assert (change.status, change.before_amount, change.after_amount) == ("applied", before, target)
    assert account.campaigns[cid]["daily_budget_amount"] == target  # the platform holds the new budget
    [row] = _audit(runtime)
    assert (
        row["status"],
        row["before_amount"],
        row["after_amount"],
        row["currency"],
        row["recommendation_id"],
    ) == ("applied", before, target, "USD", "rec-1")
    sync_ads(runtime, platform, account.brand_id,
             options=RunOptions(today=date(2026, 10, 5), policy=_policy()))
    stored = runtime.warehouse.rows(
        "SELECT daily_budget_amount FROM ad_campaigns WHERE campaign_id = @c", {"c": cid}
    )
    assert stored == [{"daily_budget_amount": target}]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_same_change_twice_is_applied_once(world: Any, platform: str) -> None:
    runtime, sandboxes, accounts = world
    account = accounts[platform]
    cid = max(account.campaigns)
    target = (account.campaigns[cid]["daily_budget_amount"] * Decimal("0.9")).quantize(Decimal("0.01"))

    first = set_campaign_budget(runtime, BudgetRequest(
        platform, account.brand_id, account.account_id, cid, target), policy=_policy())
    writes = _writes(sandboxes, platform)
    again = set_campaign_budget(runtime, BudgetRequest(
        platform, account.brand_id, account.account_id, cid, target), policy=_policy())

    assert again == first
    assert _writes(sandboxes, platform) == writes == 1
    assert len(_audit(runtime)) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_change_beyond_the_bounds_is_refused_clearly(world: Any, platform: str) -> None:
    runtime, sandboxes, accounts = world
    account = accounts[platform]
    cid = min(account.campaigns)
    before = account.campaigns[cid]["daily_budget_amount"]

    with pytest.raises(BudgetRefused, match=r"\d+\.\d% in one step; the limit is ±50%") as e:
        set_campaign_budget(runtime, BudgetRequest(
            platform, account.brand_id, account.account_id, cid, before * 2), policy=_policy())

    assert account.campaigns[cid]["daily_budget_amount"] == before
    assert _writes(sandboxes, platform) == 0
    [row] = _audit(runtime)
    assert (row["status"], row["before_amount"], row["after_amount"]) == ("refused", before, before * 2)
    assert e.value.change is not None and e.value.change.status == "refused"


def test_the_bound_is_a_setting_and_a_dry_run_touches_nothing(world: Any) -> None:
    runtime, _sandboxes, accounts = world
    account = accounts["meta"]
    cid = min(account.campaigns)
    before = account.campaigns[cid]["daily_budget_amount"]

    dry = set_campaign_budget(runtime, BudgetRequest(
        "meta", account.brand_id, account.account_id, cid, before * 2, max_change_pct=150, dry_run=True),
        policy=_policy())

    assert dry.status == "dry_run" and account.campaigns[cid]["daily_budget_amount"] == before


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "NaN"])
def test_a_budget_that_is_not_a_positive_number_is_refused(world: Any, amount: str) -> None:
    runtime, _sandboxes, accounts = world
    account = accounts["tiktok"]
    with pytest.raises(BudgetRefused, match="greater than 0|not a number"):
        set_campaign_budget(runtime, BudgetRequest(
            "tiktok", account.brand_id, account.account_id, min(account.campaigns), amount))


def test_campaigns_without_a_budget_of_their_own_are_refused(world: Any) -> None:
    runtime, _sandboxes, accounts = world
    account = accounts["meta"]
    cid = min(account.campaigns)
    account.campaigns[cid]["daily_budget_amount"] = None  # budgets on the ad sets

    with pytest.raises(BudgetRefused, match="no daily budget of its own"):
        set_campaign_budget(runtime, BudgetRequest(
            "meta", account.brand_id, account.account_id, cid, Decimal(10)), policy=_policy())


def test_a_brand_that_is_not_connected_is_refused(world: Any) -> None:
    runtime, _sandboxes, accounts = world
    with pytest.raises(BudgetRefused, match="not connected"):
        set_campaign_budget(runtime, BudgetRequest(
            "google_ads", "other_brand", accounts["google_ads"].account_id, "1", Decimal(10)))


def test_an_expired_token_fails_the_change_and_marks_the_integration(world: Any) -> None:
    runtime, sandboxes, accounts = world
    account = accounts["google_ads"]
    cid = min(account.campaigns)
    sandboxes.google_ads.faults.add("token_expired", endpoint="mutate_budgets")
    target = (account.campaigns[cid]["daily_budget_amount"] * Decimal("1.1")).quantize(Decimal("0.01"))

    with pytest.raises(BudgetChangeFailed, match="re-authorisation"):
        set_campaign_budget(runtime, BudgetRequest(
            "google_ads", account.brand_id, account.account_id, cid, target), policy=_policy())

    assert runtime.warehouse.rows("SELECT status FROM integrations WHERE platform = 'google_ads'") == [
        {"status": "needs_reauth"}
    ]
    assert [r["status"] for r in _audit(runtime)] == ["failed"]


def test_importing_the_ad_connectors_loads_no_vendor_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tower.sync.ads, tower.decisions.budget_writes, tower.connectors.meta.streams, "
        "tower.connectors.tiktok.streams, tower.connectors.google_ads.streams; "
        "print(sorted(m for m in ('facebook_business', 'google.ads.googleads.client', 'grpc', 'requests') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_current_budget_is_read_through_the_platform(world: Any, platform: str) -> None:
    runtime, sandboxes, accounts = world
    account = accounts[platform]
    cid = max(account.campaigns)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("539.79")

    current = read_campaign_budget(runtime, platform, account.brand_id, account.account_id, cid, policy=_policy())

    assert current == Decimal("539.79") and current.as_tuple().exponent == -2
    assert _writes(sandboxes, platform) == 0 and _audit(runtime) == []
    with pytest.raises(BudgetRefused, match="not connected"):
        read_campaign_budget(runtime, platform, "other_brand", account.account_id, cid)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_budget_that_is_not_the_expected_one_is_not_overwritten(world: Any, platform: str) -> None:
    runtime, sandboxes, accounts = world
    account = accounts[platform]
    cid = min(account.campaigns)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("539.79")  # changed by someone since it was recorded

    with pytest.raises(BudgetConflict, match=r"is 539\.79 USD on the platform, not the recorded 495\.00") as e:
        set_campaign_budget(runtime, BudgetRequest(
            platform, account.brand_id, account.account_id, cid, Decimal("568.52"), expected_before=495.0,
            change_id="c-1"), policy=_policy())

    assert (e.value.recorded, e.value.current) == (Decimal("495.00"), Decimal("539.79"))
    assert account.campaigns[cid]["daily_budget_amount"] == Decimal("539.79") and _writes(sandboxes, platform) == 0
    [row] = _audit(runtime)
    assert (row["status"], row["before_amount"], row["after_amount"]) == ("refused", Decimal("539.79"),
                                                                          Decimal("568.52"))
    # the same change, once the platform holds the expected budget again, applies (and records the right before)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("495.00")
    change = set_campaign_budget(runtime, BudgetRequest(
        platform, account.brand_id, account.account_id, cid, Decimal("539.79"), expected_before="495",
        change_id="c-1"), policy=_policy())
    assert (change.status, change.before_amount) == ("applied", Decimal("495.00"))
    assert account.campaigns[cid]["daily_budget_amount"] == Decimal("539.79")


def test_a_retry_after_the_write_landed_counts_as_applied_not_as_a_conflict(world: Any) -> None:
    runtime, sandboxes, accounts = world
    account = accounts["tiktok"]
    cid = min(account.campaigns)
    before = account.campaigns[cid]["daily_budget_amount"]
    target = (before * Decimal("1.1")).quantize(Decimal("0.01"))
    # the first attempt's write reached TikTok, then the read-back kept failing
    sandboxes.tiktok.faults.add("server_error", endpoint="campaign_get", after=1, times=20)
    with pytest.raises(RetriesExhausted):
        set_campaign_budget(runtime, BudgetRequest(
            "tiktok", account.brand_id, account.account_id, cid, target, expected_before=before,
            change_id="c-2"), policy=_policy())
    assert account.campaigns[cid]["daily_budget_amount"] == target
    sandboxes.tiktok.faults.clear()

    change = set_campaign_budget(runtime, BudgetRequest(
        "tiktok", account.brand_id, account.account_id, cid, target, expected_before=before, change_id="c-2"),
        policy=_policy())

    assert (change.status, change.before_amount, change.after_amount) == ("applied", before, target)
    assert _writes(sandboxes, "tiktok") == 1
