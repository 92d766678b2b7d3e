"""The budget write path: change a campaign's daily budget on its platform, within bounds, audited.

:func:`set_campaign_budget` is what Accept and Undo (``apply_budget_change``) call, through each
connector's real write API (:mod:`tower.connectors.budgets`).

It is idempotent: the change id (given, or derived from the request) is the key of its audit row
in ``budget_changes``; a change already applied is not applied again, and a budget already at the
target counts as applied. Before touching the platform it records the current budget (status
``failed`` with detail ``applying``), so a crash between the platform call and the audit update
still leaves the before-amount on record for the retry. Changes larger than
``TOWER_BUDGET_MAX_CHANGE_PCT`` (default ±50 %) in one step are refused with a clear error and
audited as ``refused`` (:mod:`tower.decisions.budget_limits`).

It can be a compare-and-set: given ``expected_before`` (the budget the change was decided on), it
reads the platform's current budget first and refuses with :class:`BudgetConflict` (audited as
``refused``, naming both amounts) when they differ, so a budget someone else moved since is never
overwritten with a change decided on the old one. :func:`read_campaign_budget` is the same read on
its own. The request, the audit row and the errors are :mod:`tower.decisions.budget_changes`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tower.connectors.ad_platforms import AdConnector, AdSyncUsageError, check_platform, normalise_account_id
from tower.connectors.budgets import current_daily_budget, set_daily_budget, to_minor_unit
from tower.connectors.retry import FatalError, NeedsReauth, RetriesExhausted, RetryPolicy
from tower.decisions.budget_changes import (
    BudgetChange,
    BudgetChangeFailed,
    BudgetConflict,
    BudgetRefused,
    BudgetRequest,
    change_id_for,
)
from tower.decisions.budget_limits import beyond_limit
from tower.ports import Warehouse
from tower.runtime import Runtime
from tower.sync.ads import AccountTables, store_campaign_budget
from tower.sync.connect import integration, mark_integration, open_integration
from tower.sync.run import default_policy
from tower.sync.state import utc_now

log = logging.getLogger(__name__)

__all__ = [
    "AdSyncUsageError",
    "BudgetChange",
    "BudgetChangeFailed",
    "BudgetConflict",
    "BudgetRefused",
    "BudgetRequest",
    "change_id_for",
    "read_campaign_budget",
    "set_campaign_budget",
]


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise BudgetRefused(f"new daily budget {value!r} is not a number") from e
    if not amount.is_finite() or amount <= 0:
        raise BudgetRefused(f"new daily budget must be greater than 0, not {value}")
    return amount


def _recorded(value: Any, currency: str) -> Decimal:
    """A recorded budget (a float from a document, a Decimal from the audit) to the currency's minor unit."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise BudgetRefused(f"the recorded daily budget {value!r} is not a number") from e
    if not amount.is_finite():
        raise BudgetRefused(f"the recorded daily budget {value!r} is not a number")
    return to_minor_unit(amount, currency)


def _record(warehouse: Warehouse, change: BudgetChange) -> BudgetChange:
    warehouse.merge("budget_changes", [asdict(change)], ["brand_id", "change_id"])
    log.info("budget change", extra={
        "brand_id": change.brand_id, "platform": change.platform, "campaign_id": change.campaign_id,
        "status": change.status, "before": change.before_amount, "after": change.after_amount})
    return change


def _audit_row(warehouse: Warehouse, brand_id: str, change_id: str) -> dict[str, Any] | None:
    rows = warehouse.rows(
        "SELECT * FROM budget_changes WHERE brand_id = @brand_id AND change_id = @change_id",
        {"brand_id": brand_id, "change_id": change_id},
    )
    return rows[0] if rows else None


def _not_connected(platform: str, account_id: str, integ: dict[str, Any] | None) -> str | None:
    """Why the account cannot be used (None: it can)."""
    if integ is None:
        return f"{platform} account {account_id} is not connected"
    if integ["status"] != "active":
        return f"{platform} account {account_id} needs re-authorisation"
    return None


def read_campaign_budget(
    runtime: Runtime,
    platform: str,
    brand_id: str,
    account_id: str,
    campaign_id: str,
    *,
    policy: RetryPolicy | None = None,
) -> Decimal | None:
    """The campaign's daily budget on its platform now, read through the connector's SDK.

    Six parameters: the runtime, the four parts that name a campaign, and the retry policy.

    Returns:
        Major units of the account currency, to its minor unit; None when the campaign has no
        daily budget of its own (ad set budgets, no limit).

    Raises:
        BudgetRefused: The account is not connected (or needs re-authorisation).
        BudgetChangeFailed: The platform refused the read (unknown campaign, expired token).
        RetriesExhausted: The platform kept failing.
    """
    check_platform(platform)
    account_id = normalise_account_id(platform, account_id)
    integ = integration(runtime.warehouse, brand_id, platform, account_id)
    problem = _not_connected(platform, account_id, integ)
    if problem or integ is None:
        raise BudgetRefused(problem or f"{platform} account {account_id} is not connected")
    connector = open_integration(runtime, integ, policy or default_policy())
    try:
        return current_daily_budget(connector, campaign_id)
    except NeedsReauth as e:
        mark_integration(runtime.warehouse, brand_id, platform, account_id, utc_now(), status="needs_reauth")
        raise BudgetChangeFailed(f"needs re-authorisation: {e}") from e
    except FatalError as e:
        raise BudgetChangeFailed(str(e)) from e
    finally:
        connector.close()


def set_campaign_budget(runtime: Runtime, request: BudgetRequest, *, policy: RetryPolicy | None = None) -> BudgetChange:
    """Set a campaign's daily budget (major units of the account currency) on its platform.

    Returns:
        The audit row (status ``applied`` or ``dry_run``).

    Raises:
        BudgetConflict: The platform's budget is not ``expected_before`` (audited as ``refused``).
        BudgetRefused: Not connected, no campaign budget of its own, or beyond the bounds (audited).
        BudgetChangeFailed: The platform rejected it or the token needs re-authorisation (audited).
        RetriesExhausted: The platform kept failing; calling again with the same change id is safe.
    """
    check_platform(request.platform)
    account_id = normalise_account_id(request.platform, request.account_id)
    amount = _amount(request.new_daily_budget)
    change_id = request.change_id or change_id_for(
        request.brand_id, request.platform, account_id, request.campaign_id, amount, request.recommendation_id
    )
    existing = _audit_row(runtime.warehouse, request.brand_id, change_id)
    # An applied change is done. A dry run is never answered from the audit: it exists to show
    # the platform's budget now, which may have moved since the last one.
    if existing and existing["status"] == "applied" and not request.dry_run:
        return BudgetChange.from_row(existing)
    integ = integration(runtime.warehouse, request.brand_id, request.platform, account_id)
    change = BudgetChange(
        brand_id=request.brand_id, change_id=change_id, platform=request.platform, account_id=account_id,
        campaign_id=request.campaign_id, after_amount=amount, currency=integ["account_currency"] if integ else None,
        recommendation_id=request.recommendation_id, requested_by=request.requested_by,
        created_at=existing["created_at"] if existing else utc_now(),
    )
    problem = _not_connected(request.platform, account_id, integ)
    if problem or integ is None:
        change.detail = problem
        raise BudgetRefused(str(problem), _record(runtime.warehouse, change))
    limit = runtime.settings.budget_max_change_pct if request.max_change_pct is None else request.max_change_pct
    connector = open_integration(runtime, integ, policy or default_policy())
    try:
        return _BudgetWrite(runtime, connector, request, change, existing).run(limit)
    except NeedsReauth as e:
        mark_integration(runtime.warehouse, request.brand_id, request.platform, account_id, utc_now(),
                         status="needs_reauth")
        change.status, change.detail = "failed", f"needs re-authorisation: {e}"
        raise BudgetChangeFailed(change.detail, _record(runtime.warehouse, change)) from e
    except RetriesExhausted as e:
        change.status, change.detail = "failed", str(e)
        _record(runtime.warehouse, change)
        raise
    except FatalError as e:
        change.status, change.detail = "failed", str(e)
        raise BudgetChangeFailed(change.detail, _record(runtime.warehouse, change)) from e
    finally:
        connector.close()


@dataclass
class _BudgetWrite:
    """One change against the platform, once the account is connected: compare, bound, write, verify."""

    runtime: Runtime
    connector: AdConnector
    request: BudgetRequest
    change: BudgetChange
    existing: dict[str, Any] | None

    def run(self, limit_pct: float) -> BudgetChange:
        """Refuse (audited) or apply the change; the audit row says which."""
        change, platform, campaign_id = self.change, self.request.platform, self.request.campaign_id
        assert change.after_amount is not None
        currency = self.connector.account_info().currency
        change.currency = currency
        amount = change.after_amount = to_minor_unit(change.after_amount, currency)
        current = self.connector.get_daily_budget(campaign_id)
        # Only an earlier attempt of this very change that may have reached the platform (status
        # failed) keeps its before-amount: a refused one (a conflict, the bounds) never moved it,
        # and its before-amount may be the stale value that was refused.
        earlier = self.existing or {}
        attempted = earlier.get("status") == "failed" and earlier.get("before_amount") is not None
        before = earlier["before_amount"] if attempted else current
        change.before_amount = before
        if current is None or current <= 0:
            change.detail = (
                f"campaign {campaign_id} has no daily budget of its own on {platform} "
                "(ad set budgets or no budget limit): change it on the platform"
            )
            raise BudgetRefused(change.detail, self._record())
        if self.request.expected_before is not None:
            before = self._compare(current, currency, attempted)
        if current == amount:
            change.status, change.detail = "applied", "already at the target budget"
            return self._record()
        refusal = beyond_limit(before, amount, currency, limit_pct)
        if refusal:
            change.detail = refusal
            raise BudgetRefused(change.detail, self._record())
        if self.request.dry_run:
            change.status, change.detail = "dry_run", "not applied (dry run)"
            return self._record()
        return self._apply(amount)

    def _record(self) -> BudgetChange:
        return _record(self.runtime.warehouse, self.change)

    def _compare(self, current: Decimal, currency: str, attempted: bool) -> Decimal:
        """The compare of compare-and-set: the budget the step is measured from, or a conflict."""
        change = self.change
        expected = _recorded(self.request.expected_before, currency)
        # the platform at the target after an attempt of this change is that attempt's write landing
        landed = attempted and current == change.after_amount
        if current != expected and not landed:
            change.before_amount = current
            change.detail = (
                f"the daily budget of {self.request.platform} campaign {self.request.campaign_id} is {current} "
                f"{currency} on the platform, not the recorded {expected}: it was changed since (on the "
                "platform or by another change), so nothing was changed"
            )
            raise BudgetConflict(change.detail, self._record(), recorded=expected, current=current)
        if not attempted:
            change.before_amount = expected
        assert change.before_amount is not None
        return change.before_amount

    def _apply(self, amount: Decimal) -> BudgetChange:
        """Write, read back, audit, and keep the warehouse's copy of the budget in step."""
        change = self.change
        change.status, change.detail = "failed", "applying"
        self._record()  # the before-amount is on record before the platform moves
        after = set_daily_budget(self.connector, change.campaign_id, amount)
        if after != amount:
            change.detail = f"{change.platform} reports {after} after setting {amount}"
            raise BudgetChangeFailed(change.detail, self._record())
        change.status, change.detail = "applied", None
        self._record()
        tables = AccountTables(self.runtime.warehouse, change.brand_id, change.platform, change.account_id)
        store_campaign_budget(tables, change.campaign_id, after, utc_now())
        return change
