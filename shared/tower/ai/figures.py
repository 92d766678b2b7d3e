"""The figures of an answer: each number the answer states, with its value, unit and the cell it came from.

The page shows an answer with "the figures it used and the queries behind them". A figure is built
from the tool results, never from the prose: its ``value`` is the cell's own value, its ``source``
names the query (its position in the answer's ``queries``), the column and the row (0-based, over
every row the query returned, so a row past the 20 shown is still named exactly).

Two ways in:

* :func:`from_text`: each numeric claim of a text (:func:`tower.ai.grounding.extract_claims`) is
  looked up among the queries' cells within the rounding the text shows; a claim of a unit looks at
  columns of that unit first (a money figure at money columns, "8 days" at days columns). A claim no
  cell holds is not a figure (a date in a period label, a number of the question). The deterministic
  narrator's answers, and Claude's when it gave no figures of its own.
* :func:`check_claimed`: the figures Claude listed in its JSON answer, each checked against the cell
  it cites. One whose cell holds another value is looked for elsewhere (``check: "relocated"``, the
  source corrected); one that no cell holds is dropped and reported in ``dropped``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tower.ai.grounding import Claim, extract_claims

_MONEY = ("revenue", "spend", "profit", "budget", "amount", "cost", "aov", "price", "sales", "value")
_LABEL_KEYS = ("product_title", "campaign_name", "region_code", "country_code", "channel", "platform", "level",
               "title", "name")


@dataclass(frozen=True)
class Query:
    """One query an answer ran: its position in the answer's ``queries``, tool name and every row."""

    index: int
    tool: str
    rows: Sequence[Mapping[str, Any]]
    call_id: str | None = None


def unit_of(column: str, currency: str) -> str | None:
    """The unit of a column's values, from its name: the currency, ``percent``, ``ratio``, ``days``,
    ``units`` or None (a plain count or number)."""
    c = column.lower()
    if c.endswith(("_pct", "_share", "_rate")) or "percent" in c:
        return "percent"
    if "roas" in c or c == "mer" or c.endswith("_ratio"):
        return "ratio"
    if "days" in c or c.endswith("_doc"):
        return "days"
    if "units" in c or c in ("available", "on_hand", "quantity", "inventory"):
        return "units"
    if any(w in c for w in _MONEY):
        return currency
    return None


_KIND_UNIT = {"percent": "percent", "multiple": "ratio", "days": "days", "units": "units"}


def _wants(claim_kind: str, unit: str | None, currency: str) -> bool:
    if claim_kind == "money":
        return unit == currency
    if claim_kind in _KIND_UNIT:
        return unit == _KIND_UNIT[claim_kind]
    return True


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def row_name(row: Mapping[str, Any]) -> str | None:
    """What a row is about (its product, campaign, region, channel…), for a figure's label."""
    for k in _LABEL_KEYS:
        v = row.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def label_of(column: str, row: Mapping[str, Any]) -> str:
    """``"Revenue, Sandalwood Rose Candle"``: the column in words, then the row's name."""
    words = column.replace("_amount", "").replace("_", " ").strip()
    words = {"roas": "ROAS", "mer": "MER", "aov": "AOV"}.get(words, words)
    words = words[:1].upper() + words[1:]
    name = row_name(row)
    return f"{words}, {name}" if name else words


def _matches(value: float, cell: float, tolerance: float, kind: str) -> bool:
    tol = tolerance + 1e-6 * max(1.0, abs(cell))
    if abs(abs(value) - abs(cell)) <= tol:
        return True
    return kind == "percent" and abs(abs(value) - abs(cell) * 100.0) <= tol


def _figure(q: Query, row: int, column: str, claim_text: str | None, currency: str) -> dict[str, Any]:
    r = q.rows[row]
    return {"label": label_of(column, r), "value": _number(r[column]), "unit": unit_of(column, currency),
            "text": claim_text, "source": {"query": q.index, "tool": q.tool, "column": column, "row": row}}


def locate(value: float, tolerance: float, kind: str, queries: Sequence[Query],
           currency: str) -> tuple[Query, int, str] | None:
    """The first cell holding ``value`` (within ``tolerance``), a column of the claim's unit first."""
    found: tuple[Query, int, str] | None = None
    for q in queries:
        for i, r in enumerate(q.rows):
            for col, v in r.items():
                cell = _number(v)
                if cell is None or col.endswith("_id") or not _matches(value, cell, tolerance, kind):
                    continue
                if _wants(kind, unit_of(col, currency), currency):
                    return q, i, col
                found = found or (q, i, col)
    return found


def from_text(text: str, queries: Sequence[Query], currency: str) -> list[dict[str, Any]]:
    """The figures a text states that the queries' cells hold, in the text's order, each once."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[int, int, str]] = set()
    for claim in extract_claims(text):
        hit = _locate_claim(claim, queries, currency)
        if hit is None:
            continue
        q, row, col = hit
        if (q.index, row, col) in seen:
            continue
        seen.add((q.index, row, col))
        out.append({**_figure(q, row, col, claim.text, currency), "check": "matched"})
    return out


def _locate_claim(claim: Claim, queries: Sequence[Query], currency: str) -> tuple[Query, int, str] | None:
    return locate(claim.value, claim.tolerance, claim.kind, queries, currency)


def _decimals(v: float) -> int:
    s = repr(float(v))
    return 0 if "e" in s or s.endswith(".0") else len(s.split(".", 1)[1])


def check_claimed(claimed: Any, queries: Sequence[Query], currency: str) -> tuple[list[dict[str, Any]],
                                                                                  list[dict[str, Any]]]:
    """Claude's listed figures checked against the data: ``(kept, dropped)`` (see the module docstring).

    Each claimed figure is ``{"label", "value", "unit", "tool_use_id", "column", "row"}``; the value
    must equal the cited cell within the rounding its digits show (a percent may be the cell × 100).
    """
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    by_call = {q.call_id: q for q in queries if q.call_id}
    for item in claimed if isinstance(claimed, list) else []:
        if not isinstance(item, Mapping):
            continue
        value = _number(item.get("value"))
        label = str(item.get("label") or "")[:120]
        if value is None:
            dropped.append({"label": label, "value": item.get("value"), "reason": "no numeric value"})
            continue
        tolerance = 0.5 * 10 ** (-_decimals(value))
        kind = "percent" if str(item.get("unit") or "").lower() in ("percent", "%") else "number"
        q = by_call.get(str(item.get("tool_use_id") or ""))
        row, column = item.get("row"), str(item.get("column") or "")
        cited = (q is not None and isinstance(row, int) and not isinstance(row, bool) and 0 <= row < len(q.rows)
                 and column in q.rows[row])
        if cited and q is not None and isinstance(row, int):
            cell = _number(q.rows[row][column])
            if cell is not None and _matches(value, cell, tolerance, kind):
                kept.append({**_figure(q, row, column, None, currency), "label": label or label_of(column, q.rows[row]),
                             "check": "matched"})
                continue
        hit = locate(value, tolerance, kind, queries, currency)
        if hit is None:
            dropped.append({"label": label, "value": value, "reason": "not in the data"})
            continue
        q2, row2, col2 = hit
        kept.append({**_figure(q2, row2, col2, None, currency), "label": label or label_of(col2, q2.rows[row2]),
                     "check": "relocated"})
    return kept, dropped
