"""Accept through the real budget write path: the SDKs against the ad sandboxes, audited, undoable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tower.decisions import budget_actions
from tower.decisions.budget_actions import ConflictError, accept, preview, undo
from tower.decisions.budget_writes import read_campaign_budget
from tower.decisions.inputs import CampaignRef, PerformanceRow
from tower.decisions.rules import apply_rules
from tower.decisions.scoring import rank
from tower.decisions.store import find_recommendation, save_recommendations
from tower.decisions.thresholds import RuleThresholds
from tower_dev.sandboxes.ad_sandbox import (
    connect_sandbox_account,
    sample_accounts,
    sandbox_runtime,
    start_ad_sandboxes,
)

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


@pytest.fixture
def platforms(tmp_path: Path) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    accounts = sample_accounts(seed=21, start=date(2026, 10, 1), days=5)
    sandboxes = start_ad_sandboxes(accounts)
    runtime = sandbox_runtime(tmp_path, sandboxes, ads_history_days=5)
    for a in accounts:
        connect_sandbox_account(runtime, sandboxes, a)
    budget_actions.register(runtime)
    yield runtime, sandboxes, {a.platform: a for a in accounts}
    runtime.close()
    sandboxes.stop()


def _recommend(runtime: Any, account: Any) -> dict[str, Any]:
    """A reduce_spend on one sandbox campaign (the plan's rule-1 numbers), stored as the recommend step would."""
    cid = min(account.campaigns)
    budget = float(account.campaigns[cid]["daily_budget_amount"])
    camp = CampaignRef(account.platform, account.account_id, cid, "sandbox campaign", budget, account.currency, 5000.0)
    row = PerformanceRow("gid://shopify/Product/1", "SKU-A", account.platform, "US-CA", 5000.0, 10500.0, 0.35, 8.0,
                         120.0, 15.0, 12.0, 40.0, "loc-1", (camp,))
    (rec,) = rank(apply_rules([row], account.brand_id, "USD", RuleThresholds(max_step_pct=50.0)), date(2026, 11, 23))
    card = rec.to_dict()
    save_recommendations(runtime.store, account.brand_id, rec.week, "v1", [card], NOW)
    return card


def _budget(account: Any, cid: str) -> Decimal:
    return Decimal(str(account.campaigns[cid]["daily_budget_amount"]))


@pytest.mark.parametrize("platform", ["meta", "tiktok", "google_ads"])
def test_accept_changes_the_platform_budget_once_and_undo_restores_it(platforms: Any, platform: str) -> None:
    runtime, _sandboxes, accounts = platforms
    account = accounts[platform]
    card = _recommend(runtime, account)
    (change,) = card["campaign_changes"]
    cid = change["campaign_id"]
    before = _budget(account, cid)

    plan = preview(runtime, card["id"])
    assert plan["changes"][0]["status"] == "dry_run" and _budget(account, cid) == before

    accept(runtime, card["id"], now=NOW)
    assert runtime.tasks.drain() == 1
    assert _budget(account, cid) == Decimal(str(change["proposed_daily_budget"])) != before
    audit = runtime.warehouse.rows("SELECT * FROM budget_changes WHERE status = 'applied'")
    assert [(r["campaign_id"], r["recommendation_id"], r["before_amount"]) for r in audit] == [
        (cid, card["id"], before)]
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "applied"

    # a second Accept changes nothing
    assert accept(runtime, card["id"], now=NOW)["changed"] is False
    assert runtime.tasks.drain() == 0
    assert len(runtime.warehouse.rows("SELECT * FROM budget_changes WHERE status = 'applied'")) == 1

    undo(runtime, card["id"], now=NOW)
    runtime.tasks.drain()
    assert _budget(account, cid) == before
    statuses = sorted(r["status"] for r in runtime.warehouse.rows("SELECT status FROM budget_changes"))
    assert statuses == ["applied", "dry_run", "undone"]  # the undo's own row, the dry run, the original (undone)
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "undone"


# --- compare-and-set: stacked changes, budgets moved by someone else, concurrent Accepts -----------------


def _card(runtime: Any, account: Any, product: int, budgets: dict[str, Decimal] | None = None) -> dict[str, Any]:
    """A reduce_spend on both of the account's campaigns, made on the budgets the platform holds now
    (or on ``budgets``: what a sync saw before someone changed them), stored as the recommend step would."""
    cids = sorted(account.campaigns)
    seen = budgets or {cid: _budget(account, cid) for cid in cids}
    camps = tuple(CampaignRef(account.platform, account.account_id, cid, f"sandbox campaign {cid}", float(seen[cid]),
                              account.currency, spend) for cid, spend in zip(cids, (3000.0, 2000.0), strict=True))
    row = PerformanceRow(f"gid://shopify/Product/{product}", f"SKU-{product}", account.platform, "US-CA", 5000.0,
                         10500.0, 0.35, 8.0, 120.0, 15.0, 12.0, 40.0, "loc-1", camps)
    (rec,) = rank(apply_rules([row], account.brand_id, "USD", RuleThresholds(max_step_pct=50.0)), date(2026, 11, 23))
    card = rec.to_dict()
    save_recommendations(runtime.store, account.brand_id, rec.week, f"v{product}", [card], NOW)
    return card


def _budgets(account: Any) -> dict[str, Decimal]:
    return {cid: _budget(account, cid) for cid in sorted(account.campaigns)}


def _proposed(card: dict[str, Any]) -> dict[str, Decimal]:
    return {c["campaign_id"]: Decimal(str(c["proposed_daily_budget"])) for c in card["campaign_changes"]}


def _start_at(account: Any, amounts: tuple[str, str]) -> dict[str, Decimal]:
    """Set the platform's budgets (the issue's 495 and 283) before anyone acts."""
    for cid, amount in zip(sorted(account.campaigns), amounts, strict=True):
        account.campaigns[cid]["daily_budget_amount"] = Decimal(amount)
    return _budgets(account)


def _platform_writes(sandboxes: Any, platform: str) -> int:
    """Budget writes the platform received."""
    if platform == "meta":
        return sum(1 for m, _path, p in sandboxes.meta.calls if m == "POST" and "daily_budget" in p)
    if platform == "tiktok":
        return sum(1 for _m, path in sandboxes.tiktok.calls if path.endswith("/campaign/update/"))
    return sandboxes.google_ads.faults.requests.get("mutate_budgets", 0)


@pytest.mark.parametrize("platform", ["meta", "tiktok", "google_ads"])
def test_stacked_changes_undo_only_in_reverse_order_and_end_at_the_original_budgets(
        platforms: Any, platform: str) -> None:
    runtime, sandboxes, accounts = platforms
    account = accounts[platform]
    original = _start_at(account, ("495.00", "283.00"))

    first = _card(runtime, account, 1)
    accept(runtime, first["id"], now=NOW)
    runtime.tasks.drain()
    assert _budgets(account) == _proposed(first) != original
    second = _card(runtime, account, 2)  # made after the first was applied: on the first's budgets
    assert {c["current_daily_budget"] for c in second["campaign_changes"]} == {
        float(v) for v in _proposed(first).values()}
    accept(runtime, second["id"], now=NOW)
    runtime.tasks.drain()
    assert _budgets(account) == _proposed(second) != _proposed(first)
    writes = _platform_writes(sandboxes, platform)

    # the first cannot be undone while the second is applied on top of it: 409 naming the second
    with pytest.raises(ConflictError, match="undo that first") as e:
        undo(runtime, first["id"], now=NOW)
    assert e.value.code == "later_change_applied"
    assert {(k["campaign_id"], k["later_recommendation_id"]) for k in e.value.conflicts} == {
        (cid, second["id"]) for cid in account.campaigns}
    assert all(k["later_change_id"].startswith(second["id"]) for k in e.value.conflicts)
    assert runtime.tasks.drain() == 0 and _platform_writes(sandboxes, platform) == writes
    assert find_recommendation(runtime.store, first["id"])[1]["status"] == "applied"

    undo(runtime, second["id"], now=NOW)
    runtime.tasks.drain()
    assert _budgets(account) == _proposed(first)
    undo(runtime, first["id"], now=NOW)
    runtime.tasks.drain()
    assert _budgets(account) == original == {min(account.campaigns): Decimal("495.00"),
                                             max(account.campaigns): Decimal("283.00")}
    assert [find_recommendation(runtime.store, c["id"])[1]["status"] for c in (first, second)] == ["undone", "undone"]
    assert {r["status"] for r in runtime.warehouse.rows(
        "SELECT status FROM budget_changes WHERE change_id NOT LIKE '%undo%'")} == {"undone"}


@pytest.mark.parametrize("platform", ["meta", "tiktok", "google_ads"])
def test_a_budget_changed_on_the_platform_after_accept_stops_the_undo_naming_both_amounts(
        platforms: Any, platform: str) -> None:
    runtime, sandboxes, accounts = platforms
    account = accounts[platform]
    _start_at(account, ("495.00", "283.00"))
    card = _card(runtime, account, 1)
    accept(runtime, card["id"], now=NOW)
    runtime.tasks.drain()
    cid = min(account.campaigns)
    set_by_accept = _proposed(card)[cid]
    account.campaigns[cid]["daily_budget_amount"] = Decimal("512.34")  # someone, in the platform's own UI
    writes = _platform_writes(sandboxes, platform)

    with pytest.raises(ConflictError, match=r"is 512\.34 on the platform, not the recorded") as e:
        undo(runtime, card["id"], now=NOW)
    assert e.value.code == "budget_changed"
    assert [(k["campaign_id"], k["recorded"], k["current"]) for k in e.value.conflicts] == [
        (cid, float(set_by_accept), 512.34)]
    assert runtime.tasks.drain() == 0 and _platform_writes(sandboxes, platform) == writes
    assert _budget(account, cid) == Decimal("512.34")
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "applied"

    # once the budget is back where the Accept left it, the Undo goes through
    account.campaigns[cid]["daily_budget_amount"] = set_by_accept
    undo(runtime, card["id"], now=NOW)
    runtime.tasks.drain()
    assert _budgets(account) == {min(account.campaigns): Decimal("495.00"), max(account.campaigns): Decimal("283.00")}


def test_accept_refuses_a_recommendation_made_on_a_budget_that_has_moved(platforms: Any) -> None:
    runtime, sandboxes, accounts = platforms
    account = accounts["google_ads"]
    seen = _start_at(account, ("495.00", "283.00"))
    card = _card(runtime, account, 1, budgets=seen)
    cid = max(account.campaigns)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("300.00")

    assert preview(runtime, card["id"])["changes"][1]["status"] == "conflict"
    with pytest.raises(ConflictError, match=r"google_ads campaign \d+ is 300\.00 on the platform, not the recorded "
                                            r"283\.00") as e:
        accept(runtime, card["id"], now=NOW)
    assert [(k["recorded"], k["current"]) for k in e.value.conflicts] == [(283.0, 300.0)]
    assert runtime.tasks.drain() == 0 and _platform_writes(sandboxes, "google_ads") == 0
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "open"


def test_a_budget_moved_between_accept_and_its_task_is_not_overwritten(platforms: Any) -> None:
    runtime, sandboxes, accounts = platforms
    account = accounts["meta"]
    _start_at(account, ("495.00", "283.00"))
    card = _card(runtime, account, 1)
    accept(runtime, card["id"], now=NOW)
    cid = min(account.campaigns)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("450.00")  # before the queued task runs

    assert runtime.tasks.drain() == 1
    assert _budget(account, cid) == Decimal("450.00")
    assert _platform_writes(sandboxes, "meta") == 1  # the other campaign's, still on its recorded budget
    _, doc = find_recommendation(runtime.store, card["id"])
    assert doc["status"] == "failed"
    (moved,) = [c for c in doc["applied_changes"] if c["campaign_id"] == cid]
    assert moved["status"] == "conflict" and "is 450.00 USD on the platform, not the recorded 495.00" in moved["detail"]
    assert runtime.warehouse.rows(
        "SELECT status, before_amount FROM budget_changes WHERE campaign_id = @c", {"c": cid}) == [
        {"status": "refused", "before_amount": Decimal("450.00")}]


@pytest.mark.parametrize("platform", ["tiktok", "google_ads"])
def test_of_two_concurrent_accepts_one_changes_the_budget_and_the_other_answers_unchanged(
        platforms: Any, platform: str) -> None:
    runtime, sandboxes, accounts = platforms
    account = accounts[platform]
    _start_at(account, ("495.00", "283.00"))
    card = _card(runtime, account, 1)
    both_read = threading.Barrier(2, timeout=30)

    def reader(*args: Any, **kwargs: Any) -> Any:
        # both Accepts have passed their first look at the card (open) before either reads the platform
        both_read.wait()
        return read_campaign_budget(*args, **kwargs)

    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda _: accept(runtime, card["id"], reader=reader, now=NOW), range(2)))

    assert sorted(o["changed"] for o in outs) == [False, True]
    (lost,) = [o for o in outs if not o["changed"]]
    assert lost["status"] == "accepting" and "task_id" not in lost
    assert runtime.tasks.drain() == 1
    assert _platform_writes(sandboxes, platform) == 2  # one write per campaign, once
    assert _budgets(account) == _proposed(card)
    assert find_recommendation(runtime.store, card["id"])[1]["applications"] == 1


def test_the_cli_undo_of_a_moved_budget_exits_2_naming_both_amounts(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tower.cli import app
    from tower.config import get_settings

    accounts = sample_accounts(seed=21, start=date(2026, 10, 1), days=5)
    sandboxes = start_ad_sandboxes(accounts)
    account = next(a for a in accounts if a.platform == "tiktok")
    settings = {"warehouse": f"duckdb:///{tmp_path}/w.duckdb", **sandboxes.settings_overrides()}
    runtime = sandbox_runtime(tmp_path, sandboxes, **settings)
    try:
        connect_sandbox_account(runtime, sandboxes, account)
        _start_at(account, ("495.00", "283.00"))
        card = _card(runtime, account, 1)
    finally:
        runtime.close()
    for name, value in {**settings, "store": f"local:///{tmp_path}/store.sqlite",
                        "bus": f"local:///{tmp_path}/bus.sqlite", "tasks": f"local:///{tmp_path}/tasks.sqlite",
                        "secrets": f"local:///{tmp_path}/secrets", "data_dir": str(tmp_path),
                        "google_ads_developer_token": "sandbox-developer-token"}.items():
        monkeypatch.setenv(f"TOWER_{name.upper()}", str(value))
    get_settings.cache_clear()
    try:
        accepted = CliRunner().invoke(app, ["recommendations", "accept", card["id"]])
        assert accepted.exit_code == 0, accepted.output
        assert _budgets(account) == _proposed(card)
        cid = min(account.campaigns)
        account.campaigns[cid]["daily_budget_amount"] = Decimal("512.34")  # someone, on the platform

        refused = CliRunner().invoke(app, ["recommendations", "undo", card["id"]])

        assert refused.exit_code == 2
        assert (f"tiktok campaign {cid} is 512.34 on the platform, not the recorded "
                f"{_proposed(card)[cid]:.2f}") in " ".join(refused.output.split())
        assert _budget(account, cid) == Decimal("512.34")
    finally:
        get_settings.cache_clear()
        sandboxes.stop()


def test_an_undo_that_met_a_moved_budget_can_be_retried_once_the_budget_is_back(platforms: Any) -> None:
    runtime, _sandboxes, accounts = platforms
    account = accounts["tiktok"]
    original = _start_at(account, ("495.00", "283.00"))
    card = _card(runtime, account, 1)
    accept(runtime, card["id"], now=NOW)
    runtime.tasks.drain()
    first = undo(runtime, card["id"], now=NOW)
    cid = min(account.campaigns)
    set_by_accept = _budget(account, cid)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("512.34")  # after the Undo passed its check

    runtime.tasks.drain()
    _, doc = find_recommendation(runtime.store, card["id"])
    assert doc["status"] == "failed"
    assert {r["campaign_id"]: r["status"] for r in doc["undo_results"]} == {cid: "conflict",
                                                                           max(account.campaigns): "applied"}
    assert _budget(account, cid) == Decimal("512.34")

    account.campaigns[cid]["daily_budget_amount"] = set_by_accept
    again = undo(runtime, card["id"], now=NOW)
    assert again["decision_id"] == first["decision_id"] + "_2"
    assert [c["campaign_id"] for c in again["changes"]] == [cid]  # the other one is already back
    runtime.tasks.drain()
    assert _budgets(account) == original
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "undone"
