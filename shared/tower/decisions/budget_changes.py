"""A budget change's shapes: the request, its audit row (``budget_changes``), why one was refused, and the
errors of the actions on a card (Accept, Undo) that the API and the CLI name.

Kept apart from the write path (:mod:`tower.decisions.budget_writes`, which brings the platform
connectors and pyarrow) so that Accept, Undo and the API can name them without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tower.fingerprints import digest

HANDLER = "apply_budget_change"
"""The task every accepted card runs (a budget change, or a promotion's Shopify discount)."""


class ActionError(ValueError):
    """The action does not apply to the recommendation in its current state (CLI exit 2, HTTP 409/400)."""


class ConflictError(ActionError):
    """The platform's budget is not the one the action was decided on, or a later change must go first.

    Attributes:
        code: ``budget_changed`` (a budget is not the recorded one) or ``later_change_applied``
            (an Undo of a change with a later change on the same campaign still applied).
        conflicts: One entry per campaign: ``platform``, ``account_id``, ``campaign_id``,
            ``recorded`` and ``current`` (amounts), and for ``later_change_applied`` the later
            change's ``later_change_id`` and ``later_recommendation_id``.
    """

    def __init__(self, message: str, code: str, conflicts: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.code = code
        self.conflicts = conflicts


def _utc_now() -> datetime:
    return datetime.now(UTC)


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


@dataclass(frozen=True)
class BudgetRequest:
    """One requested change of a campaign's daily budget.

    Attributes:
        new_daily_budget: The target, in major units of the account currency.
        change_id: The idempotency key (None: derived from the request, :func:`change_id_for`).
        max_change_pct: The one-step bound (None: ``TOWER_BUDGET_MAX_CHANGE_PCT``).
        expected_before: The budget the change was decided on. When given, the platform's current
            budget must be exactly this (to the currency's minor unit), else nothing is written.
        dry_run: Check everything, change nothing (audited as ``dry_run``).
    """

    platform: str
    brand_id: str
    account_id: str
    campaign_id: str
    new_daily_budget: Decimal | float | str
    change_id: str | None = None
    recommendation_id: str | None = None
    requested_by: str | None = None
    max_change_pct: float | None = None
    expected_before: Decimal | float | str | None = None
    dry_run: bool = False


@dataclass(kw_only=True)
class BudgetChange:
    """One row of ``budget_changes``."""

    brand_id: str
    change_id: str
    platform: str
    account_id: str
    campaign_id: str
    before_amount: Decimal | None = None
    after_amount: Decimal | None = None
    currency: str | None = None
    recommendation_id: str | None = None
    requested_by: str | None = None
    status: str = "refused"  # applied | refused | failed | dry_run | undone
    detail: str | None = None
    created_at: datetime = field(default_factory=_utc_now)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BudgetChange:
        """The audit row as stored."""
        return cls(**{f.name: row[f.name] for f in fields(cls)})


def change_id_for(
    brand_id: str,
    platform: str,
    account_id: str,
    campaign_id: str,
    amount: Decimal,
    recommendation_id: str | None,
) -> str:
    """A stable idempotency key for one requested change (six parts: every one names the change)."""
    raw = "|".join(
        [brand_id, platform, account_id, campaign_id, str(amount.normalize()), recommendation_id or ""]
    )
    return "bc_" + digest(raw, 24)
