"""The budget write path: change a campaign's daily budget on its platform, within bounds, audited.

``set_campaign_budget`` is what Accept (``apply_budget_change``) calls. On each platform it uses the
real write API through the connector:

* Meta: ``POST /{campaign_id}`` with ``daily_budget`` in minor units (campaign budgets; a campaign
  whose budgets live on its ad sets is refused, not guessed at);
* TikTok: ``POST /open_api/v1.3/campaign/update/`` with ``budget`` (``BUDGET_MODE_DAY`` campaigns);
* Google Ads: ``CampaignBudgetService.MutateCampaignBudgets`` with ``amount_micros`` (a budget shared
  with other campaigns is refused).

It is idempotent: the change id (given, or derived from the request) is the key of its audit row
in ``budget_changes``; a change already applied is not applied again, and a budget already at the
target counts as applied. Before touching the platform it records the current budget (status
``failed`` with detail ``applying``), so a crash between the platform call and the audit update
still leaves the before-amount on record for the retry. Changes larger than
``TOWER_BUDGET_MAX_CHANGE_PCT`` (default ±50 %) in one step are refused with a clear error and
audited as ``refused``.

It can be a compare-and-set: given ``expected_before`` (the budget the change was decided on), it
reads the platform's current budget first and refuses with :class:`BudgetConflict` (audited as
``refused``, naming both amounts) when they differ, so a budget someone else moved since is never
overwritten with a change decided on the old one. :func:`read_campaign_budget` is the same read on
its own (Meta ``GET /{campaign_id}?fields=daily_budget``, TikTok ``campaign/get``, Google Ads
``campaign_budget.amount_micros`` by GAQL).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from tower.connectors.ads_records import minor_digits
from tower.connectors.retry import FatalError, NeedsReauth, RetriesExhausted, RetryPolicy
from tower.sync.ads import (
    AdSyncUsageError,
    check_platform,
    default_policy,
    google_developer_token,
    integrations,
    mark_integration,
    normalise_account_id,
    open_connector,
)

if TYPE_CHECKING:  # pragma: no cover
    from tower.runtime import Runtime

log = logging.getLogger("tower.connectors.budgets")


class BudgetRefused(ValueError):
    """The change was refused before reaching the platform (bounds, no budget, not connected)."""

    def __init__(self, message: str, change: BudgetChange | None = None) -> None:
        super().__init__(message)
        self.change = change


class BudgetChangeFailed(RuntimeError):
    """The platform did not take the change (rejected it, or the token needs re-authorisation)."""

    def __init__(self, message: str, change: BudgetChange | None = None) -> None:
        super().__init__(message)
        self.change = change


class BudgetConflict(BudgetRefused):
    """The platform's budget is not the one the change was decided on: someone else moved it since.

    Attributes:
        recorded: The budget the change expected to find (major units).
        current: The budget the platform holds now.
    """

    def __init__(
        self, message: str, change: BudgetChange | None = None, *, recorded: Decimal, current: Decimal
    ) -> None:
        super().__init__(message, change)
        self.recorded = recorded
        self.current = current


@dataclass
class BudgetChange:
    """One row of ``budget_changes``."""

    brand_id: str
    change_id: str
    platform: str
    account_id: str
    campaign_id: str
    before_amount: Decimal | None
    after_amount: Decimal | None
    currency: str | None
    recommendation_id: str | None
    requested_by: str | None
    status: str  # applied | refused | failed | dry_run | undone
    detail: str | None
    created_at: datetime


def change_id_for(
    brand_id: str,
    platform: str,
    account_id: str,
    campaign_id: str,
    amount: Decimal,
    recommendation_id: str | None,
) -> str:
    """A stable idempotency key for one requested change."""
    raw = "|".join(
        [brand_id, platform, account_id, campaign_id, str(amount.normalize()), recommendation_id or ""]
    )
    return "bc_" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise BudgetRefused(f"new daily budget {value!r} is not a number") from e
    if not amount.is_finite() or amount <= 0:
        raise BudgetRefused(f"new daily budget must be greater than 0, not {value}")
    return amount


def _record(runtime: Runtime, change: BudgetChange) -> BudgetChange:
    runtime.warehouse.merge("budget_changes", [asdict(change)], ["brand_id", "change_id"])
    log.info(
        json.dumps(
            {
                "severity": "INFO",
                "event": "budget_change",
                "brand_id": change.brand_id,
                "platform": change.platform,
                "campaign_id": change.campaign_id,
                "status": change.status,
                "before": change.before_amount,
                "after": change.after_amount,
            },
            default=str,
        )
    )
    return change


def _minor(currency: str) -> Decimal:
    """The currency's minor unit as a quantum (USD ``0.01``, JPY ``1``)."""
    return Decimal(1).scaleb(-minor_digits(currency))


def _recorded(value: Any, currency: str) -> Decimal:
    """A recorded budget (a float from a document, a Decimal from the audit) to the currency's minor unit."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise BudgetRefused(f"the recorded daily budget {value!r} is not a number") from e
    if not amount.is_finite():
        raise BudgetRefused(f"the recorded daily budget {value!r} is not a number")
    return amount.quantize(_minor(currency), rounding=ROUND_HALF_EVEN)


def _integration(runtime: Runtime, brand_id: str, platform: str, account_id: str) -> dict[str, Any] | None:
    return next(
        (r for r in integrations(runtime, brand_id, platform) if r["account_id"] == account_id), None
    )


def _not_connected(platform: str, account_id: str, integ: dict[str, Any] | None) -> str | None:
    """Why the account cannot be used (None: it can)."""
    if integ is None:
        return f"{platform} account {account_id} is not connected"
    if integ["status"] != "active":
        return f"{platform} account {account_id} needs re-authorisation"
    return None


def _connect(
    runtime: Runtime, platform: str, account_id: str, integ: dict[str, Any], policy: RetryPolicy | None
) -> Any:
    return open_connector(
        platform,
        runtime.settings,
        token=runtime.secrets.get(integ["secret_ref"]),
        account_id=account_id,
        policy=policy or default_policy(),
        login_customer_id=integ.get("login_customer_id"),
        developer_token=google_developer_token(runtime) if platform == "google_ads" else "",
    )


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
    integ = _integration(runtime, brand_id, platform, account_id)
    problem = _not_connected(platform, account_id, integ)
    if problem or integ is None:
        raise BudgetRefused(problem or f"{platform} account {account_id} is not connected")
    connector = _connect(runtime, platform, account_id, integ, policy)
    try:
        current = connector.get_daily_budget(campaign_id)
        if current is None:
            return None
        return Decimal(current).quantize(_minor(connector.account_info().currency), rounding=ROUND_HALF_EVEN)
    except NeedsReauth as e:
        mark_integration(runtime, brand_id, platform, account_id, status="needs_reauth")
        raise BudgetChangeFailed(f"needs re-authorisation: {e}") from e
    except FatalError as e:
        raise BudgetChangeFailed(str(e)) from e
    finally:
        connector.close()


def _existing(runtime: Runtime, brand_id: str, change_id: str) -> dict[str, Any] | None:
    rows = runtime.warehouse.rows(
        "SELECT * FROM budget_changes WHERE brand_id = @brand_id AND change_id = @change_id",
        {"brand_id": brand_id, "change_id": change_id},
    )
    return rows[0] if rows else None


def set_campaign_budget(
    runtime: Runtime,
    platform: str,
    brand_id: str,
    account_id: str,
    campaign_id: str,
    new_daily_budget: Decimal | float | str,
    *,
    change_id: str | None = None,
    recommendation_id: str | None = None,
    requested_by: str | None = None,
    max_change_pct: float | None = None,
    expected_before: Decimal | float | str | None = None,
    dry_run: bool = False,
    policy: RetryPolicy | None = None,
) -> BudgetChange:
    """Set a campaign's daily budget (major units of the account currency) on its platform.

    Args:
        expected_before: The budget the change was decided on. When given, the platform's current
            budget must be exactly this (to the currency's minor unit), else nothing is written.

    Returns:
        The audit row (status ``applied`` or ``dry_run``).

    Raises:
        BudgetConflict: The platform's budget is not ``expected_before`` (audited as ``refused``).
        BudgetRefused: Not connected, no campaign budget of its own, or beyond the bounds (audited).
        BudgetChangeFailed: The platform rejected it or the token needs re-authorisation (audited).
        RetriesExhausted: The platform kept failing; calling again with the same change id is safe.
    """
    check_platform(platform)
    account_id = normalise_account_id(platform, account_id)
    amount = _amount(new_daily_budget)
    change_id = change_id or change_id_for(
        brand_id, platform, account_id, campaign_id, amount, recommendation_id
    )
    existing = _existing(runtime, brand_id, change_id)
    # An applied change is done. A dry run is never answered from the audit: it exists to show
    # the platform's budget now, which may have moved since the last one.
    if existing and existing["status"] == "applied" and not dry_run:
        return BudgetChange(**{k: existing[k] for k in BudgetChange.__dataclass_fields__})
    limit = runtime.settings.budget_max_change_pct if max_change_pct is None else max_change_pct
    now = existing["created_at"] if existing else datetime.now(UTC)
    integ = _integration(runtime, brand_id, platform, account_id)
    change = BudgetChange(
        brand_id,
        change_id,
        platform,
        account_id,
        campaign_id,
        None,
        amount,
        integ["account_currency"] if integ else None,
        recommendation_id,
        requested_by,
        "refused",
        None,
        now,
    )
    problem = _not_connected(platform, account_id, integ)
    if problem or integ is None:
        change.detail = problem
        raise BudgetRefused(str(problem), _record(runtime, change))
    connector = _connect(runtime, platform, account_id, integ, policy)
    try:
        currency = connector.account_info().currency
        change.currency = currency
        amount = amount.quantize(_minor(currency), rounding=ROUND_HALF_EVEN)
        change.after_amount = amount
        current = connector.get_daily_budget(campaign_id)
        # Only an earlier attempt of this very change that may have reached the platform (status
        # failed) keeps its before-amount: a refused one (a conflict, the bounds) never moved it,
        # and its before-amount may be the stale value that was refused.
        attempted = bool(existing) and existing["status"] == "failed" and existing.get("before_amount") is not None
        before = existing["before_amount"] if attempted else current
        change.before_amount = before
        if current is None or current <= 0:
            change.detail = (
                f"campaign {campaign_id} has no daily budget of its own on {platform} "
                "(ad set budgets or no budget limit): change it on the platform"
            )
            raise BudgetRefused(change.detail, _record(runtime, change))
        if expected_before is not None:
            expected = _recorded(expected_before, currency)
            # the platform at the target after an attempt of this change is that attempt's write landing
            landed = attempted and current == amount
            if current != expected and not landed:
                change.before_amount = current
                change.detail = (
                    f"the daily budget of {platform} campaign {campaign_id} is {current} {currency} on the "
                    f"platform, not the recorded {expected}: it was changed since (on the platform or by "
                    "another change), so nothing was changed"
                )
                raise BudgetConflict(
                    change.detail, _record(runtime, change), recorded=expected, current=current
                )
            if not attempted:
                before = change.before_amount = expected
        if current == amount:
            change.status, change.detail = "applied", "already at the target budget"
            return _record(runtime, change)
        step = abs(amount - before) / before * 100 if before else Decimal("Infinity")
        if step > Decimal(str(limit)):
            change.detail = (
                f"a change from {before} to {amount} {currency} is {step:.1f}% in one step; "
                f"the limit is ±{limit:g}% (TOWER_BUDGET_MAX_CHANGE_PCT)"
            )
            raise BudgetRefused(change.detail, _record(runtime, change))
        if dry_run:
            change.status, change.detail = "dry_run", "not applied (dry run)"
            return _record(runtime, change)
        change.status, change.detail = "failed", "applying"
        _record(runtime, change)  # the before-amount is on record before the platform moves
        connector.set_daily_budget(campaign_id, amount)
        after = connector.get_daily_budget(campaign_id)
        if after != amount:
            change.detail = f"{platform} reports {after} after setting {amount}"
            raise BudgetChangeFailed(change.detail, _record(runtime, change))
        change.status, change.detail = "applied", None
        _record(runtime, change)
        runtime.warehouse.merge(
            "ad_campaigns",
            [
                {
                    "brand_id": brand_id,
                    "platform": platform,
                    "account_id": account_id,
                    "campaign_id": campaign_id,
                    "daily_budget_amount": after,
                    "updated_at": datetime.now(UTC),
                }
            ],
            ["brand_id", "platform", "account_id", "campaign_id"],
        )
        return change
    except NeedsReauth as e:
        mark_integration(runtime, brand_id, platform, account_id, status="needs_reauth")
        change.status, change.detail = "failed", f"needs re-authorisation: {e}"
        raise BudgetChangeFailed(change.detail, _record(runtime, change)) from e
    except RetriesExhausted as e:
        change.status, change.detail = "failed", str(e)
        _record(runtime, change)
        raise
    except FatalError as e:
        change.status, change.detail = "failed", str(e)
        raise BudgetChangeFailed(change.detail, _record(runtime, change)) from e
    finally:
        connector.close()


__all__ = [
    "AdSyncUsageError",
    "BudgetChange",
    "BudgetChangeFailed",
    "BudgetConflict",
    "BudgetRefused",
    "read_campaign_budget",
    "set_campaign_budget",
]
