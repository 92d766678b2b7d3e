"""Benchmark: build every model for one brand with 1M orders (~3M line items) and ~500k ad rows on DuckDB.

Data: the synthetic world (``tower_dev.world``), one brand over ~2.4 years with the world's default four
campaigns per platform, loaded into an in-memory DuckDB warehouse as the connectors would leave it.

Beside it, the baseline the product plan sketches (Phase 3, ``_attribute_orders_to_campaigns``): a per-order
loop over a pandas frame of ad performance (filter the 7-day lookback, the order's state and the promoted
products, take the most recent campaign), timed on a subset of the same orders. The ratio compares orders per
second: the full build (all six marts, all five attribution models) against that last-touch-only loop.

Run: ``.venv/bin/python bench/models.py [--orders 1000000] [--ad-rows 500000] [--baseline-orders 2000]``.
The last line printed is one JSON object: seconds, orders_per_s, baseline_orders_per_s, ratio; model_seconds per
mart, and shared_models: the intermediates several marts read, stored once per build (DuckDB).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.analytics.runner import build_models
from tower.config import Settings
from tower_dev.world import World, WorldParams, generate_world
from tower_dev.world.truth import channel_roas_errors

END = date(2026, 11, 22)
# measured on the world: ~563 ad rows a day for one brand with 4 campaigns per platform, and ~1.0% more
# orders than orders_per_day x days (the world's own rounding)
AD_ROWS_PER_DAY = 563
ORDERS_FACTOR = 1.01


def make_world(orders: int, ad_rows: int, seed: int = 7) -> World:
    """One brand whose history holds about ``orders`` orders and ``ad_rows`` ad rows."""
    days = max(30, round(ad_rows / AD_ROWS_PER_DAY))
    per_day = max(1, round(orders / days / ORDERS_FACTOR))
    return generate_world(WorldParams(seed=seed, brands=1, days=days, orders_per_day=per_day, skus=120,
                                      locations=3, campaigns_per_platform=4, end_date=END))


def load(warehouse: DuckDBWarehouse, world: World) -> None:
    """Append the world's tables to a fresh warehouse (no keys to match)."""
    warehouse.insert("fx_rates", world.fx_rates)
    for bw in world.brands:
        warehouse.insert("brands", [bw.brand])
        for name, table in bw.tables.items():
            warehouse.insert(name, table)


def baseline(tables: dict[str, pa.Table], n: int, lookback_days: int = 7) -> tuple[int, float]:
    """The product plan's per-order pandas loop (last touch, geo + time + product), on the first n orders."""
    import pandas as pd

    ads = tables["ad_performance"].select(["platform", "campaign_id", "stat_date", "region_code", "spend_amount"])
    ads_df = ads.to_pandas()
    ads_df = ads_df[ads_df["spend_amount"] > 0]
    ads_df["stat_date"] = pd.to_datetime(ads_df["stat_date"])
    promo = tables["ad_campaign_products"].to_pandas()
    promoted = promo.groupby("campaign_id")["product_id"].apply(set).to_dict()
    orders = tables["orders"].slice(0, n).to_pandas()
    lines = tables["order_line_items"].to_pandas()
    lines = lines[lines["order_id"].isin(set(orders["order_id"]))]
    products = lines.groupby("order_id")["product_id"].apply(set).to_dict()
    began = time.perf_counter()
    attributed = []
    for _, order in orders.iterrows():  # the plan's loop: one order at a time
        order_day = pd.Timestamp(order["order_date"])
        window = ads_df[
            (ads_df["stat_date"] >= order_day - pd.Timedelta(days=lookback_days))
            & (ads_df["stat_date"] <= order_day)
            & (ads_df["region_code"] == order["shipping_region_code"])
        ]
        mine = products.get(order["order_id"], set())
        keep = window["campaign_id"].map(lambda c, mine=mine: c not in promoted or bool(promoted[c] & mine))
        window = window[keep]
        if len(window):
            last = window.sort_values(["stat_date", "spend_amount"]).iloc[-1]
            attributed.append((order["order_id"], last["campaign_id"]))
    return len(orders), time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--ad-rows", type=int, default=500_000)
    ap.add_argument("--baseline-orders", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    world = make_world(args.orders, args.ad_rows)
    bw = world.brands[0]
    orders = bw.tables["orders"].num_rows
    print(f"world: {orders:,} orders, {bw.tables['order_line_items'].num_rows:,} line items, "
          f"{bw.tables['ad_performance'].num_rows:,} ad rows, {bw.tables['inventory_levels'].num_rows:,} "
          f"inventory rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    warehouse = DuckDBWarehouse(":memory:", threads=args.threads)
    warehouse.init_schema()
    t0 = time.perf_counter()
    load(warehouse, world)
    print(f"loaded into DuckDB in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    start, end = world.params.start_date, END + timedelta(days=1)
    t0, c0 = time.perf_counter(), time.process_time()
    result = build_models(warehouse, bw.brand_id, start, end, Settings(), today=end)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {'(shared models, stored once)':<28} {'':>17} {result.shared_seconds:7.2f} s", file=sys.stderr)
    for run in result.runs:
        print(f"  {run.model:<28} {run.row_count:>12,} rows {run.seconds:7.2f} s", file=sys.stderr)
    orders_per_s = orders / seconds

    # the attribution truth check: Shopify-attributed ROAS per channel against the world's planted truth
    roas = channel_roas_errors(warehouse, bw, start, end, Settings().attribution_model)
    roas_error_max = max(abs(e["error"]) for e in roas.values())
    print("channel ROAS (truth -> attributed): " + ", ".join(
        f"{p} {e['truth_roas']:.2f} -> {e['shopify_roas']:.2f}" for p, e in sorted(roas.items())), file=sys.stderr)

    n, base_s = baseline(bw.tables, args.baseline_orders)
    baseline_per_s = n / base_s
    ratio = orders_per_s / baseline_per_s
    print(f"models: {seconds:.2f} s ({cpu:.1f} s CPU) for {orders:,} orders = {orders_per_s:,.0f} orders/s; "
          f"baseline (per-order pandas loop, {n:,} orders): {baseline_per_s:,.1f} orders/s; ratio {ratio:,.0f}x; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", file=sys.stderr)
    out: dict[str, Any] = {
        "bench": "models",
        "orders": orders,
        "line_items": bw.tables["order_line_items"].num_rows,
        "ad_rows": bw.tables["ad_performance"].num_rows,
        "threads": args.threads,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "orders_per_s": round(orders_per_s),
        "baseline_orders": n,
        "baseline_orders_per_s": round(baseline_per_s, 1),
        "ratio": round(ratio),
        "model_seconds": {"shared_models": result.shared_seconds, **{r.model: r.seconds for r in result.runs}},
        "channel_roas_error_max": round(roas_error_max, 3),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
