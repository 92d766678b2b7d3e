"""Benchmark: generating the synthetic merchant world at a million orders.

Measures ``generate_world`` (vectorised numpy / Arrow) for ``--orders`` orders and, in the same run,
a naive generator that builds each order and its line items in a Python loop (the obvious way to
write it) on ``--baseline-orders`` orders; both end in Arrow tables. Prints the figures, and as the
last line one JSON object: ``{"bench": "world", "orders", "line_items", "seconds", "orders_per_s",
"baseline_orders_per_s", "ratio", ...}``.

    .venv/bin/python bench/world.py [--orders 1000000] [--brands 1] [--days 365] [--export DIR]

Figures measured on the development machine are in ``bench/world.baseline.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import string
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo


def naive_orders(n: int, seed: int, end: date) -> tuple[Any, Any]:
    """The per-order Python loop a first version would write: dicts per order and line, then Arrow."""
    import pyarrow as pa

    from tower.privacy import customer_hash, zip_prefix
    from tower_dev.world.geo import REGIONS

    rng = random.Random(seed)
    zone = ZoneInfo("America/New_York")
    regions = [r for r in REGIONS if r.country == "US"]
    weights = [r.population_k for r in regions]
    variants = [
        (
            f"gid://shopify/ProductVariant/{45_000_000_000_000 + i}",
            f"gid://shopify/Product/{8_000_000_000 + i // 2}",
            f"SKU-{1000 + i}",
            rng.randint(1500, 9000),
        )
        for i in range(40)
    ]
    campaigns = [(f"120{rng.randrange(10**15):015d}", f"US | Campaign {i}") for i in range(12)]
    days = max(1, n // 2740)
    start = end - timedelta(days=days - 1)
    orders, lines = [], []
    for i in range(n):
        region = rng.choices(regions, weights)[0]
        day = start + timedelta(days=rng.randrange(days))
        local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(seconds=rng.randrange(86_400))
        created = local.astimezone(UTC)
        order_id = f"gid://shopify/Order/{5_800_000_000_000 + i * 3}"
        subtotal = discount = 0
        pct = rng.choice([0, 0, 0, 0, 10, 15, 20])
        for j in range(1 + min(_poisson(rng, 1.9), 7)):
            variant_id, product_id, sku, price = rng.choice(variants)
            qty = rng.choices([1, 2, 3], [86, 11, 3])[0]
            line_discount = price * qty * pct // 100
            subtotal += price * qty
            discount += line_discount
            lines.append(
                {
                    "order_id": order_id,
                    "line_item_id": f"gid://shopify/LineItem/{14_900_000_000_000 + i * 8 + j}",
                    "order_date": local.date(),
                    "product_id": product_id,
                    "variant_id": variant_id,
                    "sku": sku,
                    "quantity": qty,
                    "price_amount": price / 100,
                    "discount_amount": line_discount / 100,
                }
            )
        shipping = 0 if subtotal - discount >= 7500 else 695
        tax = round((subtotal - discount + shipping) * region.tax_rate)
        zip_code = f"{rng.randint(*region.zip3):03d}{rng.randrange(100):02d}"
        customer = f"gid://shopify/Customer/{7_300_000_000_000 + rng.randrange(n)}"
        landing, utm = f"https://shop.example/products/p{rng.randrange(40)}", {}
        if rng.random() < 0.45:
            _cid, name = rng.choice(campaigns)
            click = "".join(rng.choices(string.ascii_letters + string.digits, k=56))
            utm = {
                "utm_source": "facebook",
                "utm_medium": "paid_social",
                "utm_campaign": name,
                "fbclid": "IwAR" + click,
            }
            landing += f"?utm_source=facebook&utm_medium=paid_social&utm_campaign={quote(name, safe='')}&fbclid=IwAR{click}"
        orders.append(
            {
                "order_id": order_id,
                "order_name": f"#{1001 + i}",
                "order_date": local.date(),
                "created_at": created,
                "currency": "USD",
                "subtotal_amount": subtotal / 100,
                "discount_amount": discount / 100,
                "shipping_amount": shipping / 100,
                "tax_amount": tax / 100,
                "total_amount": (subtotal - discount + shipping + tax) / 100,
                "shipping_country_code": "US",
                "shipping_region_code": region.code,
                "shipping_zip_prefix": zip_prefix(zip_code),
                "customer_hash": customer_hash("salt", customer),
                "sales_channel": "web",
                "landing_site": landing,
                **utm,
            }
        )
    return pa.Table.from_pylist(orders), pa.Table.from_pylist(lines)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to generate (all brands)")
    parser.add_argument("--brands", type=int, default=1)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-orders", type=int, default=20_000, help="orders for the naive loop")
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        help="also export the world to this folder (a temporary one if 'tmp') and time it",
    )
    args = parser.parse_args(argv)
    if args.orders < 1000 or args.brands < 1 or args.days < 14 or args.baseline_orders < 100:
        print(
            "error: need --orders ≥ 1000, --brands ≥ 1, --days ≥ 14, --baseline-orders ≥ 100", file=sys.stderr
        )
        return 2

    from tower_dev.world import WorldParams, export_world, generate_world

    per_day = math.ceil(args.orders / (args.brands * args.days))
    params = WorldParams(seed=args.seed, brands=args.brands, days=args.days, orders_per_day=per_day)
    t0 = time.perf_counter()
    world = generate_world(params)
    seconds = time.perf_counter() - t0
    n_orders = sum(bw.tables["orders"].num_rows for bw in world.brands)
    n_lines = sum(bw.tables["order_line_items"].num_rows for bw in world.brands)
    n_ads = sum(bw.tables["ad_performance"].num_rows for bw in world.brands)
    n_levels = sum(bw.tables["inventory_levels"].num_rows for bw in world.brands)
    print(f"world: {args.brands} brand(s) × {args.days} days × {per_day} orders/day (seed {args.seed})")
    print(f"  orders {n_orders:,}  line items {n_lines:,}  ad rows {n_ads:,}  inventory rows {n_levels:,}")
    print(f"  generated in {seconds:.2f} s  →  {n_orders / seconds:,.0f} orders/s")

    export_seconds = None
    if args.export is not None:
        target = Path(tempfile.mkdtemp(prefix="world-")) if str(args.export) == "tmp" else args.export
        t0 = time.perf_counter()
        files = export_world(world, target)
        export_seconds = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in files)
        print(f"  exported {len(files)} files ({size / 1e6:,.0f} MB) to {target} in {export_seconds:.2f} s")
    del world

    t0 = time.perf_counter()
    base_orders, base_lines = naive_orders(args.baseline_orders, args.seed, params.end_date)
    base_seconds = time.perf_counter() - t0
    base_rate = base_orders.num_rows / base_seconds
    print(
        f"baseline (per-order Python loop, orders + line items only): {base_orders.num_rows:,} orders, "
        f"{base_lines.num_rows:,} lines in {base_seconds:.2f} s  →  {base_rate:,.0f} orders/s"
    )
    rate = n_orders / seconds
    result: dict[str, Any] = {
        "bench": "world",
        "orders": n_orders,
        "line_items": n_lines,
        "ad_rows": n_ads,
        "inventory_rows": n_levels,
        "seconds": round(seconds, 3),
        "orders_per_s": round(rate),
        "baseline_orders": base_orders.num_rows,
        "baseline_seconds": round(base_seconds, 3),
        "baseline_orders_per_s": round(base_rate),
        "ratio": round(rate / base_rate, 1),
    }
    if export_seconds is not None:
        result["export_seconds"] = round(export_seconds, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
