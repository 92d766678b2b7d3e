"""Daily exchange rates for every currency pair the world uses, in both directions.

Convention (the ``fx_rates`` DDL): one row means ``1 base_currency = rate quote_currency``. Both
directions are present for each pair, so a model converts with a plain join and never inverts;
the two rates of a day are each other's reciprocal rounded to 6 decimals.

Rates are a seeded random walk around recent levels per currency against USD; each currency's
path depends only on the seed and the currency, not on which brands exist.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from tower_dev.world.schema import arrow, build_table, dates
from tower_dev.world.timezones import epoch_day

# Units of the currency per 1 USD, late-2026-ish levels; only the shape matters.
USD_LEVELS = {"USD": 1.0, "CAD": 1.37, "EUR": 0.92, "GBP": 0.79, "AUD": 1.52}
_CURRENCY_STREAM = {c: i for i, c in enumerate(sorted(USD_LEVELS))}


def usd_paths(seed: int, currencies: list[str], first: date, n_days: int) -> dict[str, np.ndarray]:
    """Units of each currency per USD for ``n_days`` days from ``first``."""
    out = {}
    for cur in currencies:
        if cur not in USD_LEVELS:
            raise ValueError(f"no FX level for currency {cur!r}")
        if cur == "USD":
            out[cur] = np.ones(n_days)
            continue
        rng = np.random.default_rng([seed, 90_000 + _CURRENCY_STREAM[cur]])
        steps = rng.normal(0.0, 0.003, n_days)  # ~0.3 % a day, like a major pair
        walk = np.cumsum(steps)
        walk -= walk.mean()  # stay around the level whatever the length
        out[cur] = USD_LEVELS[cur] * np.exp(walk)
    return out


def fx_table(seed: int, currencies: list[str], first: date, n_days: int) -> tuple[pa.Table, dict]:
    """The ``fx_rates`` table and a lookup ``{(base, quote): np.ndarray of daily rates}``.

    Returns an empty table when only one currency is in use.
    """
    currencies = sorted(set(currencies))
    paths = usd_paths(seed, currencies, first, n_days)
    days = np.arange(n_days) + epoch_day(first)
    cols: dict[str, list[np.ndarray]] = {"rate_date": [], "base": [], "quote": [], "rate": []}
    lookup: dict[tuple[str, str], np.ndarray] = {}
    for base in currencies:
        for quote in currencies:
            if base == quote:
                continue
            rate = np.round(paths[quote] / paths[base], 6)
            lookup[(base, quote)] = rate
            cols["rate_date"].append(days)
            cols["base"].append(np.full(n_days, base, dtype=object))
            cols["quote"].append(np.full(n_days, quote, dtype=object))
            cols["rate"].append(rate)
    n = sum(len(x) for x in cols["rate"])

    def cat(parts: list[np.ndarray], dtype: object) -> np.ndarray:
        return np.concatenate(parts) if parts else np.array([], dtype=dtype)

    day_col = cat(cols["rate_date"], np.int64)
    base_col = cat(cols["base"], object)
    quote_col = cat(cols["quote"], object)
    rate_col = cat(cols["rate"], np.float64)
    # Rows ordered by date, then pair, so an export reads naturally day by day.
    order = np.lexsort((quote_col.astype(str), base_col.astype(str), day_col)) if n else np.array([], int)
    table = build_table(
        "fx_rates",
        {
            "rate_date": dates(day_col[order]),
            "base_currency": base_col[order].tolist(),
            "quote_currency": quote_col[order].tolist(),
            "rate": arrow(rate_col[order].astype(np.float64)),
            "source": ["world"] * n,
        },
    )
    return table, lookup


def converter(lookup: dict, from_currency: str, to_currency: str, n_days: int) -> np.ndarray:
    """Daily multipliers from one currency to another (ones when they are the same)."""
    if from_currency == to_currency:
        return np.ones(n_days)
    return lookup[(from_currency, to_currency)]
