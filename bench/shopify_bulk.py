"""Shopify bulk-load benchmark: a million-order bulk export, loaded into a DuckDB warehouse.

The world generates the orders; the sandbox writes them as the JSONL Shopify's bulk operation
returns for the connector's OrdersBulk query (``\\/`` escapes, line items and fulfillment orders as
child lines with ``__parentId``, a fulfillment order's lines as its children, children shuffled).
Measured:

* **product path**: the sync's block loader (``tower.sync.shopify_bulk.BulkLoader.load``, what
  ``BulkLoader.fetch`` runs on the download): whole-line blocks (1 GiB on DuckDB) written to two
  scratch files taking turns, each loaded by the warehouse itself (``Warehouse.load_file``: DuckDB's
  NDJSON reader and the connector's parse SQL, in one transaction per block, with key matching,
  carried line items, privacy suppression and known-variant links) while the next block is
  written; from the file on disk, until the warehouse is closed (its last checkpoint is part of
  the load);
* **engine floor**, in the same run (skip with ``--no-floor``): the same parse SQL as one ``INSERT ...
  SELECT`` per table over the whole file inside a DuckDB warehouse on every core, with none of the
  product path's guarantees (see ``engine_floor``);
* **baseline**, in the same run: the row-by-row way — ``json.loads`` per line, the row mappers, one
  INSERT statement per row through the warehouse port — over the first orders of the file,
  reported as a rate.

Run: ``flock /tmp/bench.lock .venv/bin/python bench/shopify_bulk.py [--orders 1000000]
[--baseline-orders 3000] [--block-mb 1024] [--no-floor] [--keep DIR] [--export FILE]``. ``--keep``
keeps the export (and its brand context beside it); ``--export`` loads a kept export instead of
generating one. The last line printed is one JSON object (``orders_per_s``, ``floor_orders_per_s``,
``floor_ratio`` = product ÷ floor, ``baseline_orders_per_s``, ``ratio``; ``cpu_seconds`` /
``floor_cpu_seconds`` the process's CPU time over each, and ``load_average`` the machine's 1-minute
load when the product path ended: on a shared VM the wall time depends on what else runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000, help="Orders in the export (approximate).")
    ap.add_argument("--baseline-orders", type=int, default=3000, help="Orders loaded row by row.")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", type=Path, default=None, help="Write the JSONL and warehouse here (kept).")
    ap.add_argument("--export", type=Path, default=None, help="Load this kept export instead of generating one.")
    ap.add_argument("--no-floor", dest="floor", action="store_false",
                    help="Skip the engine floor (one INSERT ... SELECT per table over the whole file).")
    ap.add_argument("--block-mb", type=int, default=None,
                    help="Block size in MB (default: the loader's for DuckDB, BLOCK_BYTES_BY_ENGINE).")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    # The export is ~3.5 GB at a million orders: it goes when the run ends.
    with tempfile.TemporaryDirectory(prefix="shopify-bulk-bench-") as tmp:
        return run(args, Path(tmp))


def export(args: argparse.Namespace, work: Path) -> tuple[Path, Any, int]:
    """The export to load: ``(file, brand context, orders)``, generated or (``--export``) kept."""
    from tower.connectors.shopify import records
    from tower_dev.sandboxes.shopify_store.bulk_render import write_file
    from tower_dev.sandboxes.shopify_store.state import ShopState
    from tower_dev.world import WorldParams, generate_world

    if args.export:
        meta = json.loads(args.export.with_suffix(".context.json").read_text())
        return args.export, records.BrandContext(**meta["context"]), meta["orders"]
    days = 365
    per_day = max(1, round(args.orders / days))
    t = time.perf_counter()
    world = generate_world(WorldParams(seed=args.seed, brands=1, days=days, orders_per_day=per_day, skus=60,
                                       locations=3, campaigns_per_platform=4))
    bw = world.brands[0]
    state = ShopState.from_brand_world(bw, clock=lambda: datetime.now(UTC))
    print(f"world: {len(state.orders):,} orders generated in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    jsonl = work / "orders.jsonl"
    t = time.perf_counter()
    n_orders = write_file(state, jsonl, seed=args.seed)
    print(f"export: {jsonl.stat().st_size / 1e6:,.0f} MB JSONL written in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    context = {"brand_id": bw.brand["brand_id"], "timezone": bw.brand["timezone"], "currency": bw.brand["currency"],
               "customer_salt": bw.customer_salt}
    jsonl.with_suffix(".context.json").write_text(json.dumps({"context": context, "orders": n_orders}))
    return jsonl, records.BrandContext(**context), n_orders


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Export (or reuse), load (product path), load again as the engine floor, load row by row (baseline)."""
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse
    from tower.connectors.shopify import bulk
    from tower.sync.shopify_bulk import BLOCK_BYTES_BY_ENGINE, BulkLoader

    jsonl, ctx, n_orders = export(args, work)
    size = jsonl.stat().st_size
    for name in ("bulk", "floor", "baseline"):  # a kept directory's warehouses from an earlier run
        for suffix in (".duckdb", ".duckdb.wal"):
            (work / f"{name}{suffix}").unlink(missing_ok=True)

    # -- the product's path ---------------------------------------------------------------------
    wh = DuckDBWarehouse(work / "bulk.duckdb")
    wh.init_schema()
    # Scratch files under the run's own directory, as the sync keeps them under its data dir.
    loader = BulkLoader(wh, ctx, block_bytes=args.block_mb << 20 if args.block_mb else None, data_dir=work)
    progress = bulk.BulkProgress(phase="fetch", url=str(jsonl))

    def chunks(path: Path, size: int = 8 << 20) -> Any:
        # The download's shape: a stream of chunks (BulkLoader.fetch reads them from the HTTP response).
        with path.open("rb") as f:
            while chunk := f.read(size):
                yield chunk

    t, cpu = time.perf_counter(), time.process_time()
    finished = loader.load(chunks(jsonl), progress)
    loaded = wh.rows(_COUNTS)[0]
    wh.close()  # the final checkpoint writes what the last commits left in the WAL
    seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
    load_average = round(os.getloadavg()[0], 2)
    if not finished or progress.pending:
        raise SystemExit(f"load stopped early or left {len(progress.pending)} line items without their order")
    if loaded["o"] != n_orders:
        raise SystemExit(f"loaded {loaded['o']} orders, exported {n_orders}")
    print(f"product path: {n_orders:,} orders + {loaded['l']:,} line items + {loaded['f']:,} fulfillment orders "
          f"({loaded['fl']:,} lines) in {seconds:.2f} s", file=sys.stderr)

    floor = engine_floor(jsonl, ctx, work) if args.floor else None
    if floor:
        if floor.pop("floor_rows") != [loaded[k] for k in ("o", "l", "f", "fl")]:
            raise SystemExit("the engine floor loaded other row counts than the product path")
        floor["floor_ratio"] = round(floor["floor_seconds"] / seconds, 3)
        print(f"engine floor: {floor['floor_seconds']:.2f} s ({floor['floor_orders_per_s']:,} orders/s); "
              f"product path at {floor['floor_ratio']:.0%} of it", file=sys.stderr)

    done, base_seconds = baseline(jsonl, ctx, work, args.baseline_orders)
    orders_per_s = n_orders / seconds
    baseline_per_s = done / base_seconds
    result = {
        "bench": "shopify_bulk", "orders": n_orders, "line_items": loaded["l"], "fulfillment_orders": loaded["f"],
        "jsonl_mb": round(size / 1e6, 1), "block_mb": (loader.block_bytes or BLOCK_BYTES_BY_ENGINE["duckdb"]) >> 20,
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2), "load_average": load_average,
        "orders_per_s": round(orders_per_s),
        "baseline_orders": done, "baseline_seconds": round(base_seconds, 2),
        "baseline_orders_per_s": round(baseline_per_s), "ratio": round(orders_per_s / baseline_per_s, 1),
        "goal_floor_ratio": 0.85,
        **(floor or {}),
    }
    print(json.dumps(result))
    return result


_COUNTS = ("SELECT (SELECT COUNT(*) FROM orders) AS o, (SELECT COUNT(*) FROM order_line_items) AS l, "
           "(SELECT COUNT(*) FROM fulfillment_orders) AS f, (SELECT COUNT(*) FROM fulfillment_order_line_items) AS fl")


def baseline(jsonl: Path, ctx: Any, work: Path, limit: int) -> tuple[int, float]:
    """The row-by-row way over the first ``limit`` orders: ``(orders loaded, seconds)``."""
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse
    from tower.connectors.shopify import bulk, records

    base = DuckDBWarehouse(work / "baseline.duckdb")
    base.init_schema()

    def insert_sql(table: str) -> str:
        cols = [f.name for f in records.table_schema(table)]
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('@' + c for c in cols)})"

    insert_order, insert_line = insert_sql("orders"), insert_sql("order_line_items")
    insert_fo, insert_fo_line = insert_sql("fulfillment_orders"), insert_sql("fulfillment_order_line_items")
    parents: dict[str, dict] = {}
    waiting: dict[str, list[dict]] = {}
    done = 0
    t = time.perf_counter()
    with jsonl.open("rb") as f:
        for raw in f:
            obj = json.loads(raw)
            parent, kind = obj.get("__parentId"), obj["id"]
            if parent is None:
                if done >= limit:
                    break
                row = records.order_row(obj, ctx)
                base.execute(insert_order, row)
                parents[row["order_id"]] = row
                done += 1
                for li in waiting.pop(row["order_id"], []):
                    base.execute(insert_line, records.line_item_row(li, row))
            elif kind.startswith(bulk.FULFILLMENT_ORDER_GID):
                fos, _ = records.fulfillment_rows({"id": parent, "fulfillmentOrders": {"nodes": [obj]}}, ctx)
                base.execute(insert_fo, fos[0])
            elif kind.startswith(bulk.FULFILLMENT_ORDER_LINE_GID):
                _, lines = records.fulfillment_rows(
                    {"id": "", "fulfillmentOrders": {"nodes": [{"id": parent, "lineItems": {"nodes": [obj]}}]}}, ctx)
                base.execute(insert_fo_line, lines[0])
            elif parent in parents:
                base.execute(insert_line, records.line_item_row(obj, parents[parent]))
            else:
                waiting.setdefault(parent, []).append(obj)
    seconds = time.perf_counter() - t
    base.close()
    return done, seconds


def engine_floor(jsonl: Path, ctx: Any, work: Path) -> dict[str, Any]:
    """The fastest this machine can load the file, as a reference: the connector's own parse SQL run as one
    ``INSERT ... SELECT`` per table inside a DuckDB warehouse with every thread, over the whole file at once.

    It is not a product path: no blocks (nothing to resume from), no key matching (a replayed block would
    duplicate), no carried line items, no privacy suppression. The product path does all of those, so it
    cannot be faster than this.
    """
    import duckdb

    from tower.adapters.duckdb_warehouse import DuckDBWarehouse
    from tower.connectors.shopify import bulk

    path = work / "floor.duckdb"
    wh = DuckDBWarehouse(path)
    wh.init_schema()
    wh.close()
    # The connector's parse statements (the product path runs them, per block, through load_file).
    orders_sql, orders_params = bulk.orders_query(str(jsonl), ctx)
    items_sql, items_params = bulk.items_query(str(jsonl))
    fos_sql, fos_params = bulk.fulfillment_orders_query(str(jsonl), ctx.brand_id)
    fo_lines_sql, fo_lines_params = bulk.fulfillment_lines_query(str(jsonl), ctx.brand_id)
    t, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(path), config={"threads": os.cpu_count() or 1})
    con.execute("SET TimeZone = 'UTC'")
    con.execute("INSERT INTO orders BY NAME " + orders_sql, orders_params)
    con.execute("INSERT INTO order_line_items BY NAME SELECT $brand_id AS brand_id, i.*, o.order_date, o.currency "
                f"FROM ({items_sql}) AS i JOIN orders AS o ON o.brand_id = $brand_id AND o.order_id = i.order_id",
                {**items_params, "brand_id": ctx.brand_id})
    con.execute("INSERT INTO fulfillment_orders BY NAME " + fos_sql, fos_params)
    con.execute("INSERT INTO fulfillment_order_line_items BY NAME " + fo_lines_sql, fo_lines_params)
    counts = con.execute(_COUNTS).fetchone()
    con.close()
    seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
    assert counts is not None
    return {"floor_seconds": round(seconds, 2), "floor_cpu_seconds": round(cpu_seconds, 2),
            "floor_orders_per_s": round(counts[0] / seconds), "floor_threads": os.cpu_count(),
            "floor_rows": list(counts)}


if __name__ == "__main__":
    main()
