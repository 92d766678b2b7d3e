"""How far a campaign's daily budget may move in one step: the ±``TOWER_BUDGET_MAX_CHANGE_PCT`` bound.

A change larger than the bound (default ±50 %) in one step is refused, whoever asks for it. An
Undo returns to a budget the campaign already had, so its bound is widened to exactly the step
back: reversing a 40 % cut is a 67 % raise.
"""

from __future__ import annotations

from decimal import Decimal


def step_pct(before: Decimal | None, after: Decimal) -> Decimal:
    """The size of a change in one step, in % of the budget before it (infinite from no budget)."""
    return abs(after - before) / before * 100 if before else Decimal("Infinity")


def beyond_limit(before: Decimal | None, after: Decimal, currency: str, limit_pct: float) -> str | None:
    """Why a change from ``before`` to ``after`` is refused, or None when it is within the bound."""
    step = step_pct(before, after)
    if step <= Decimal(str(limit_pct)):
        return None
    return (f"a change from {before} to {after} {currency} is {step:.1f}% in one step; "
            f"the limit is ±{limit_pct:g}% (TOWER_BUDGET_MAX_CHANGE_PCT)")


def undo_limit(current: float, target: float, limit_pct: float) -> float:
    """The bound an Undo from ``current`` back to ``target`` runs under: the setting, or exactly the
    step back when that is larger (plus 0.01 %, so rounding never refuses it)."""
    needed = abs(target - current) / current * 100 + 0.01
    return max(limit_pct, needed)
