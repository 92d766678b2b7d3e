"""The numbers the rules and alerts compare against: settings, overridable per brand.

Defaults come from :class:`tower.config.Settings` (``TOWER_RULE_*``, ``TOWER_ALERT_*``); a brand
can override any field by name in its store document (``brands/{id}`` → ``thresholds``), e.g.
``{"reduce_roas_below": 2.0}``. Unknown names or wrong types are refused, never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from tower.config import Settings


class ThresholdError(ValueError):
    """A per-brand threshold override names an unknown field or has a value of the wrong type."""


@dataclass(frozen=True)
class RuleThresholds:
    """Thresholds of the product plan's three rules (Phase 4, step 4.2) and how changes are sized.

    Attributes:
        window_days: Days of performance the rules read (the plan's "last 30 days"): the alignment
            model's window (``TOWER_ALIGNMENT_WINDOW_DAYS``), so spend and shares are the model's own.
        reduce_roas_below: reduce_spend fires below this ROAS …
        reduce_cover_below_days: … and below this many days of cover …
        reduce_share_above: … and above this spend share (fraction).
        reduce_fraction: The cut, as a fraction of the row's spend (0.20 = 20%).
        increase_roas_above: increase_spend fires above this ROAS …
        increase_cover_above_days: … and above this many days of cover …
        increase_share_below: … and below this spend share (fraction).
        increase_fraction: The raise, as a fraction of the row's spend, before the stock cap.
        promotion_cover_above_days: promotion fires above this many days of cover; units beyond it
            count as excess stock.
        diminishing_returns_factor: Expected incremental revenue = added spend × ROAS × this factor
            (the next dollar earns less than the average one).
        horizon_days: Days over which stock must cover baseline demand plus the extra sales.
        max_step_pct: Largest change of one campaign's daily budget in one step (percent).
        min_daily_budget: No proposed daily budget goes below this (account currency).
        top_n: Recommendations kept per brand.
        min_spend: A product × channel × region row spending less over the window is not judged by
            the budget rules (a ROAS on a few dollars is noise, and a change there moves nothing).
    """

    window_days: int = 30
    reduce_roas_below: float = 2.5
    reduce_cover_below_days: float = 14.0
    reduce_share_above: float = 0.10
    reduce_fraction: float = 0.20
    increase_roas_above: float = 4.0
    increase_cover_above_days: float = 30.0
    increase_share_below: float = 0.10
    increase_fraction: float = 0.50
    promotion_cover_above_days: float = 90.0
    diminishing_returns_factor: float = 0.7
    horizon_days: int = 30
    max_step_pct: float = 50.0
    min_daily_budget: float = 1.0
    top_n: int = 5
    min_spend: float = 50.0

    @classmethod
    def from_settings(cls, settings: Settings, overrides: Mapping[str, Any] | None = None) -> RuleThresholds:
        """The settings' values, then the brand's overrides."""
        base = cls(
            window_days=settings.alignment_window_days,
            reduce_roas_below=settings.rule_reduce_roas_below,
            reduce_cover_below_days=settings.rule_reduce_cover_below_days,
            reduce_share_above=settings.rule_reduce_share_above,
            reduce_fraction=settings.rule_reduce_fraction,
            increase_roas_above=settings.rule_increase_roas_above,
            increase_cover_above_days=settings.rule_increase_cover_above_days,
            increase_share_below=settings.rule_increase_share_below,
            increase_fraction=settings.rule_increase_fraction,
            promotion_cover_above_days=settings.rule_promotion_cover_above_days,
            diminishing_returns_factor=settings.rule_diminishing_returns_factor,
            horizon_days=settings.rule_horizon_days,
            max_step_pct=settings.budget_max_change_pct,
            min_daily_budget=settings.budget_min_daily_amount,
            top_n=settings.recommend_top_n,
            min_spend=settings.rule_min_spend,
        )
        return apply_overrides(base, overrides)


@dataclass(frozen=True)
class AlertThresholds:
    """Thresholds of the four alert types.

    Attributes:
        roas_drop_ratio: roas_drop fires when this week's ROAS < ratio × the trailing average.
        roas_trailing_weeks: Weeks averaged (from their sums) before the current week.
        min_weekly_spend: Channels (or regions) spending less this week are too small to judge.
        roas_drop_min_z: A channel × region's drop must also exceed this many standard errors of the ROAS ratio,
            estimated from attributed order counts (√(1/orders + 1/trailing orders)): a region with
            a dozen orders a week swings 30% on its own.
        stockout_within_days: stockout_risk fires when an advertised product's cover is at most this.
        stockout_critical_days: Severity critical at or below this many days (inclusive: the plan's
            45 units at 15/day = 3 days is its own example of a critical alert, while the issue says
            "under 3 days"; the inclusive boundary satisfies both the example and the intent).
        stockout_high_days: Severity high at or below this many days.
        anomaly_z: spend_anomaly fires when the last day's robust z-score exceeds this.
        anomaly_lookback_days: Days before the judged day that define "recent range".
        anomaly_min_spend: Days spending less than this are not judged (noise).
    """

    roas_drop_ratio: float = 0.85
    roas_trailing_weeks: int = 4
    min_weekly_spend: float = 100.0
    roas_drop_min_z: float = 2.0
    stockout_within_days: float = 14.0
    stockout_critical_days: float = 3.0
    stockout_high_days: float = 7.0
    anomaly_z: float = 3.5
    anomaly_lookback_days: int = 28
    anomaly_min_spend: float = 50.0

    @classmethod
    def from_settings(cls, settings: Settings, overrides: Mapping[str, Any] | None = None) -> AlertThresholds:
        """The settings' values, then the brand's overrides."""
        base = cls(
            roas_drop_ratio=settings.alert_roas_drop_ratio,
            roas_trailing_weeks=settings.alert_roas_trailing_weeks,
            min_weekly_spend=settings.alert_min_weekly_spend,
            roas_drop_min_z=settings.alert_roas_drop_min_z,
            stockout_within_days=settings.alert_stockout_within_days,
            stockout_critical_days=settings.alert_stockout_critical_days,
            stockout_high_days=settings.alert_stockout_high_days,
            anomaly_z=settings.alert_spend_anomaly_z,
            anomaly_lookback_days=settings.alert_spend_anomaly_lookback_days,
            anomaly_min_spend=settings.alert_spend_anomaly_min_spend,
        )
        return apply_overrides(base, overrides)


def apply_overrides(base: Any, overrides: Mapping[str, Any] | None) -> Any:
    """``base`` with the named fields replaced; unknown names and non-numbers raise ThresholdError."""
    if not overrides:
        return base
    known = {f.name: f for f in fields(base)}
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in known:
            continue_names = ", ".join(sorted(known))
            raise ThresholdError(f"unknown threshold {name!r}; known: {continue_names}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ThresholdError(f"threshold {name!r} must be a number, not {value!r}")
        changes[name] = int(value) if known[name].type in ("int", int) else float(value)
    return replace(base, **changes)
