"""Loading a Shopify bulk export of orders into the warehouse, block by block, resumable at each block.

The connector (:mod:`tower.connectors.shopify.bulk`) starts and polls the export, downloads its
JSONL file from a byte offset and parses whole-line blocks into the ``orders`` and
``order_line_items`` shapes. :class:`BulkLoader` runs that download through the parse into the
warehouse: the next block is parsed in a background thread while this one is stored, and after
each stored block the export's :class:`~tower.connectors.shopify.bulk.BulkProgress` moves past it
and is checkpointed, so a function cut off by its 9-minute limit — or killed — resumes there.

Child lines (``__parentId``) follow no guaranteed order, so a line item whose order is not in its
block is resolved from orders already stored, or carried forward (in the checkpoint) until its
order arrives.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tower.connectors.retry import RetryPolicy
from tower.connectors.shopify import scratch
from tower.connectors.shopify.bulk import (
    BLOCK_BYTES,
    BulkProgress,
    ParsedBlock,
    attach_orders,
    download,
    iter_block_files,
    parse_block,
    parse_file,
)
from tower.connectors.shopify.records import BrandContext

AfterBlock = Callable[[BulkProgress], bool]
"""Runs after each stored block (the checkpoint); False stops the load there."""


@dataclass(frozen=True)
class BulkLoader:
    """Where one brand's blocks go, and how big they are.

    Attributes:
        ctx: The brand the export belongs to (timezone, currency, customer-hash salt).
        store_orders: Stores a block's ``orders`` rows.
        store_line_items: Stores ``order_line_items`` rows joined to their orders.
        order_keys: ``order_id``, ``order_date`` and ``currency`` of stored orders, by id.
        block_bytes: Bytes of JSONL per block (one parse, one load and one checkpoint each).
        data_dir: Where the scratch files go (None: the settings' data dir).
    """

    ctx: BrandContext
    store_orders: Callable[[pa.Table], object]
    store_line_items: Callable[[pa.Table], object]
    order_keys: Callable[[Sequence[str]], pa.Table]
    block_bytes: int = BLOCK_BYTES
    data_dir: str | os.PathLike[str] | None = None

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
        """Load a stream read from ``progress.offset`` block by block, parsing block N+1 while block N
        is stored.

        Reading the stream and parsing (DuckDB's reader, which releases the GIL) run in one background
        thread, so download, parse and warehouse load overlap. Stores still happen strictly in file
        order: after each block, ``progress.offset`` moves past it and ``after_block`` runs (the
        checkpoint); when it returns False the load stops there and the block parsed ahead is dropped
        — the checkpoint lies before it, so the next run reads it again.

        Each block waits for its parse in one private scratch file under ``data_dir``, truncated
        right after the parse; the directory goes when the load ends, or, after a crash, at the
        start of the next load or sync (:mod:`~tower.connectors.shopify.scratch`).

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
            path = os.path.join(tmp, "block.jsonl")
            files = iter_block_files(until_stopped(), progress.offset, path, self.block_bytes)

            def parse_next() -> tuple[ParsedBlock, int] | None:
                end = next(files, None)
                if end is None or stop.is_set():
                    return None
                try:
                    return parse_file(path, self.ctx), end
                finally:
                    # The raw lines are in Arrow now: nothing personal waits on disk for the next block.
                    os.truncate(path, 0)

            try:
                # Leaving the pool waits for the read-ahead (cut short by stop); then the stream closes.
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shopify-bulk-parse") as pool:
                    try:
                        ahead = pool.submit(parse_next)
                        while (got := ahead.result()) is not None:
                            ahead = pool.submit(parse_next)
                            parsed, end = got
                            self.store(parsed, progress)
                            progress.offset = end
                            if not after_block(progress):
                                return False
                    finally:
                        stop.set()
            finally:
                files.close()
        return True

    def load_block(self, block: bytes, progress: BulkProgress) -> None:
        """Parse one block of whole lines and store it (:meth:`store`)."""
        self.store(parse_block(block, self.ctx, data_dir=self.data_dir), progress)

    def store(self, parsed: ParsedBlock, progress: BulkProgress) -> None:
        """Store a parsed block's orders, then the line items whose orders are known; carry the rest."""
        orders = parsed.orders
        if orders.num_rows:
            self.store_orders(orders)
        items = parsed.items
        if progress.pending:
            carried = [{**r, **{k: Decimal(r[k]) for k in ("price_amount", "discount_amount") if r.get(k) is not None}}
                       for r in progress.pending]
            items = pa.concat_tables([pa.Table.from_pylist(carried, schema=items.schema), items])
        resolved, rest = attach_orders(items, orders, self.ctx.brand_id)
        if rest.num_rows:
            stored = self.order_keys(pc.unique(rest.column("order_id")).to_pylist())
            more, rest = attach_orders(rest, stored, self.ctx.brand_id)
            resolved = pa.concat_tables([resolved, more])
        if resolved.num_rows:
            self.store_line_items(resolved)
        progress.pending = [_jsonable(r) for r in rest.to_pylist()]
        progress.orders += orders.num_rows
        progress.line_items += resolved.num_rows


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if hasattr(v, "as_tuple") else v) for k, v in row.items()}
