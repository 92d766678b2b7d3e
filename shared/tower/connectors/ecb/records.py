"""The ECB's reference-rate XML → typed rates and ``fx_rates`` rows.

The feed (a ``gesmes:Envelope`` in the ``eurofxref`` vocabulary) nests three levels of ``Cube``: one
wrapper, one ``Cube time='YYYY-MM-DD'`` per working day, and per day one
``Cube currency='USD' rate='1.0705'`` per currency, each meaning 1 EUR = rate units of it. The euro
itself is never listed. Rates are decimals as published (``rate='171.94'``), kept exact until the
``FLOAT64`` column takes them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

BASE_CURRENCY = "EUR"
SOURCE = "ecb"
NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
_CUBE = f"{{{NAMESPACE}}}Cube"
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class FeedError(ValueError):
    """The document is not an ECB reference-rate feed we can read (the message says what is wrong)."""


@dataclass(frozen=True)
class EcbRate:
    """One published reference rate: on ``rate_date``, 1 EUR = ``rate`` ``currency``."""

    rate_date: date
    currency: str
    rate: Decimal

    def row(self) -> dict[str, Any]:
        """The ``fx_rates`` row (``1 base_currency = rate quote_currency``)."""
        return {"rate_date": self.rate_date, "base_currency": BASE_CURRENCY, "quote_currency": self.currency,
                "rate": float(self.rate), "source": SOURCE}


def parse_reference_rates(document: bytes) -> list[EcbRate]:
    """Every rate of a daily or historical feed, oldest day first, currencies in feed order.

    Raises:
        FeedError: Not XML, a document type declaration (the feed has none, and entities are how XML
            is made to explode), no day cubes, or a day, currency or rate that is not one.
    """
    if b"<!DOCTYPE" in document[:4096].upper() or b"<!ENTITY" in document.upper():
        raise FeedError("the rates document declares a document type or entities; the ECB feed has none")
    try:
        root = ET.fromstring(document)
    except ET.ParseError as e:
        raise FeedError(f"the rates document is not XML: {e}") from None
    days = [c for c in root.iter(_CUBE) if "time" in c.attrib]
    if not days:
        raise FeedError("the rates document holds no Cube time='…' element (not an ECB eurofxref feed)")
    out: list[EcbRate] = []
    for day in sorted(days, key=lambda c: c.attrib["time"]):
        try:
            rate_date = date.fromisoformat(day.attrib["time"])
        except ValueError:
            raise FeedError(f"day {day.attrib['time']!r} is not a date") from None
        for cube in day.iter(_CUBE):
            if cube is day:
                continue
            out.append(_rate(rate_date, cube.attrib.get("currency", ""), cube.attrib.get("rate", "")))
    return out


def _rate(rate_date: date, currency: str, text: str) -> EcbRate:
    if not _CURRENCY.match(currency):
        raise FeedError(f"{rate_date}: currency {currency!r} is not an ISO 4217 code")
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise FeedError(f"{rate_date} {currency}: rate {text!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise FeedError(f"{rate_date} {currency}: rate {text!r} is not a positive number")
    return EcbRate(rate_date, currency, rate)
