"""The part of Shopify's search syntax the sandbox understands (the ``query:`` argument).

Terms are ``field:value`` with an optional comparator (``>``, ``>=``, ``<``, ``<=``), values may
be quoted (``'...'`` or ``"..."``) or comma lists (``status:active,draft``), terms are joined by
whitespace or ``AND``. Like Shopify, a filter on a field the resource does not know is ignored
and reported back as a search warning rather than failing the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

_TOKEN = re.compile(
    r"""(?P<neg>-)?(?P<field>[\w.]+):(?P<op>>=|<=|>|<)?\s*(?P<value>'[^']*'|"[^"]*"|[^\s]+)|(?P<word>\S+)"""
)


@dataclass(frozen=True)
class Term:
    field: str
    op: str  # "=", ">", ">=", "<", "<="
    value: str
    negated: bool = False


class SearchError(ValueError):
    """The filter uses syntax the sandbox does not support (OR, parentheses)."""


def parse_search(query: str | None) -> list[Term]:
    """The terms of a search query (implicit AND)."""
    if not query:
        return []
    terms = []
    for m in _TOKEN.finditer(query):
        if m.group("word"):
            word = m.group("word")
            if word == "AND":
                continue
            if word in ("OR", "NOT") or word.startswith("("):
                raise SearchError(f"unsupported search syntax: {word}")
            terms.append(Term("default", "=", word))
            continue
        value = m.group("value")
        if value[:1] in "'\"":
            value = value[1:-1]
        terms.append(Term(m.group("field"), m.group("op") or "=", value, bool(m.group("neg"))))
    return terms


def parse_time(value: str) -> datetime:
    """A search-syntax time: ISO timestamp, date or year, as UTC."""
    v = value.strip()
    if re.fullmatch(r"\d{4}", v):
        return datetime(int(v), 1, 1, tzinfo=UTC)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        d = date.fromisoformat(v)
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    dt = datetime.fromisoformat(v)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None:
        return False
    if op == "=":
        return bool(left == right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


Getter = Callable[[Any], Any]


@dataclass(frozen=True)
class FieldSpec:
    """How a resource answers one search field: a getter and the kind of value (time, id, text)."""

    getter: Getter
    kind: str = "text"  # "time" | "id" | "text" | "enum"


def compile_search(
    query: str | None, fields: Mapping[str, FieldSpec]
) -> tuple[Callable[[Any], bool], list[str]]:
    """A predicate for the query over one resource's fields, and the warnings of ignored terms."""
    terms = parse_search(query)
    checks: list[Callable[[Any], bool]] = []
    warnings: list[str] = []
    for t in terms:
        spec = fields.get(t.field)
        if spec is None:
            warnings.append(f"Invalid search field for this query: {t.field}")
            continue
        if spec.kind == "time":
            right: Any = parse_time(t.value)
        elif spec.kind == "id":
            right = int(t.value.rsplit("/", 1)[-1])
        elif spec.kind == "enum":
            options = {v.strip().lower() for v in t.value.split(",")}
            checks.append(_enum_check(spec.getter, options, t.negated))
            continue
        else:
            right = t.value.lower()

        def check(rec: Any, spec: FieldSpec = spec, t: Term = t, right: Any = right) -> bool:
            left = spec.getter(rec)
            if spec.kind == "text" and isinstance(left, str):
                left = left.lower()
            ok = _compare(left, t.op, right)
            return not ok if t.negated else ok

        checks.append(check)
    return (lambda rec: all(c(rec) for c in checks)), warnings


def _enum_check(getter: Getter, options: set[str], negated: bool) -> Callable[[Any], bool]:
    def check(rec: Any) -> bool:
        ok = str(getter(rec) or "").lower() in options
        return not ok if negated else ok

    return check
