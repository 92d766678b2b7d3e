"""Accept through the real budget write path: the SDKs against the ad sandboxes, audited, undoable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tower.decisions import budget_actions
from tower.decisions.budget_actions import accept, preview, undo
from tower.decisions.inputs import CampaignRef, PerformanceRow
from tower.decisions.rules import apply_rules
from tower.decisions.scoring import rank
from tower.decisions.store import find_recommendation, save_recommendations
from tower.decisions.thresholds import RuleThresholds
from tower.sandbox.ad_sandbox import (
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
