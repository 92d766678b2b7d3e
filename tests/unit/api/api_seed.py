"""Names, dates and helpers the API tests share (the fixtures live in conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tower.config import Settings
from tower.runtime import Runtime

BRAND = "acme-candles"
OTHER = "urban-wellness"
GROWING = "pet-paradise"
QUIET = "calm-co"
OUTSIDER = "outsider"
AGENCY = "agency_456"
TODAY = date(2026, 11, 23)
AS_OF = date(2026, 11, 22)
NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)  # 10:00 in New York: the brands' "today" is TODAY
WEEK = "2026-W48"
NAMES = {BRAND: "Acme Candles", OTHER: "Urban Wellness", GROWING: "Pet Paradise", QUIET: "Calm Co",
         OUTSIDER: "Outsider Goods"}


def local_settings(root: Path) -> Settings:
    return Settings(
        warehouse=f"duckdb:///{root}/warehouse.duckdb", store=f"local:///{root}/store.sqlite",
        bus=f"local:///{root}/bus.sqlite", tasks=f"local:///{root}/tasks.sqlite",
        secrets=f"local:///{root}/secrets", data_dir=root,
        anthropic_api_key="",  # the deterministic narrator and Q&A: no test reaches Anthropic
    )


def complete_snapshots(runtime: Runtime, brand_id: str) -> None:
    """Fill ROAS and week-over-week changes into the sample snapshot rows, as the model computes them."""
    rows = runtime.warehouse.rows("SELECT * FROM performance_snapshots WHERE brand_id = @b", {"b": brand_id})
    for r in rows:
        s, v, ps, pv = (float(r[k]) for k in ("spend_amount", "revenue_amount", "prev_spend_amount",
                                               "prev_revenue_amount"))
        r.update(roas=v / s, prev_roas=pv / ps, spend_change_pct=(s - ps) / ps, revenue_change_pct=(v - pv) / pv,
                 roas_change_pct=(v / s - pv / ps) / (pv / ps))
    # replace, not MERGE: NULL channel / region keys never match in a MERGE
    runtime.warehouse.execute("DELETE FROM performance_snapshots WHERE brand_id = @b", {"b": brand_id})
    runtime.warehouse.insert("performance_snapshots", rows)


def growth_card(brand_id: str) -> dict[str, Any]:
    return {"id": f"rec_{brand_id}_grow", "brand_id": brand_id, "week": WEEK, "type": "increase_spend",
            "priority": "medium", "score": 55, "action": "Add $500 a week to Meta in US-IL behind SKU-B",
            "reason": "4.8× ROAS with 65 days of cover", "expected_impact": "+$2,400 revenue", "channel": "meta",
            "product": "SKU-B", "recommended_change": 500.0, "campaign_changes": []}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
