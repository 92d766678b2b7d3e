"""What Claude costs: one ``ai_usage`` row per call, and the brand × month report of ``tower ai usage``.

Cost = (input × in-price + cache writes × 1.25 × in-price + cache reads × 0.1 × in-price
+ output × out-price) ÷ 1,000,000, in USD, at the configured prices per million tokens. The 1.25
and 0.1 multipliers are Anthropic's published ones for 5-minute ephemeral cache writes and reads.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tower import periods
from tower import sql as sqlfiles

if TYPE_CHECKING:  # pragma: no cover
    from tower.config import Settings
    from tower.ports import Warehouse

log = logging.getLogger(__name__)

CACHE_WRITE_MULTIPLIER = 1.25
CACHE_READ_MULTIPLIER = 0.1
TABLE = "ai_usage"


@dataclass
class CallUsage:
    """One Messages API call (or one narrator fallback) as recorded for its brand."""

    brand_id: str
    purpose: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    attempts: int = 1
    stop_reason: str | None = None
    called_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    grounding: str | None = None

    def cost(self, price_in_per_mtok: float, price_out_per_mtok: float) -> float:
        """USD at the given prices per million tokens."""
        inp = (self.input_tokens + self.cache_creation_input_tokens * CACHE_WRITE_MULTIPLIER
               + self.cache_read_input_tokens * CACHE_READ_MULTIPLIER) * price_in_per_mtok
        return round((inp + self.output_tokens * price_out_per_mtok) / 1_000_000, 8)

    def row(self, settings: Settings) -> dict[str, Any]:
        """The ``ai_usage`` row."""
        return {
            "brand_id": self.brand_id,
            "call_id": self.call_id,
            "usage_date": self.called_at.astimezone(UTC).date(),
            "called_at": self.called_at,
            "purpose": self.purpose,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cost_amount": self.cost(settings.anthropic_price_input_per_mtok, settings.anthropic_price_output_per_mtok),
            "currency": "USD",
            "attempts": self.attempts,
            "stop_reason": self.stop_reason,
            "grounding": self.grounding,
        }


def fallback_usage(brand_id: str, purpose: str, calls: list[CallUsage], now: datetime) -> CallUsage:
    """The row that counts a narrator fallback (no tokens, no cost), just after the calls it replaced."""
    at = calls[-1].called_at + timedelta(microseconds=1) if calls else now
    return CallUsage(brand_id=brand_id, purpose=purpose, model="narrator", attempts=0, called_at=at,
                     grounding="fallback")


def record(warehouse: Warehouse, settings: Settings, calls: list[CallUsage]) -> int:
    """Write calls to ``ai_usage`` (MERGE on brand and call id: a retried handler does not double count)."""
    if not calls:
        return 0
    rows = [c.row(settings) for c in calls]
    written = warehouse.merge(TABLE, rows, ["brand_id", "call_id"])
    for r in rows:
        # One line a call, which Cloud Logging's log-based metrics add up (infra/modules/monitoring:
        # tokens and cost per day, the AI budget alert). Counts and money only, never prompt or answer.
        # A retried handler logs its calls again: the ai_usage table (MERGEd) stays the exact record.
        log.info("ai usage", extra={
            "brand_id": r["brand_id"], "purpose": r["purpose"], "model": r["model"],
            "input_tokens": r["input_tokens"], "output_tokens": r["output_tokens"],
            "cache_creation_input_tokens": r["cache_creation_input_tokens"],
            "cache_read_input_tokens": r["cache_read_input_tokens"], "cost_usd": r["cost_amount"],
        })
    return written


def month_bounds(month: str) -> tuple[date, date]:
    """``2026-11`` → [2026-11-01, 2026-12-01). Raises ValueError on another shape."""
    try:
        y, m = (int(p) for p in month.split("-"))
        period = periods.month_of(date(y, m, 1))
    except (ValueError, TypeError) as e:
        raise ValueError(f"month must look like 2026-11, not {month!r}") from e
    return period.start, period.end


def usage_report(warehouse: Warehouse, *, start: date, end: date, brand_id: str = "") -> list[dict[str, Any]]:
    """Cost per brand × month in ``[start, end)`` (all brands when brand_id is empty)."""
    return warehouse.rows(sqlfiles.load("queries/ops/ai_usage_by_month.sql"),
                          {"start_date": start, "end_date": end, "brand_id": brand_id})
