"""How numbers are written in every sentence the product produces (rules, narrator, answers).

One home for the formats, because the grounding check (:mod:`tower.ai.grounding`) accepts a number
in a text when it equals a figure of the data *within the rounding the text shows*: a sentence
written with these helpers is grounded by construction when its inputs come from the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tower.connectors.geo import subdivisions

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$"}
CHANNEL_NAMES = {"meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads", "google": "Google Ads"}


def currency_symbol(currency: str) -> str:
    """The symbol written before amounts of this currency (the ISO code and a space when unknown)."""
    return _SYMBOLS.get(currency.upper(), f"{currency.upper()} ") if currency else "$"


def money(amount: float, currency: str = "USD", *, cents: bool | None = None) -> str:
    """``$1,234`` (whole units from 100 up), ``$12.50`` below 100 unless told otherwise.

    Negative amounts are written without sign: sentences say "cut" or "down" instead.
    """
    value = abs(float(amount))
    show_cents = (value < 100 and value != int(value)) if cents is None else cents
    text = f"{value:,.2f}" if show_cents else f"{round(value):,}"
    return f"{currency_symbol(currency)}{text}"


def pct(value: float, decimals: int = 0) -> str:
    """A percentage already in percent units (35.0 → ``35%``), without sign."""
    v = abs(float(value))
    if decimals == 0 and 0 < v < 1:
        decimals = 1  # "0%" for a real 0.4% change would read as no change at all
    return f"{v:,.{decimals}f}%"


def share_pct(fraction: float, decimals: int = 0) -> str:
    """A fraction written as a percentage (0.35 → ``35%``)."""
    return pct(float(fraction) * 100.0, decimals)


def multiple(roas: float) -> str:
    """A ROAS multiple (``2.1×``), one decimal."""
    return f"{float(roas):.1f}×"


def days(value: float | None) -> str:
    """Days of cover (``8 days``); no velocity means cover without end."""
    if value is None or math.isinf(value):
        return "no recent sales"
    v = float(value)
    if v < 10 and v != round(v):
        return f"{v:.1f} days"
    n = round(v)
    return f"{n:,} day" if n == 1 else f"{n:,} days"


def units(value: float) -> str:
    """A count of stock units (``45 units``)."""
    n = round(float(value))
    return f"{n:,} unit" if n == 1 else f"{n:,} units"


def per_day(value: float) -> str:
    """A sales velocity (``15 units/day``), one decimal below 10."""
    v = float(value)
    text = f"{v:.1f}" if v < 10 and v != round(v) else f"{round(v):,}"
    return f"{text} units/day"


def channel_name(channel: str) -> str:
    """The channel as people write it (``tiktok`` → ``TikTok``)."""
    return CHANNEL_NAMES.get(channel, channel.replace("_", " ").title())


def possessive(name: str) -> str:
    """``TikTok's``, ``Google Ads'``."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def region_name(region_code: str) -> str:
    """A region for sentences (``US-TX`` → ``Texas``); '' is all regions.

    The names are the ISO 3166-2 subdivisions the connectors map (``tower.connectors.geo``), so a
    sentence names a region the way the page's charts do. A code we do not map reads as itself.
    Structured fields (an alert's ``region``, the API's region codes) keep the code.
    """
    if not region_code:
        return "all regions"
    sub = subdivisions().get(region_code.upper())
    return sub.name if sub else region_code


def region_names(region_codes: Sequence[str]) -> str:
    """Regions for sentences, joined: ``["US-CA", "US-TX"]`` → ``California and Texas``."""
    return join_words([region_name(c) for c in region_codes if c])


def join_words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
