"""Shopify bulk-load benchmark: a million-order bulk export, parsed and loaded into DuckDB.

The world generates the orders; the sandbox writes them as the JSONL Shopify's bulk operation
returns for the connector's OrdersBulk query (``\\/`` escapes, line items as separate lines with
``__parentId``, children shuffled). Measured:

* **product path**: the sync's block loader (``tower.sync.shopify_bulk.BulkLoader.load``, what
  ``BulkLoader.fetch`` runs on the download: 256 MB blocks written to a scratch file, DuckDB's NDJSON reader as an
  in-process parser with the salted customer hash computed in SQL, the next block parsed in a
  background thread while this one loads, one warehouse ``merge`` per block and table — delete +
  insert, as the rows carry every column) into a DuckDB warehouse file, from the file on disk,
  until the warehouse is closed (its last checkpoint is part of the load);
* **baseline**, in the same run: the row-by-row way — ``json.loads`` per line, the row mapper,
  one INSERT statement per row through the warehouse port — over the first orders of the file,
  reported as a rate.

Run: ``flock /tmp/bench.lock .venv/bin/python bench/shopify_bulk.py [--orders 1000000]
[--baseline-orders 3000] [--block-mb 256] [--no-floor]``. The last line printed is one JSON object
(``orders_per_s``, ``baseline_orders_per_s``, ``ratio``; ``merge_seconds`` is the loading
thread's time in the warehouse — merges and the close — while the parse runs beside it,
``cpu_seconds`` the process's CPU time over the product path and ``load_average`` the machine's
1-minute load when it ended: on a shared VM the wall time depends on what else runs).

``floor_seconds`` / ``floor_orders_per_s`` (skip with ``--no-floor``) measure what this machine can do
at best with the same parse SQL: one ``INSERT ... SELECT`` per table over the whole file inside a
DuckDB warehouse on every core, with none of the product path's guarantees (see ``engine_floor``).
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
    ap.add_argument("--no-floor", dest="floor", action="store_false",
                    help="Skip the engine floor (one INSERT ... SELECT per table over the whole file).")
    ap.add_argument("--block-mb", type=int, default=None,
                    help="Block size in MB (default: the connector's, bulk.BLOCK_BYTES).")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    # The export is ~2.7 GB at a million orders: it goes when the run ends.
    with tempfile.TemporaryDirectory(prefix="shopify-bulk-bench-") as tmp:
        return run(args, Path(tmp))


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate, export, load (product path) and load row by row (baseline) in ``work``."""

    from tower.adapters.duckdb_warehouse import DuckDBWarehouse
    from tower.connectors.shopify import bulk, records
    from tower.sync.shopify_bulk import BulkLoader
    from tower_dev.sandboxes.shopify_store.bulk_render import write_file
    from tower_dev.sandboxes.shopify_store.state import ShopState
    from tower_dev.world import WorldParams, generate_world

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
    size = jsonl.stat().st_size
    print(f"export: {size / 1e6:,.0f} MB JSONL written in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    del state

    ctx = records.BrandContext(bw.brand["brand_id"], bw.brand["timezone"], bw.brand["currency"], bw.customer_salt)

    # -- the product's path ---------------------------------------------------------------------
    wh = DuckDBWarehouse(work / "bulk.duckdb")
    wh.init_schema()
    keys = {"orders": ["brand_id", "order_id"], "order_line_items": ["brand_id", "line_item_id"]}
    load_seconds = [0.0]

    def merge(table: str, tb: Any) -> None:
        t0 = time.perf_counter()
        wh.merge(table, tb, keys[table])
        load_seconds[0] += time.perf_counter() - t0

    loader = BulkLoader(
        ctx,
        store_orders=lambda tb: merge("orders", tb),
        store_line_items=lambda tb: merge("order_line_items", tb),
        order_keys=lambda ids: wh.query(
            "SELECT order_id, order_date, currency FROM orders WHERE brand_id = @b AND order_id IN UNNEST(@ids)",
            {"b": ctx.brand_id, "ids": list(ids)}),
        block_bytes=args.block_mb << 20 if args.block_mb else bulk.BLOCK_BYTES,
        # Scratch files under the run's own directory, as the sync keeps them under its data dir.
        data_dir=work,
    )
    progress = bulk.BulkProgress(phase="fetch", url=str(jsonl))

    def chunks(path: Path, size: int = 8 << 20):
        # The download's shape: a stream of chunks (BulkLoader.fetch reads them from the HTTP response).
        with path.open("rb") as f:
            while chunk := f.read(size):
                yield chunk

    t, cpu = time.perf_counter(), time.process_time()
    finished = loader.load(chunks(jsonl), progress)
    loaded = wh.rows("SELECT (SELECT COUNT(*) FROM orders) AS o, (SELECT COUNT(*) FROM order_line_items) AS l")[0]
    close_t = time.perf_counter()
    wh.close()  # the final checkpoint writes what the last commits left in the WAL
    load_seconds[0] += time.perf_counter() - close_t
    seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
    load_average = round(os.getloadavg()[0], 2)
    if not finished or progress.pending:
        raise SystemExit(f"load stopped early or left {len(progress.pending)} line items without their order")
    if loaded["o"] != n_orders:
        raise SystemExit(f"loaded {loaded['o']} orders, exported {n_orders}")
    print(f"product path: {n_orders:,} orders + {loaded['l']:,} line items in {seconds:.2f} s", file=sys.stderr)

    floor = engine_floor(jsonl, ctx, work) if args.floor else None
    if floor:
        if floor.pop("floor_rows") != [n_orders, loaded["l"]]:
            raise SystemExit("the engine floor loaded other row counts than the product path")
        print(f"engine floor: {floor['floor_seconds']:.2f} s ({floor['floor_orders_per_s']:,} orders/s)", file=sys.stderr)

    # -- baseline: row by row ----------------------------------------------------------------------
    base = DuckDBWarehouse(work / "baseline.duckdb")
    base.init_schema()
    order_cols = [f.name for f in records.table_schema("orders")]
    line_cols = [f.name for f in records.table_schema("order_line_items")]
    insert_order = f"INSERT INTO orders ({', '.join(order_cols)}) VALUES ({', '.join('@' + c for c in order_cols)})"
    insert_line = (f"INSERT INTO order_line_items ({', '.join(line_cols)}) "
                   f"VALUES ({', '.join('@' + c for c in line_cols)})")
    parents: dict[str, dict] = {}
    waiting: dict[str, list[dict]] = {}
    done = 0
    t = time.perf_counter()
    with jsonl.open("rb") as f:
        for raw in f:
            obj = json.loads(raw)
            parent = obj.get("__parentId")
            if parent is None:
                if done >= args.baseline_orders:
                    break
                row = records.order_row(obj, ctx)
                base.execute(insert_order, row)
                parents[row["order_id"]] = row
                done += 1
                for li in waiting.pop(row["order_id"], []):
                    base.execute(insert_line, records.line_item_row(li, row))
            elif parent in parents:
                base.execute(insert_line, records.line_item_row(obj, parents[parent]))
            else:
                waiting.setdefault(parent, []).append(obj)
    base_seconds = time.perf_counter() - t
    base.close()

    orders_per_s = n_orders / seconds
    baseline_per_s = done / base_seconds
    result = {
        "bench": "shopify_bulk", "orders": n_orders, "line_items": loaded["l"], "jsonl_mb": round(size / 1e6, 1),
        "block_mb": loader.block_bytes >> 20, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
        "merge_seconds": round(load_seconds[0], 2), "load_average": load_average,
        "orders_per_s": round(orders_per_s),
        "baseline_orders": done, "baseline_seconds": round(base_seconds, 2),
        "baseline_orders_per_s": round(baseline_per_s), "ratio": round(orders_per_s / baseline_per_s, 1),
        "goal_orders_per_s": 100_000,
        **(floor or {}),
    }
    print(json.dumps(result))
    return result


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
    # The connector's parse statements (bulk.parse_file runs them in its private DuckDB).
    orders_sql, orders_params = bulk.orders_query(str(jsonl), ctx)
    items_sql, items_params = bulk.items_query(str(jsonl))
    t = time.perf_counter()
    con = duckdb.connect(str(path), config={"threads": os.cpu_count() or 1})
    con.execute("SET TimeZone = 'UTC'")
    con.execute("INSERT INTO orders BY NAME " + orders_sql, orders_params)
    con.execute("INSERT INTO order_line_items BY NAME SELECT $brand_id AS brand_id, i.*, o.order_date, o.currency "
                f"FROM ({items_sql}) AS i JOIN orders AS o ON o.brand_id = $brand_id AND o.order_id = i.order_id",
                {**items_params, "brand_id": ctx.brand_id})
    orders, lines = con.execute("SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_line_items)"
                                ).fetchone()
    con.close()
    seconds = time.perf_counter() - t
    return {"floor_seconds": round(seconds, 2), "floor_orders_per_s": round(orders / seconds),
            "floor_threads": os.cpu_count(), "floor_rows": [orders, lines]}


if __name__ == "__main__":
    main()
