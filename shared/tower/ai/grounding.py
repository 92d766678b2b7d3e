"""The grounding check: every number a text states must be a number of the data.

A text written by Claude (or anyone) is scanned for numeric claims — money (``$1,234``, ``€18.5k``,
``1,000 SEK``), percentages (``25%``), ROAS multiples (``2.1×``, ``2.1x``), days (``8 days``),
units (``45 units``) and other bare figures above 10 — and each must equal a number of the sources
(the context sent to Claude, the rows of the queries it ran, the question) **within the rounding
the text shows**: ``$18.5k`` matches 18,460 to 18,549.99, ``2.1×`` matches 2.05 to 2.15, ``25%``
matches 24.5 to 25.5 (or a fraction 0.245 to 0.255). Signs are ignored (texts say "down" or "cut").

Not claims: small bare integers up to 10 (list positions, "top 3"), and digits inside identifiers
or dates (``US-TX``, ``W47``, ``2026-11-16``, ``Nov 16 – Nov 22, 2026``, ``SKU-12``). Numbers inside the sources' strings
(product names, dates, campaign ids) count as data, so a text may repeat them.

:func:`grounded` runs the product's policy: a text that fails is regenerated once with its failures
named, and if it fails again the deterministic narrator's text replaces it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CODES = "USD|EUR|GBP|CAD|AUD|NZD|JPY|SEK|NOK|DKK|CHF|MXN|BRL|INR|SGD|HKD|PLN|CZK|ZAR"
_SCALE_WORDS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
          r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?")
# a day after a month is a date unless a unit follows it ("May 12 units" is still 12 units)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?\b(?!\s?(?:%|×|[xX]\b|units?\b|days?\b))"

_CLAIM = re.compile(
    rf"""
    (?P<date>\b{_MONTH}\s(?:{_DAY}(?:,?\s\d{{4}}\b)?|\d{{4}}\b))
  | (?P<money>(?:US\$|CA\$|A\$|NZ\$|[$€£¥])\s?(?P<mnum>{_NUM})(?:\s?(?P<msuf>k|K|m|M|mn|bn|thousand|million|billion)\b)?)
  | (?P<money2>\b(?:{_CODES})\s?(?P<m2num>{_NUM})(?:\s?(?P<m2suf>k|K|m|M|thousand|million)\b)?)
  | (?P<money3>(?P<m3num>{_NUM})(?:\s?(?P<m3suf>k|K|m|M|thousand|million))?\s(?:{_CODES})\b)
  | (?P<pct>(?P<pnum>{_NUM})\s?(?:%|\s?percent\b|\s?per\s?cent\b|\s?pp\b|\s?percentage\spoints?\b))
  | (?P<mult>(?P<xnum>{_NUM})\s?(?:×|[xX]\b))
  | (?P<days>(?P<dnum>{_NUM})(?:\s|-)?days?\b)
  | (?P<units>(?P<unum>{_NUM})\s?units?\b)
  | (?P<bare>(?<![\w.,/:-])(?P<bnum>{_NUM})(?![\w%×-]|\.\d|,\d))
    """,
    re.VERBOSE,
)
_ANY_NUMBER = re.compile(_NUM)
_EPS = 1e-6


@dataclass(frozen=True)
class Claim:
    """A number stated in a text: the words, the value and the rounding tolerance they imply."""

    text: str
    kind: str  # money | percent | multiple | days | units | number
    value: float
    tolerance: float


@dataclass
class GroundingReport:
    """The outcome of checking texts against sources."""

    checked: int
    failures: list[Claim] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def feedback(self) -> str:
        """The failures named, for the retry prompt."""
        items = "; ".join(f"'{c.text}' ({c.kind})" for c in self.failures[:20])
        return (f"These numbers in your answer are not in the data: {items}. Rewrite it using only figures "
                "that appear in the data (you may round them), and leave out anything the data does not give.")


def _parse_number(raw: str) -> tuple[float, int]:
    clean = raw.replace(",", "")
    decimals = len(clean.split(".", 1)[1]) if "." in clean else 0
    return float(clean), decimals


def _claim(m: re.Match[str]) -> Claim | None:
    kind_groups = (
        ("money", "mnum", "msuf"), ("money2", "m2num", "m2suf"), ("money3", "m3num", "m3suf"),
        ("pct", "pnum", None), ("mult", "xnum", None), ("days", "dnum", None), ("units", "unum", None),
        ("bare", "bnum", None),
    )
    if m.group("date") is not None:
        return None  # "Nov 29, 2026", as texts write dates (tower.periods.range_words): not a figure
    for group, num_group, suffix_group in kind_groups:
        if m.group(group) is None:
            continue
        value, decimals = _parse_number(m.group(num_group))
        scale = 1.0
        if suffix_group and m.group(suffix_group):
            scale = _SCALE_WORDS[m.group(suffix_group).lower()]
        kind = {"money2": "money", "money3": "money", "pct": "percent", "mult": "multiple",
                "bare": "number"}.get(group, group)
        if kind == "number" and value <= 10 and decimals == 0:
            return None  # list positions and small counts ("top 3") are not figures of the data
        return Claim(text=m.group(0).strip(), kind=kind, value=value * scale,
                     tolerance=0.5 * 10 ** (-decimals) * scale)
    return None


def extract_claims(text: str) -> list[Claim]:
    """Every numeric claim in a text, in order."""
    out = []
    for m in _CLAIM.finditer(text):
        c = _claim(m)
        if c is not None:
            out.append(c)
    return out


def source_numbers(*sources: Any) -> list[float]:
    """Every number in the sources, absolute, sorted: numeric values and numbers inside strings."""
    found: list[float] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, bool) or obj is None:
            return
        if isinstance(obj, int | float):
            found.append(abs(float(obj)))
        elif isinstance(obj, str):
            for m in _ANY_NUMBER.finditer(obj):
                found.append(float(m.group(0).replace(",", "")))
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list | tuple | set):
            for v in obj:
                walk(v)
        else:  # Decimal, numpy scalars, dates
            try:
                found.append(abs(float(obj)))
            except (TypeError, ValueError):
                walk(str(obj))

    for s in sources:
        walk(s)
    return sorted(found)


class Sources:
    """The numbers of the data, indexed for the range lookups of the check."""

    def __init__(self, *sources: Any) -> None:
        self.values = source_numbers(*sources)
        self.percent_values = sorted(v * 100.0 for v in self.values)

    @staticmethod
    def _near(values: list[float], target: float, tol: float) -> bool:
        tol = tol + _EPS * max(1.0, abs(target))
        i = bisect.bisect_left(values, target - tol)
        return i < len(values) and values[i] <= target + tol

    def supports(self, claim: Claim) -> bool:
        """Whether some number of the data rounds to the claim."""
        if self._near(self.values, claim.value, claim.tolerance):
            return True
        return claim.kind == "percent" and self._near(self.percent_values, claim.value, claim.tolerance)


def check(texts: Iterable[str], *sources: Any) -> GroundingReport:
    """Check every claim of the texts against the sources.

    Args:
        texts: The texts to check (e.g. every string field of a summary).
        *sources: The data the texts may cite (context dicts, query rows, the question).

    Returns:
        A report listing the claims no number of the sources supports.
    """
    index = sources[0] if len(sources) == 1 and isinstance(sources[0], Sources) else Sources(*sources)
    report = GroundingReport(checked=0)
    for text in texts:
        for claim in extract_claims(text):
            report.checked += 1
            if not index.supports(claim):
                report.failures.append(claim)
    return report


def strings_of(obj: Any) -> list[str]:
    """Every string value of a JSON-like object (the texts of a structured answer)."""
    out: list[str] = []
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            out.extend(strings_of(v))
    elif isinstance(obj, list | tuple):
        for v in obj:
            out.extend(strings_of(v))
    return out


T = TypeVar("T")

PASSED = "passed"
PASSED_ON_RETRY = "passed_on_retry"
FALLBACK_UNGROUNDED = "fallback_ungrounded"
FALLBACK_ERROR = "fallback_error"
NARRATOR = "narrator"


class GenerationFailed(RuntimeError):
    """Claude could not produce an answer (errors after retries, or an unusable response)."""


@dataclass
class Grounded(Generic[T]):
    """What :func:`grounded` returns: the value, who wrote it, and how the check went."""

    value: T
    author: str  # claude | narrator
    status: str  # passed | passed_on_retry | fallback_ungrounded | fallback_error | narrator
    failures: list[str] = field(default_factory=list)
    attempts: int = 0


def grounded(
    generate: Callable[[str | None], T] | None,
    fallback: Callable[[], T],
    sources: Any,
    *,
    texts_of: Callable[[T], list[str]] = strings_of,
    on_check: Callable[[bool], None] | None = None,
) -> Grounded[T]:
    """Generate, check, retry once with the failures named, else fall back to the narrator.

    Args:
        generate: Calls Claude; receives ``None`` first, then the feedback naming the failures.
            ``None`` when there is no API key: the narrator writes.
        fallback: The deterministic narrator's version (always grounded).
        sources: The data the text may cite (a :class:`Sources`, anything :func:`check` takes, or a
            callable returning it at check time, for data gathered while generating, e.g. tool results).
        texts_of: The strings of a generated value that are checked.
        on_check: Called with each check's outcome (pass/fail) for the usage counts.

    Returns:
        The value to use and how it was obtained.
    """
    if generate is None:
        return Grounded(fallback(), "narrator", NARRATOR)
    def index() -> Sources:
        data = sources() if callable(sources) else sources
        return data if isinstance(data, Sources) else Sources(data)

    fixed = None if callable(sources) else index()
    feedback: str | None = None
    failures: list[str] = []
    for attempt in (1, 2):
        try:
            value = generate(feedback)
        except GenerationFailed as e:
            return Grounded(fallback(), "narrator", FALLBACK_ERROR, [str(e)], attempt)
        report = check(texts_of(value), fixed or index())
        if on_check is not None:
            on_check(report.ok)
        if report.ok:
            return Grounded(value, "claude", PASSED if attempt == 1 else PASSED_ON_RETRY, failures, attempt)
        failures = [c.text for c in report.failures]
        feedback = report.feedback()
    return Grounded(fallback(), "narrator", FALLBACK_UNGROUNDED, failures, 2)
