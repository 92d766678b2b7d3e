"""Loading a Shopify bulk export into the warehouse, block by block, inside the warehouse, resumable at each block.

The connector (:mod:`tower.connectors.shopify.bulk`) starts and polls the export, downloads its
JSONL file from a byte offset and knows how its lines map to rows (the parse statements, one per
engine). :class:`BulkLoader` cuts the download into blocks of whole lines, each written to a private
scratch file, and has the warehouse load each block itself (``Warehouse.load_file``): DuckDB reads
the file with its own JSON reader, BigQuery loads it from Cloud Storage with a load job. Nothing is
parsed in Python. The next block is written while this one loads; after each block the export's
:class:`~tower.connectors.shopify.bulk.BulkProgress` moves past it and is checkpointed, so a
function cut off by its 9-minute limit — or killed — resumes there.

One block is one transaction that keeps every guarantee of a sync:

* **key matching**: rows whose key is already stored are replaced (a replayed block, an order a
  webhook stored meanwhile, an incremental export over stored orders);
* **privacy**: orders of customers who asked to be forgotten lose their personal fields before they
  are stored (``sync.privacy``);
* **line items** take their order's date and currency from the block's orders or the stored ones;
  a line item whose order is in neither (children follow no guaranteed order) is carried, in the
  checkpoint, to the next block; an unlinked line item (its product was deleted) keeps the
  variant stored before, or gets the one its SKU names;
* fulfillment orders and their lines are stored as they come, each with its own parent's id.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tower import sql as sqlfiles
from tower.connectors.retry import RetryPolicy
from tower.connectors.shopify import bulk as bulkmod
from tower.connectors.shopify import scratch
from tower.connectors.shopify.bulk import BLOCK_BYTES, BulkProgress, download, iter_block_files
from tower.connectors.shopify.records import BrandContext
from tower.ports import Warehouse
from tower.sync.privacy import PERSONAL_ORDER_FIELDS

#: Bytes of JSONL per block, by warehouse engine. DuckDB commits and checkpoints once per block,
#: rewriting each table's last, partly filled row group: 1 GiB blocks (~380k orders) spent a third
#: of the CPU 256 MB blocks did on commits (bench/shopify_bulk.py); they wait on local disk. On
#: BigQuery a block is one upload, one load job and one script (against DML quotas, fewer is
#: better), but it waits in the function's memory-backed /tmp, two at a time: 256 MB each.
BLOCK_BYTES_BY_ENGINE = {"duckdb": 1024 * 1024 * 1024, "bigquery": BLOCK_BYTES}

AfterBlock = Callable[[BulkProgress], bool]
"""Runs after each stored block (the checkpoint); False stops the load there."""

#: The carried line items' columns (what the parse gives before the order is known).
_ITEM_COLUMNS = ("order_id", "line_item_id", "product_id", "variant_id", "sku", "quantity", "refunded_quantity",
                 "price_amount", "discount_amount")


@dataclass
class BlockResult:
    """What one block stored: rows per table and the store-local order dates they fall on."""

    stored: dict[str, int] = field(default_factory=dict)
    first_date: date | None = None
    last_date: date | None = None


@dataclass(frozen=True)
class BulkLoader:
    """One brand's bulk load into one warehouse.

    Attributes:
        warehouse: Where the rows go (it parses the blocks itself: ``Warehouse.load_file``).
        ctx: The brand the export belongs to (timezone, currency, customer-hash salt).
        suppressed: ``(suppression keys, whole shop redacted)`` from ``privacy.load_suppressions``.
        block_bytes: Bytes of JSONL per block (one load, one transaction and one checkpoint each;
            None: :data:`BLOCK_BYTES_BY_ENGINE`).
        data_dir: Where the scratch files go (None: the settings' data dir).
        on_block: Told of each block stored (rows per table, the order dates they fall on).
    """

    warehouse: Warehouse
    ctx: BrandContext
    suppressed: tuple[set[str], bool] = (set(), False)
    block_bytes: int | None = None
    data_dir: str | os.PathLike[str] | None = None
    on_block: Callable[[BlockResult], None] = lambda _: None

    def fetch(self, progress: BulkProgress, *, timeout: float, policy: RetryPolicy, after_block: AfterBlock) -> bool:
        """Download from the checkpointed offset and load block by block; True when the file is done.

        A dropped download is retried by ``policy`` from the offset of the last stored block.
        """
        assert progress.url is not None

        def one_pass() -> bool:
            chunks, _ = download(progress.url or "", progress.offset, timeout=timeout)
            return self.load(chunks, progress, after_block)

        finished = policy.call(one_pass)
        if finished:
            if progress.pending:
                # Children whose order never appeared: the export and the shop disagree. Keep nothing
                # half-linked; the next incremental sync re-reads those orders whole.
                progress.pending = []
            progress.phase = "done"
        return finished

    def load(self, chunks: Iterator[bytes], progress: BulkProgress, after_block: AfterBlock = lambda _: True) -> bool:
        """Load a stream read from ``progress.offset`` block by block, writing block N+1 while block
        N loads.

        Reading the stream into the next block's file runs in one background thread (two files take
        turns), so download and warehouse load overlap. Blocks load strictly in file order: after
        each, ``progress.offset`` moves past it and ``after_block`` runs (the checkpoint); when it
        returns False the load stops there and the block read ahead is dropped — the checkpoint lies
        before it, so the next run reads it again.

        The block files are private scratch files under ``data_dir``, truncated as soon as the
        warehouse has read them (the raw lines carry customer ids, full ZIPs and click ids); the
        directory goes when the load ends, or, after a crash, at the start of the next load or sync.

        Returns:
            True when the stream ran out, False when ``after_block`` stopped the load.
        """
        stop = threading.Event()

        def until_stopped() -> Iterator[bytes]:
            # Once the load stops, the read-ahead ends at the next chunk instead of fetching a whole block.
            for chunk in chunks:
                if stop.is_set():
                    return
                yield chunk

        with scratch.scratch_dir(self.data_dir) as tmp:
            paths = [os.path.join(tmp, "block-a.jsonl"), os.path.join(tmp, "block-b.jsonl")]
            block_bytes = self.block_bytes or BLOCK_BYTES_BY_ENGINE.get(self.warehouse.engine, BLOCK_BYTES)
            # A small first block: the warehouse starts while the rest of the first big one downloads.
            blocks = iter_block_files(until_stopped(), progress.offset, paths, block_bytes,
                                      first_block_bytes=block_bytes // 16)

            def read_next() -> tuple[str, int] | None:
                return None if stop.is_set() else next(blocks, None)

            first = True

            try:
                # Leaving the pool waits for the read-ahead (cut short by stop); then the stream closes.
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shopify-bulk-read") as pool:
                    try:
                        ahead = pool.submit(read_next)
                        while (got := ahead.result()) is not None:
                            path, end = got
                            try:
                                # The other file is free: the next block is written while this one loads.
                                ahead = pool.submit(read_next)
                                self.load_path(path, progress, first_of_run=first)
                                first = False
                            finally:
                                # The raw lines are in the warehouse now: nothing personal waits on disk.
                                os.truncate(path, 0)
                            progress.offset = end
                            if not after_block(progress):
                                return False
                    finally:
                        stop.set()
            finally:
                blocks.close()
        return True

    def load_block(self, block: bytes, progress: BulkProgress) -> None:
        """Load one block of whole lines given as bytes (:meth:`load_path`)."""
        if not block.strip():
            return
        with scratch.scratch_dir(self.data_dir) as tmp:
            path = os.path.join(tmp, "block.jsonl")
            with scratch.private_file(path) as f:
                f.write(block)
            self.load_path(path, progress)

    def load_path(self, path: str, progress: BulkProgress, *, first_of_run: bool = True) -> BlockResult:
        """Load one block file in one transaction; carry the line items still without their order.

        ``first_of_run``: the first block this process loads, which a crash may have committed
        before its checkpoint was written (fulfillment rows are key-matched then; see
        :func:`block_script`).
        """
        if progress.fulfillment_stored is None:
            progress.fulfillment_stored = bool(self.warehouse.rows(
                "SELECT fulfillment_order_id FROM fulfillment_orders WHERE brand_id = @brand_id LIMIT 1",
                {"brand_id": self.ctx.brand_id}))
        match = progress.fulfillment_stored or (first_of_run and progress.offset > 0)
        statements, params = block_script(self.warehouse.engine, self.ctx, self.suppressed, progress.pending,
                                          match_fulfillment=match)
        rows = self.warehouse.load_file(path, statements, params)
        head = rows[0] if rows else {}
        result = BlockResult(
            stored={"orders": int(head.get("orders_stored") or 0),
                    "order_line_items": int(head.get("items_stored") or 0)},
            first_date=head.get("first_order_date"), last_date=head.get("last_order_date"))
        progress.pending = [{k: _jsonable(r[k]) for k in _ITEM_COLUMNS} for r in rows if r.get("line_item_id")]
        progress.orders += result.stored["orders"]
        progress.line_items += result.stored["order_line_items"]
        self.on_block(result)
        return result


def _jsonable(value: Any) -> Any:
    return str(value) if hasattr(value, "as_tuple") else value


# -- the block's statements ------------------------------------------------------------------------------
def block_script(engine: str, ctx: BrandContext, suppressed: tuple[set[str], bool],
                 pending: Sequence[Mapping[str, Any]], *,
                 match_fulfillment: bool = True) -> tuple[list[str], dict[str, Any]]:
    """The statements that load one block in ``engine``'s dialect, and their parameters.

    Orders and line items are always key-matched: a webhook may store an order while the export
    loads. Fulfillment orders and their lines come from Shopify syncs alone, so their keys need
    matching only when the brand had some before this load (``match_fulfillment``), or for the
    first block after a resume — the one a crash may have committed before its checkpoint.

    The last statement answers one row of counts (``orders_stored``, ``items_stored``,
    ``first_order_date``, ``last_order_date``) joined to the line items still waiting for their
    order, if any.
    """
    if engine == "duckdb":
        return _duckdb_script(ctx, suppressed, pending, match_fulfillment=match_fulfillment)
    if engine == "bigquery":
        return _bigquery_script(ctx, suppressed, pending, match_fulfillment=match_fulfillment)
    raise ValueError(f"no bulk load for warehouse engine {engine!r}")


def _duckdb_script(ctx: BrandContext, suppressed: tuple[set[str], bool], pending: Sequence[Mapping[str, Any]], *,
                   match_fulfillment: bool) -> tuple[list[str], dict[str, Any]]:
    # Two scans of the block: its orders, and every child line at once (line items, fulfillment
    # orders and their lines, told apart by id); the child tables are projections of the latter.
    orders_sql, params = bulkmod.orders_query("", ctx)
    params = {k: v for k, v in params.items() if k != "path"}  # load_file gives the block's path
    items_sql = bulkmod.child_rows("items", "_bulk_children")
    if pending:
        params["pending"] = json.dumps(list(pending))
        items_sql = f"{items_sql} UNION ALL BY NAME {_DUCKDB_PENDING}"
    statements = [f"CREATE OR REPLACE TEMP TABLE _bulk_orders AS {orders_sql}"]
    keys, whole_shop = suppressed
    if whole_shop or keys:
        statements.append(_DUCKDB_SUPPRESS_ALL if whole_shop else _DUCKDB_SUPPRESS)
        if not whole_shop:
            params["suppressed"] = sorted(keys)
    statements += [f"CREATE OR REPLACE TEMP TABLE _bulk_children AS {bulkmod.CHILDREN_SQL}",
                   f"CREATE OR REPLACE TEMP TABLE _bulk_items AS {items_sql}", *_DUCKDB_ORDERS_AND_LINES]
    if match_fulfillment:
        statements += list(_DUCKDB_MATCH_FULFILLMENT)
    statements += [
        "INSERT INTO fulfillment_orders BY NAME " + bulkmod.child_rows("fulfillment_orders", "_bulk_children"),
        "INSERT INTO fulfillment_order_line_items BY NAME "
        + bulkmod.child_rows("fulfillment_order_line_items", "_bulk_children"),
        _DUCKDB_RESULT,
    ]
    return statements, params


_PENDING_STRUCT = json.dumps({"order_id": "VARCHAR", "line_item_id": "VARCHAR", "product_id": "VARCHAR",
                              "variant_id": "VARCHAR", "sku": "VARCHAR", "quantity": "BIGINT",
                              "refunded_quantity": "BIGINT", "price_amount": "VARCHAR", "discount_amount": "VARCHAR"})
_DUCKDB_PENDING = f"""
SELECT order_id, line_item_id, product_id, variant_id, sku, quantity, refunded_quantity,
       CAST(price_amount AS DECIMAL(38, 9)) AS price_amount, CAST(discount_amount AS DECIMAL(38, 9)) AS discount_amount
FROM (SELECT unnest(from_json($pending, '[{_PENDING_STRUCT}]'), recursive := true))
"""
# privacy.suppression_key in SQL: customers who asked to be forgotten stay forgotten.
_NULL_PERSONAL = ", ".join(f"{c} = NULL" for c in PERSONAL_ORDER_FIELDS)
_DUCKDB_SUPPRESS = (f"UPDATE _bulk_orders SET {_NULL_PERSONAL} "
                    "WHERE sha256('redacted:' || customer_hash) IN (SELECT unnest($suppressed))")
_DUCKDB_SUPPRESS_ALL = f"UPDATE _bulk_orders SET {_NULL_PERSONAL}"
# The line items with their order's date and currency: most orders are this block's own (a small
# in-memory join); the few others were stored by an earlier block (or sync).
_DUCKDB_LINES = """SELECT $brand_id AS brand_id, i.*, o.order_date, o.currency
    FROM _bulk_items AS i JOIN _bulk_orders AS o ON o.order_id = i.order_id
    UNION ALL BY NAME
    SELECT $brand_id AS brand_id, i.*, o.order_date, o.currency
    FROM _bulk_items AS i JOIN orders AS o ON o.brand_id = $brand_id AND o.order_id = i.order_id
    WHERE NOT EXISTS (SELECT 1 FROM _bulk_orders AS b WHERE b.order_id = i.order_id)"""
_DUCKDB_ORDERS_AND_LINES = (
    # A deleted product's line items come back without variant and product: keep the ids stored
    # before (before this block replaces them), or take the variant the SKU names when one has it.
    """UPDATE _bulk_items SET product_id = k.product_id, variant_id = k.variant_id FROM (
        SELECT l.line_item_id, l.product_id, l.variant_id FROM order_line_items AS l
        WHERE l.brand_id = $brand_id AND l.variant_id IS NOT NULL AND l.line_item_id IN (
            SELECT line_item_id FROM _bulk_items WHERE variant_id IS NULL AND product_id IS NULL)) AS k
    WHERE _bulk_items.line_item_id = k.line_item_id
      AND _bulk_items.variant_id IS NULL AND _bulk_items.product_id IS NULL""",
    """UPDATE _bulk_items SET product_id = v.product_id, variant_id = v.variant_id FROM (
        SELECT sku, any_value(product_id) AS product_id, any_value(variant_id) AS variant_id FROM variants
        WHERE brand_id = $brand_id
          AND sku IN (SELECT sku FROM _bulk_items WHERE variant_id IS NULL AND product_id IS NULL)
        GROUP BY sku HAVING count(*) = 1) AS v
    WHERE _bulk_items.sku = v.sku AND _bulk_items.variant_id IS NULL AND _bulk_items.product_id IS NULL""",
    # Key matching joins on the order date too (a line's date is its order's and never changes):
    # DuckDB then prunes the stored rows by the block's dates before it compares ids. An order of
    # this block replaces the order and every line stored with it (a line removed by an edit goes);
    # a line whose order came earlier replaces the line.
    """DELETE FROM orders AS t USING _bulk_orders AS s
    WHERE t.brand_id = $brand_id AND t.order_date = s.order_date AND t.order_id = s.order_id""",
    """DELETE FROM order_line_items AS t USING _bulk_orders AS s
    WHERE t.brand_id = $brand_id AND t.order_date = s.order_date AND t.order_id = s.order_id""",
    """DELETE FROM order_line_items AS t USING (
        SELECT i.line_item_id, o.order_date FROM _bulk_items AS i
        JOIN orders AS o ON o.brand_id = $brand_id AND o.order_id = i.order_id
        WHERE NOT EXISTS (SELECT 1 FROM _bulk_orders AS b WHERE b.order_id = i.order_id)) AS s
    WHERE t.brand_id = $brand_id AND t.order_date = s.order_date AND t.line_item_id = s.line_item_id""",
    "INSERT INTO orders BY NAME SELECT * FROM _bulk_orders",
    f"INSERT INTO order_line_items BY NAME {_DUCKDB_LINES}",
)
_DUCKDB_MATCH_FULFILLMENT = (
    """DELETE FROM fulfillment_orders WHERE brand_id = $brand_id AND fulfillment_order_id IN (
        SELECT id FROM _bulk_children WHERE starts_with(id, 'gid://shopify/FulfillmentOrder/'))""",
    """DELETE FROM fulfillment_order_line_items WHERE brand_id = $brand_id AND fulfillment_order_line_item_id IN (
        SELECT id FROM _bulk_children WHERE starts_with(id, 'gid://shopify/FulfillmentOrderLineItem/'))""",
)
_DUCKDB_RESULT = """
WITH waiting AS (
    SELECT * FROM _bulk_items AS i
    WHERE NOT EXISTS (SELECT 1 FROM _bulk_orders AS b WHERE b.order_id = i.order_id)
      AND NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.brand_id = $brand_id AND o.order_id = i.order_id)
), counts AS (
    SELECT (SELECT count(*) FROM _bulk_orders) AS orders_stored,
           (SELECT count(*) FROM _bulk_items) - (SELECT count(*) FROM waiting) AS items_stored,
           (SELECT min(order_date) FROM _bulk_orders) AS first_order_date,
           (SELECT max(order_date) FROM _bulk_orders) AS last_order_date
)
SELECT counts.*, waiting.* FROM counts LEFT JOIN waiting ON TRUE
"""


def _insert(table: str, source: str) -> str:
    columns = ", ".join(sqlfiles.arrow_schema(table).names)
    return f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {source}"


def _bigquery_script(ctx: BrandContext, suppressed: tuple[set[str], bool], pending: Sequence[Mapping[str, Any]], *,
                     match_fulfillment: bool) -> tuple[list[str], dict[str, Any]]:
    """One script: parse the staged lines into temporary tables, then key-match and insert in one
    transaction (partition-pruned by the block's order dates, held in script variables)."""
    params = bulkmod.bigquery_parameters(ctx)
    items_sql = bulkmod.BIGQUERY_ITEMS
    if pending:
        params["pending"] = json.dumps(list(pending))
        items_sql = f"{items_sql} UNION ALL {_BIGQUERY_PENDING}"
    statements = ["DECLARE lo, hi DATE", bulkmod.BIGQUERY_URL_DECODE, bulkmod.BIGQUERY_RAW,
                  f"CREATE TEMP TABLE _bulk_orders AS {bulkmod.BIGQUERY_ORDERS}"]
    keys, whole_shop = suppressed
    if whole_shop or keys:
        where = "TRUE" if whole_shop else "TO_HEX(SHA256(CONCAT('redacted:', customer_hash))) IN UNNEST(@suppressed)"
        statements.append(f"UPDATE _bulk_orders SET {_NULL_PERSONAL} WHERE {where}")
        if not whole_shop:
            params["suppressed"] = sorted(keys)
    statements += [
        f"CREATE TEMP TABLE _bulk_items AS {items_sql}",
        *_BIGQUERY_LINKS,
        f"CREATE TEMP TABLE _bulk_fos AS {bulkmod.BIGQUERY_FULFILLMENT_ORDERS}",
        f"CREATE TEMP TABLE _bulk_fo_lines AS {bulkmod.BIGQUERY_FULFILLMENT_LINES}",
        "BEGIN TRANSACTION",
        "SET (lo, hi) = (SELECT AS STRUCT MIN(order_date), MAX(order_date) FROM _bulk_orders)",
        # As on DuckDB: an order of the block replaces the order and its stored lines; a line whose
        # order came earlier replaces the line. The dates bound the partitions each DELETE reads.
        ("DELETE FROM orders WHERE brand_id = @brand_id AND order_date BETWEEN lo AND hi "
         "AND order_id IN (SELECT order_id FROM _bulk_orders)"),
        ("DELETE FROM order_line_items WHERE brand_id = @brand_id AND order_date BETWEEN lo AND hi "
         "AND order_id IN (SELECT order_id FROM _bulk_orders)"),
        _insert("orders", "_bulk_orders"),
        ("CREATE TEMP TABLE _bulk_lines AS SELECT @brand_id AS brand_id, i.*, o.order_date, o.currency "
         "FROM _bulk_items AS i JOIN orders AS o ON o.brand_id = @brand_id AND o.order_id = i.order_id"),
        "SET (lo, hi) = (SELECT AS STRUCT MIN(order_date), MAX(order_date) FROM _bulk_lines)",
        ("DELETE FROM order_line_items WHERE brand_id = @brand_id AND order_date BETWEEN lo AND hi "
         "AND line_item_id IN (SELECT line_item_id FROM _bulk_lines "
         "WHERE order_id NOT IN (SELECT order_id FROM _bulk_orders))"),
        _insert("order_line_items", "_bulk_lines"),
    ]
    if match_fulfillment:
        statements += list(_BIGQUERY_MATCH_FULFILLMENT)
    statements += [
        _insert("fulfillment_orders", "_bulk_fos"),
        _insert("fulfillment_order_line_items", "_bulk_fo_lines"),
        "COMMIT TRANSACTION",
        _BIGQUERY_RESULT,
    ]
    return statements, params


_BIGQUERY_PENDING = """
SELECT JSON_VALUE(p, '$.order_id') AS order_id, JSON_VALUE(p, '$.line_item_id') AS line_item_id,
  JSON_VALUE(p, '$.product_id') AS product_id, JSON_VALUE(p, '$.variant_id') AS variant_id,
  JSON_VALUE(p, '$.sku') AS sku, CAST(JSON_VALUE(p, '$.quantity') AS INT64) AS quantity,
  CAST(JSON_VALUE(p, '$.refunded_quantity') AS INT64) AS refunded_quantity,
  CAST(JSON_VALUE(p, '$.price_amount') AS NUMERIC) AS price_amount,
  CAST(JSON_VALUE(p, '$.discount_amount') AS NUMERIC) AS discount_amount
FROM UNNEST(JSON_QUERY_ARRAY(PARSE_JSON(@pending))) AS p
"""
_BIGQUERY_RESULT = _DUCKDB_RESULT.replace("$brand_id", "@brand_id")
_BIGQUERY_LINKS = (
    """UPDATE _bulk_items AS i SET product_id = k.product_id, variant_id = k.variant_id FROM (
      SELECT line_item_id, product_id, variant_id FROM order_line_items
      WHERE brand_id = @brand_id AND variant_id IS NOT NULL AND line_item_id IN (
        SELECT line_item_id FROM _bulk_items WHERE variant_id IS NULL AND product_id IS NULL)) AS k
    WHERE i.line_item_id = k.line_item_id AND i.variant_id IS NULL AND i.product_id IS NULL""",
    """UPDATE _bulk_items AS i SET product_id = v.product_id, variant_id = v.variant_id FROM (
      SELECT sku, ANY_VALUE(product_id) AS product_id, ANY_VALUE(variant_id) AS variant_id FROM variants
      WHERE brand_id = @brand_id
        AND sku IN (SELECT sku FROM _bulk_items WHERE variant_id IS NULL AND product_id IS NULL)
      GROUP BY sku HAVING COUNT(*) = 1) AS v
    WHERE i.sku = v.sku AND i.variant_id IS NULL AND i.product_id IS NULL""",
)
_BIGQUERY_MATCH_FULFILLMENT = (
    """DELETE FROM fulfillment_orders WHERE brand_id = @brand_id
      AND fulfillment_order_id IN (SELECT fulfillment_order_id FROM _bulk_fos)""",
    """DELETE FROM fulfillment_order_line_items WHERE brand_id = @brand_id
      AND fulfillment_order_line_item_id IN (SELECT fulfillment_order_line_item_id FROM _bulk_fo_lines)""",
)
