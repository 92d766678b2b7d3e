"""Model settings per brand: settings, then the brand's overrides, each checked with a clear message."""

from __future__ import annotations

from datetime import date

import pytest

from tower.analytics.parameters import ModelConfigError, ModelParameters, week_start
from tower.config import Settings


def test_defaults_are_the_product_plans() -> None:
    p = ModelParameters.for_brand(Settings(), "any")
    assert (p.attribution_model, p.attribution_lookback_hours) == ("last_touch", 168)
    assert (p.cover_low_days, p.cover_overstock_days, p.velocity_window_days) == (14.0, 90.0, 30)
    assert (p.alignment_high_share, p.alignment_low_share) == (0.15, 0.05)
    assert p.scan_days == 30  # the velocity window is the longest look back


def test_brand_overrides_win_and_explicit_overrides_win_over_them() -> None:
    settings = Settings(cover_low_days=10, model_brand_overrides={"b1": {"cover_low_days": 21, "velocity_window_days": 60}})
    assert ModelParameters.for_brand(settings, "b2").cover_low_days == 10
    b1 = ModelParameters.for_brand(settings, "b1")
    assert (b1.cover_low_days, b1.velocity_window_days) == (21, 60)
    assert ModelParameters.for_brand(settings, "b1", {"cover_low_days": 7}).cover_low_days == 7


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWER_MODEL_BRAND_OVERRIDES", '{"b1": {"attribution_model": "linear"}}')
    monkeypatch.setenv("TOWER_ATTRIBUTION_LOOKBACK_HOURS", "72")
    p = ModelParameters.for_brand(Settings(), "b1")
    assert (p.attribution_model, p.attribution_lookback_hours, p.scan_days) == ("linear", 72, 30)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"attribution_model": "data_driven"}, "attribution_model"),
        ({"velocity_window_days": 7.5}, "must be whole"),
        ({"velocity_window_days": 0}, "greater than 0"),
        ({"alignment_high_share": 15}, "share between 0 and 1"),
        ({"cover_low_days": 120}, "must not exceed"),
        ({"lookback": 24}, "unknown model settings"),
        ({"cover_low_days": "soon"}, "cover_low_days"),
    ],
)
def test_bad_overrides_are_refused_by_name(override: dict, message: str) -> None:
    with pytest.raises(ModelConfigError, match=message):
        ModelParameters.for_brand(Settings(), "b1", override)


def test_sql_params_and_weeks() -> None:
    p = ModelParameters(attribution_lookback_hours=900)
    params = p.sql_params("b1", date(2024, 5, 1), date(2024, 6, 1), date(2024, 5, 31))
    assert params["scan_days"] == 40  # ceil(900 / 24) + 2 for account timezones, beyond the 30-day velocity
    assert params["lookback_hours"] == 900 and params["as_of_date"] == date(2024, 5, 31)
    assert week_start(date(2024, 5, 12)) == date(2024, 5, 6)  # a Sunday belongs to the week of Monday the 6th
    assert week_start(date(2024, 5, 6)) == date(2024, 5, 6)
