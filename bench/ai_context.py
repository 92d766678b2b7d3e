"""Benchmark: how many input tokens the weekly-summary context costs, per brand.

Counted with the tokenizer stand-in the Anthropic sandbox uses for ``usage`` (``tower.ai.tokens``:
letter runs ⌈n/4⌉, digit runs ⌈n/3⌉, symbol runs ⌈n/2⌉ tokens; conservative, about 1.5× chars/4 on JSON).

Brands measured:

* the demo brands of the synthetic world, through the real models (world tables loaded into an
  in-memory DuckDB, ``build_models``, ``load_facts``) when the world generator is importable;
* synthetic brands of growing size up to 500 SKUs × 50 regions × 3 channels (``tower_dev.samples``).

Baseline, in the same run: the plan's naive context — every product × channel × region row of the
performance and inventory data as JSON — for the same brand, so the cut the capped context makes shows.

Run: ``.venv/bin/python bench/ai_context.py [--skip-world]``. The last line printed is one JSON object
with ``max_input_tokens`` (the largest context measured, which must stay ≤ ~4k).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from typing import Any

from tower.ai.context import build_context
from tower.ai.prompts import SUMMARY_SYSTEM, SUMMARY_TOOL
from tower.ai.tokens import compact_json, count_json_tokens, count_tokens
from tower.decisions.inputs import BrandFacts
from tower.decisions.recommend import Thresholds, compute
from tower.decisions.thresholds import AlertThresholds, RuleThresholds
from tower_dev.samples import synthetic_facts

T = Thresholds(RuleThresholds(), AlertThresholds())


def naive_tokens(facts: BrandFacts) -> int:
    """The baseline: every performance and alignment row, as the plan's sketch would send them."""
    rows = [{"product": r.product_title, "channel": r.channel, "region": r.region_code, "spend": round(r.spend, 2),
             "revenue": round(r.revenue, 2), "roas": round(r.roas, 2), "doc": r.days_of_cover,
             "stock": r.available_units, "spend_share": round(r.spend_share, 4)} for r in facts.performance]
    return count_tokens(compact_json({"performance": rows}))


def measure(name: str, facts: BrandFacts) -> dict[str, Any]:
    began = time.perf_counter()
    recs, alerts = compute(facts, T)
    ctx = build_context(facts, [r.to_dict() for r in recs], [a.to_dict() for a in alerts])
    seconds = time.perf_counter() - began
    return {"brand": name, "rows": len(facts.performance), "context_tokens": count_json_tokens(ctx),
            "context_chars": len(compact_json(ctx)), "naive_tokens": naive_tokens(facts),
            "build_seconds": round(seconds, 3)}


def world_brands(days: int, orders_per_day: int) -> list[tuple[str, BrandFacts]]:
    """The demo brands through the real models, or [] when the world or the models are not there."""
    try:
        from tower.adapters.duckdb_warehouse import DuckDBWarehouse
        from tower.analytics.runner import build_models
        from tower.config import Settings
        from tower.decisions.sources import load_facts
        from tower_dev.world import WorldParams, generate_world
    except ImportError as e:
        print(f"demo brands skipped: {e}", file=sys.stderr)
        return []
    end = date(2026, 11, 22)
    world = generate_world(WorldParams(seed=7, brands=3, days=days, orders_per_day=orders_per_day, end_date=end))
    wh = DuckDBWarehouse()
    wh.init_schema()
    settings = Settings(warehouse="duckdb:///:memory:")
    wh.merge("fx_rates", world.fx_rates, ["rate_date", "base_currency", "quote_currency"])
    out = []
    for bw in world.brands:
        brand = dict(bw.brand)
        wh.insert("brands", [brand])
        for table, rows in bw.tables.items():
            wh.insert(table, rows)
        today = end + timedelta(days=1)
        build_models(wh, brand["brand_id"], end - timedelta(days=days - 40), today, settings, today)
        out.append((brand["brand_name"], load_facts(wh, settings, brand["brand_id"], today)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-world", action="store_true", help="Only the synthetic brands.")
    parser.add_argument("--days", type=int, default=90, help="Days of world history.")
    parser.add_argument("--orders-per-day", type=int, default=150, help="World orders per brand per day.")
    args = parser.parse_args()

    results = []
    if not args.skip_world:
        try:
            for name, facts in world_brands(args.days, args.orders_per_day):
                results.append(measure(name, facts))
        except Exception as e:  # noqa: BLE001 - the synthetic brands are still measured
            print(f"demo brands skipped: {type(e).__name__}: {e}", file=sys.stderr)
    for skus, regions in ((40, 10), (200, 25), (500, 50)):
        results.append(measure(f"synthetic {skus} SKUs × {regions} regions", synthetic_facts(skus=skus, regions=regions)))
    fixed = count_tokens(SUMMARY_SYSTEM) + count_tokens(compact_json([SUMMARY_TOOL]))

    print(f"{'brand':42} {'rows':>7} {'context':>8} {'naive':>9} {'cut':>7} {'seconds':>8}")
    for r in results:
        cut = r["naive_tokens"] / r["context_tokens"] if r["context_tokens"] else 0
        print(f"{r['brand']:42} {r['rows']:>7} {r['context_tokens']:>8} {r['naive_tokens']:>9} {cut:>6.0f}× "
              f"{r['build_seconds']:>8}")
    print(f"fixed instructions + tool schema (cached): {fixed} tokens")
    biggest = max(results, key=lambda r: r["context_tokens"])
    largest = max(results, key=lambda r: r["rows"])
    print(json.dumps({
        "bench": "ai_context",
        "max_input_tokens": biggest["context_tokens"],
        "max_input_brand": biggest["brand"],
        "largest_brand_rows": largest["rows"],
        "largest_brand_tokens": largest["context_tokens"],
        "baseline_naive_tokens": largest["naive_tokens"],
        "ratio": round(largest["naive_tokens"] / largest["context_tokens"], 1),
        "fixed_prompt_tokens": fixed,
        "demo_brands": [r["brand"] for r in results if not r["brand"].startswith("synthetic")],
    }))


if __name__ == "__main__":
    main()
