"""The knobs of the models for one brand: settings, then the brand's overrides, checked once.

Every threshold the models use is a setting (``tower.config.Settings``); a brand may override any of them
through its own stored settings (``tower brands set``, the ``brand_settings`` table, which the runner
reads), over ``TOWER_MODEL_BRAND_OVERRIDES`` (``{"BRAND_ID": {"cover_low_days": 21}}``, kept as a
deployment-wide default), and a caller may pass ``overrides`` for one build. Unknown names and values
of the wrong type are refused with a message naming them, never silently ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

from tower.config import Settings

ATTRIBUTION_MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based")
#: attributed_orders' attribution_model of an order no campaign touched: one row that holds for every model
EVERY_MODEL = "all"


class ModelConfigError(ValueError):
    """A model setting or override has a value the models cannot use."""


@dataclass(frozen=True)
class ModelParameters:
    """The settings the SQL models read, for one brand (names match ``Settings`` fields)."""

    attribution_model: str = "last_touch"
    attribution_lookback_hours: int = 168
    attribution_half_life_hours: float = 72.0
    velocity_window_days: int = 30
    cover_low_days: float = 14.0
    cover_overstock_days: float = 90.0
    alignment_window_days: int = 30
    alignment_high_share: float = 0.15
    alignment_low_share: float = 0.05
    fulfillment_cost_per_order: float = 0.0
    snapshot_period_days: int = 7

    def __post_init__(self) -> None:
        if self.attribution_model not in ATTRIBUTION_MODELS:
            raise ModelConfigError(
                f"attribution_model={self.attribution_model!r}: must be one of {', '.join(ATTRIBUTION_MODELS)}"
            )
        positive = ("attribution_lookback_hours", "attribution_half_life_hours", "velocity_window_days",
                    "alignment_window_days", "snapshot_period_days")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ModelConfigError(f"{name}={getattr(self, name)!r}: must be greater than 0")
        for name in ("cover_low_days", "cover_overstock_days", "fulfillment_cost_per_order"):
            if getattr(self, name) < 0:
                raise ModelConfigError(f"{name}={getattr(self, name)!r}: must not be negative")
        for name in ("alignment_high_share", "alignment_low_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ModelConfigError(f"{name}={getattr(self, name)!r}: must be a share between 0 and 1")
        if self.cover_low_days > self.cover_overstock_days:
            raise ModelConfigError("cover_low_days must not exceed cover_overstock_days")

    @property
    def lookback_days(self) -> int:
        """Whole days the lookback spans, rounded up."""
        return math.ceil(self.attribution_lookback_hours / 24)

    @property
    def scan_days(self) -> int:
        """Days before a window's start that staging reads: the attribution lookback (plus a day each side
        for account timezones), the velocity window and the Monday that starts the window's first week."""
        return max(self.lookback_days + 2, self.velocity_window_days, 7)

    @classmethod
    def for_brand(
        cls, settings: Settings, brand_id: str, overrides: Mapping[str, Any] | None = None, *,
        stored: Mapping[str, Any] | None = None,
    ) -> ModelParameters:
        """Settings, then ``settings.model_brand_overrides[brand_id]`` (a deployment-wide default), then the
        brand's own stored settings (``stored``: ``tower brands set``, the ``brand_settings`` table), then
        ``overrides`` (a caller's, for one build)."""
        names = {f.name: f.type for f in fields(cls)}
        base = cls(**{name: getattr(settings, name) for name in names})
        for source, layer in (
            ("TOWER_MODEL_BRAND_OVERRIDES", settings.model_brand_overrides.get(brand_id, {})),
            ("brand settings", stored or {}),
            ("overrides", overrides or {}),
        ):
            unknown = sorted(set(layer) - set(names))
            if unknown:
                raise ModelConfigError(f"{source} for brand {brand_id}: unknown model settings {unknown}")
            typed: dict[str, Any] = {}
            for name, value in layer.items():
                current = getattr(base, name)
                try:
                    typed[name] = type(current)(value)
                except (TypeError, ValueError) as e:
                    raise ModelConfigError(f"{source} for brand {brand_id}: {name}={value!r} ({e})") from e
                if isinstance(current, int) and typed[name] != float(value):
                    raise ModelConfigError(f"{source} for brand {brand_id}: {name}={value!r} must be whole")
            base = replace(base, **typed)
        return base

    def sql_params(
        self, brand_id: str, window_start: date, window_end: date, as_of_date: date
    ) -> dict[str, Any]:
        """The ``@params`` every model file may use (unused ones are ignored by the warehouse)."""
        return {
            "brand_id": brand_id,
            "window_start": window_start,
            "window_end": window_end,
            "as_of_date": as_of_date,
            "scan_days": self.scan_days,
            "lookback_hours": int(self.attribution_lookback_hours),
            "half_life_hours": float(self.attribution_half_life_hours),
            "attribution_model": self.attribution_model,
            "velocity_days": int(self.velocity_window_days),
            "cover_low_days": float(self.cover_low_days),
            "cover_overstock_days": float(self.cover_overstock_days),
            "alignment_days": int(self.alignment_window_days),
            "high_share": float(self.alignment_high_share),
            "low_share": float(self.alignment_low_share),
            "fulfillment_cost_per_order": float(self.fulfillment_cost_per_order),
            "period_days": int(self.snapshot_period_days),
        }

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for the data version and reports)."""
        return asdict(self)


def week_start(day: date) -> date:
    """The Monday on or before a date (reconciliation weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())
