"""What the ``tower`` commands read before they work: the settings, dates, the brand, the runtime.

Each helper turns bad input into exit 2 with a one-line message (through :mod:`tower.cli.output`),
so a command body only sees values it can use.
"""

from __future__ import annotations

from datetime import date

from tower.brands import UnknownBrand, local_today
from tower.cli.output import fail_usage
from tower.config import ConfigError, Settings, get_settings
from tower.runtime import Runtime


def load_settings() -> Settings:
    """The settings from the environment; a bad one exits 2 naming it."""
    try:
        return get_settings()
    except (ConfigError, ValueError) as e:
        fail_usage(str(e))


def parse_date(value: str | None, option: str) -> date | None:
    """``value`` (YYYY-MM-DD) as a date, None when the option was not given; anything else exits 2."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail_usage(f"{option} must be a date like 2026-11-01, not {value!r}")


def open_runtime(*, read_only: bool = False) -> Runtime:
    """The runtime of a command; ``read_only`` for those that only read the warehouse (they may write the store)."""
    return Runtime(load_settings(), read_only=read_only)


def open_ai_runtime() -> Runtime:
    """The runtime of a command that may ask Claude (``summary``, ``ask``).

    Claude's calls are written to ``ai_usage`` (their cost), so only without an Anthropic key (the
    deterministic narrator answers) is the warehouse opened read-only.
    """
    settings = load_settings()
    return Runtime(settings, read_only=not settings.anthropic_api_key)


def brand_today(runtime: Runtime, brand_id: str, today: str | None) -> date:
    """``--today`` or the brand's local date now (the CLI is the edge where the clock is read).

    Exits 2 for an unknown brand or a bad date.
    """
    try:
        local = local_today(runtime.warehouse, brand_id)
    except UnknownBrand as e:
        fail_usage(str(e))
    return parse_date(today, "--today") or local


def require_brand(runtime: Runtime, brand_id: str) -> None:
    """Exit 2 unless the brand is registered in the warehouse."""
    if not runtime.warehouse.rows("SELECT brand_id FROM brands WHERE brand_id = @b", {"b": brand_id}):
        fail_usage(f"unknown brand {brand_id!r}: register it first (tower brands add --id {brand_id} ...)")
