"""Fixtures of the decisions tests: a runtime on the local adapters and a budget write path double."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tower.config import Settings
from tower.decisions.budget_changes import BudgetChange, BudgetRefused, BudgetRequest
from tower.runtime import Runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(Settings(
        warehouse="duckdb:///:memory:", store=f"local:///{tmp_path}/store.sqlite", bus=f"local:///{tmp_path}/bus.sqlite",
        tasks=f"local:///{tmp_path}/tasks.sqlite", secrets=f"local:///{tmp_path}/secrets",
    ))
    rt.warehouse.init_schema()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rt.warehouse.merge("brands", [{"brand_id": "acme-candles", "brand_name": "Acme Candles",
                                   "timezone": "America/New_York", "currency": "USD", "created_at": now,
                                   "updated_at": now}], ["brand_id"])
    yield rt
    rt.close()


class PlatformDouble:
    """Stands in for ``set_campaign_budget`` against one platform: budgets, bounds, idempotency, audit.

    The real write path (SDKs against the ad sandboxes) is tested by the ad issue; this double keeps
    the decisions tests about decisions.
    """

    def __init__(self, budgets: dict[str, float], max_change_pct: float = 50.0) -> None:
        self.budgets = dict(budgets)
        self.max_change_pct = max_change_pct
        self.audit: dict[str, BudgetChange] = {}
        self.calls: list[dict[str, Any]] = []

    def __call__(self, runtime: Runtime, request: BudgetRequest) -> BudgetChange:
        campaign_id, new_daily_budget, dry_run = request.campaign_id, request.new_daily_budget, request.dry_run
        self.calls.append({"campaign_id": campaign_id, "new": new_daily_budget, "change_id": request.change_id,
                           "dry_run": dry_run})
        key = request.change_id or f"dry-{campaign_id}-{new_daily_budget}"
        if key in self.audit and self.audit[key].status in ("applied", "dry_run"):
            return self.audit[key]
        before = Decimal(str(self.budgets[campaign_id]))
        after = Decimal(str(new_daily_budget))
        change = BudgetChange(brand_id=request.brand_id, change_id=key, platform=request.platform,
                              account_id=request.account_id, campaign_id=campaign_id, before_amount=before,
                              after_amount=after, currency="USD", recommendation_id=request.recommendation_id,
                              requested_by=request.requested_by, created_at=datetime(2026, 11, 23, tzinfo=UTC))
        if abs(after - before) / before * 100 > Decimal(str(self.max_change_pct)):
            change.detail = f"a change from {before} to {after} is beyond ±{self.max_change_pct:g}%"
            self.audit[key] = change
            raise BudgetRefused(change.detail, change)
        change.status = "dry_run" if dry_run else "applied"
        if not dry_run:
            self.budgets[campaign_id] = float(after)
        self.audit[key] = change
        return change


@pytest.fixture
def platform() -> PlatformDouble:
    return PlatformDouble({"789": 200.0, "790": 100.0, "456": 40.0})
