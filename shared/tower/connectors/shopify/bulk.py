"""Bulk export of orders, the platform side: start → poll → download, and a columnar JSONL parser.

A first sync over a long history cannot page 10 orders at a time, so it asks Shopify to export
all orders as JSONL (``bulkOperationRunQuery``), polls ``bulkOperation(id:)`` until the file is
ready, then downloads it in byte ranges. :class:`BulkProgress` is the export's resumable state
(phase, operation id, URL, byte offset, line items waiting for their order), which the loader keeps
in ``sync_state``; a download dropped mid-way resumes with ``Range: bytes=<offset>-``. Loading the
blocks into the warehouse is :mod:`tower.sync.shopify_bulk`.

Parsing is columnar: each block of whole lines goes through DuckDB's NDJSON reader and column
expressions (the salted customer hash included) into the ``orders`` and ``order_line_items``
tables' shape. A block waits for its parse in a private scratch file under the data dir
(:mod:`tower.connectors.shopify.scratch`) and is truncated as soon as it is parsed: the raw lines
carry customer ids, full ZIP codes and click ids, which must not outlive the parse. Child lines
(``__parentId``) follow no guaranteed order: :func:`attach_orders` joins the line items whose
order is at hand and returns the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tower.connectors.retry import FatalError, RetriableError
from tower.connectors.shopify import scratch
from tower.connectors.shopify.client import PLATFORM, ShopifyClient
from tower.connectors.shopify.records import CLICK_IDS, UTM_KEYS, BrandContext, table_schema
from tower.connectors.shopify.streams import bulk_orders_query, load_document

#: Bytes of JSONL per block: one parse, one warehouse load and one checkpoint each. Fewer, larger
#: blocks cut the per-load costs (in DuckDB, 32 MB blocks spent more time in commits and
#: checkpoints than in the inserts; in BigQuery a MERGE is one job against a DML quota). 256 MB
#: (~95k orders) peaks at ~1.1 GB RSS plus the block's scratch file, inside the 2 GiB sync
#: function (measured with bench/shopify_bulk.py).
BLOCK_BYTES = 256 * 1024 * 1024
FINISHED_BAD = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})
RETRY_LATER_CODES = frozenset({"OPERATION_IN_PROGRESS", "LIMIT_REACHED"})

# -- the columnar parser -----------------------------------------------------------------------------
# DuckDB is used here as an in-process JSON engine, not as the warehouse: its newline-delimited
# JSON reader is multi-threaded and vectorised (several times faster than pyarrow's on these nested
# lines), and the mapping to the tables' shape runs as column expressions. The result is Arrow
# tables in the DDL's types; whichever warehouse is configured loads them. The expressions mirror
# records.order_row / line_item_row exactly (a test runs both paths against the same truth).
_MONEY = "STRUCT(shopMoney STRUCT(amount VARCHAR, currencyCode VARCHAR))"
_VISIT = ("STRUCT(landingPage VARCHAR, referrerUrl VARCHAR, source VARCHAR, utmParameters STRUCT("
          + ", ".join(f"{k} VARCHAR" for k in UTM_KEYS) + "))")
#: Every field an OrdersBulk line can carry (orders and line items share one reader schema).
LINE_COLUMNS: dict[str, str] = {
    "id": "VARCHAR", "__parentId": "VARCHAR", "name": "VARCHAR", "createdAt": "VARCHAR",
    "processedAt": "VARCHAR", "updatedAt": "VARCHAR", "cancelledAt": "VARCHAR", "currencyCode": "VARCHAR",
    "sourceName": "VARCHAR", "subtotalPriceSet": _MONEY, "totalDiscountsSet": _MONEY,
    "totalShippingPriceSet": _MONEY, "totalTaxSet": _MONEY, "totalPriceSet": _MONEY,
    "currentSubtotalPriceSet": _MONEY,
    "shippingAddress": "STRUCT(countryCodeV2 VARCHAR, provinceCode VARCHAR, zip VARCHAR)",
    "customer": "STRUCT(id VARCHAR)", "customerJourneySummary": f"STRUCT(firstVisit {_VISIT}, lastVisit {_VISIT})",
    "sku": "VARCHAR", "quantity": "BIGINT", "currentQuantity": "BIGINT", "originalUnitPriceSet": _MONEY,
    "totalDiscountSet": _MONEY, "variant": "STRUCT(id VARCHAR)", "product": "STRUCT(id VARCHAR)",
}
_COLUMNS_SPEC = "{" + ", ".join(f"'{k}': '{v}'" for k, v in LINE_COLUMNS.items()) + "}"
_DEC = "DECIMAL(38, 9)"
_SHA256_BLOCK = 64
_NON_BLANK = re.compile(rb"\S")


def _ts(expr: str) -> str:
    # Shopify writes ISO 8601 in UTC ("2026-06-22T22:34:00Z"): DuckDB's own ISO cast reads it.
    return f"CAST({expr} AS TIMESTAMPTZ)"


def _amount(bag: str) -> str:
    return f"CAST({bag}.shopMoney.amount AS {_DEC})"


def _param(key: str) -> str:
    """parse_qs(urlsplit(url).query)[key][0]: the first non-empty value, '+' and %XX decoded.

    The regular expression only runs on rows whose query string mentions the key (most do not).
    """
    return (f"CASE WHEN contains(qs, '{key}=') THEN nullif(url_decode(replace("
            f"regexp_extract('&' || qs, '&{key}=([^&]+)', 1), '+', ' ')), '') END")


# privacy.customer_hash (HMAC-SHA256 of the customer gid, keyed by the brand's salt, hex) as a column
# expression: H((K ^ opad) || H((K ^ ipad) || gid)) with the pads given as BLOB parameters
# (:func:`_hmac_pads`), so no customer id crosses into Python. An empty id has no hash, as in
# records.order_row; a bare numeric id is made a gid first (records.customer_gid).
_CUSTOMER_GID = ("CASE WHEN starts_with(customer.id, 'gid://') THEN customer.id "
                 "ELSE 'gid://shopify/Customer/' || customer.id END")
_CUSTOMER_HASH = (f"CASE WHEN coalesce(customer.id, '') <> '' "
                  f"THEN sha256($opad || unhex(sha256($ipad || encode({_CUSTOMER_GID})))) END")

_ORDERS_SQL = f"""
WITH o AS (
    SELECT *,
        {_ts('createdAt')} AS created_ts,
        CASE WHEN customerJourneySummary.lastVisit IS NOT NULL THEN customerJourneySummary.lastVisit
             ELSE customerJourneySummary.firstVisit END AS visit,
        {_amount('subtotalPriceSet')} AS after_discounts,
        coalesce({_amount('totalDiscountsSet')}, 0) AS discount,
        {_amount('currentSubtotalPriceSet')} AS current_subtotal
    FROM read_json($path, format = 'newline_delimited', columns = {_COLUMNS_SPEC}) WHERE "__parentId" IS NULL
), q AS (
    SELECT *,
        regexp_extract(visit.landingPage, '^[^?#]*\\?([^#]*)', 1) AS qs,
        CASE WHEN after_discounts IS NULL OR current_subtotal IS NULL THEN 0
             ELSE greatest(after_discounts - current_subtotal, 0) END AS refunded,
        after_discounts + discount AS subtotal,
        upper(replace(shippingAddress.zip, ' ', '')) AS zip_clean
    FROM o
)
SELECT
    $brand_id AS brand_id, id AS order_id, name AS order_name,
    CAST(created_ts AT TIME ZONE $timezone AS DATE) AS order_date, created_ts AS created_at,
    {_ts('processedAt')} AS processed_at, {_ts('updatedAt')} AS updated_at,
    {_ts('cancelledAt')} AS cancelled_at, coalesce(currencyCode, $currency) AS currency,
    subtotal AS subtotal_amount, discount AS discount_amount,
    {_amount('totalShippingPriceSet')} AS shipping_amount, {_amount('totalTaxSet')} AS tax_amount,
    {_amount('totalPriceSet')} AS total_amount, refunded AS refunded_amount,
    CASE WHEN cancelledAt IS NULL THEN coalesce(subtotal, 0) - discount - refunded ELSE 0 END AS net_revenue_amount,
    shippingAddress.countryCodeV2 AS shipping_country_code,
    CASE WHEN coalesce(shippingAddress.countryCodeV2, '') <> '' AND coalesce(shippingAddress.provinceCode, '') <> ''
         THEN shippingAddress.countryCodeV2 || '-' || shippingAddress.provinceCode END AS shipping_region_code,
    nullif(substr(zip_clean, 1, 3), '') AS shipping_zip_prefix,
    {_CUSTOMER_HASH} AS customer_hash,
    sourceName AS sales_channel, visit.landingPage AS landing_site, visit.referrerUrl AS referrer_url,
    {", ".join(f"coalesce(visit.utmParameters.{k}, {_param('utm_' + k)}) AS utm_{k}" for k in UTM_KEYS)},
    {", ".join(f"{_param(k)} AS {k}" for k in CLICK_IDS)}
FROM q
"""

_ITEMS_SQL = f"""
SELECT "__parentId" AS order_id, id AS line_item_id, product.id AS product_id, variant.id AS variant_id, sku,
       quantity, quantity - currentQuantity AS refunded_quantity,
       {_amount('originalUnitPriceSet')} AS price_amount, {_amount('totalDiscountSet')} AS discount_amount
FROM read_json($path, format = 'newline_delimited', columns = {_COLUMNS_SPEC}) WHERE "__parentId" IS NOT NULL
"""

ITEM_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("line_item_id", pa.string()), ("product_id", pa.string()),
    ("variant_id", pa.string()), ("sku", pa.string()), ("quantity", pa.int64()), ("refunded_quantity", pa.int64()),
    ("price_amount", pa.decimal128(38, 9)), ("discount_amount", pa.decimal128(38, 9)),
])


@lru_cache(maxsize=64)
def _hmac_pads(salt: str) -> tuple[bytes, bytes]:
    """The HMAC-SHA256 inner and outer key pads of a salt (RFC 2104: a key longer than the block is
    hashed first, a shorter one padded with zeros)."""
    key = salt.encode()
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def orders_query(path: str, ctx: BrandContext) -> tuple[str, dict[str, Any]]:
    """The DuckDB statement that reads a JSONL file's orders in the ``orders`` table's shape, and its
    parameters (the brand's context and the customer-hash key pads)."""
    ipad, opad = _hmac_pads(ctx.customer_salt)
    return _ORDERS_SQL, {"path": path, "brand_id": ctx.brand_id, "timezone": ctx.timezone,
                         "currency": ctx.currency, "ipad": ipad, "opad": opad}


def items_query(path: str) -> tuple[str, dict[str, Any]]:
    """The DuckDB statement that reads a JSONL file's line items (not yet joined to their orders)."""
    return _ITEMS_SQL, {"path": path}


def _arrow(rel: Any) -> pa.Table:
    # duckdb's Python API renamed the Arrow export across versions.
    for name in ("to_arrow_table", "arrow", "fetch_arrow_table"):
        fn = getattr(rel, name, None)
        if callable(fn):
            return fn()
    raise RuntimeError("this duckdb has no Arrow export")


def _typed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return pa.table({f.name: pc.cast(table.column(f.name), f.type) for f in schema}, schema=schema)


@dataclass
class ParsedBlock:
    """One block of JSONL as ``orders`` rows and line items (not yet joined to their orders)."""

    orders: pa.Table
    items: pa.Table


def parse_block(data: bytes, ctx: BrandContext, *, data_dir: str | os.PathLike[str] | None = None) -> ParsedBlock:
    """Whole JSONL lines of an OrdersBulk export → the ``orders`` table's rows and the line items.

    DuckDB reads files: the block is written to a private scratch file under ``data_dir`` (None:
    the settings' data dir), read once and deleted.
    """
    # A search for the first non-blank byte, not data.strip(): that copies the whole block.
    if _NON_BLANK.search(data) is None:
        return _empty_block()
    with scratch.scratch_dir(data_dir) as tmp:
        path = os.path.join(tmp, "block.jsonl")
        with scratch.private_file(path) as f:
            f.write(data)
        return parse_file(path, ctx)


def parse_file(path: str, ctx: BrandContext) -> ParsedBlock:
    """:func:`parse_block` over whole JSONL lines already in a file.

    Should DuckDB spill, its temporary files go beside the block (a private scratch directory when
    the block is one), not to DuckDB's default ``.tmp`` in the working directory.
    """
    import duckdb

    size = os.path.getsize(path)
    if size < 4096:
        with open(path, "rb") as f:
            if _NON_BLANK.search(f.read()) is None:
                return _empty_block()
    # One thread: the block is parsed while the previous one loads into the warehouse (BulkLoader.load),
    # so the two already share the cores; a second parse thread costs ~15% more CPU for no gain.
    con = duckdb.connect(config={"threads": 1, "temp_directory": os.path.dirname(os.path.abspath(path))})
    try:
        con.execute("SET TimeZone = 'UTC'")
        # Two scans of the block, each reading only the fields it needs (projection pushdown):
        # one scan of every field, split afterwards, costs as much CPU and more memory.
        orders_sql, orders_params = orders_query(path, ctx)
        items_sql, items_params = items_query(path)
        orders = _arrow(con.sql(orders_sql, params=orders_params))
        items = _arrow(con.sql(items_sql, params=items_params))
    finally:
        con.close()
    return ParsedBlock(_typed(orders, table_schema("orders")), _typed(items, ITEM_SCHEMA))


def _empty_block() -> ParsedBlock:
    return ParsedBlock(table_schema("orders").empty_table(), ITEM_SCHEMA.empty_table())


def attach_orders(items: pa.Table, parents: pa.Table, brand_id: str) -> tuple[pa.Table, pa.Table]:
    """Line items joined to their orders' date and currency: ``(resolved rows, unresolved items)``."""
    schema = table_schema("order_line_items")
    if items.num_rows == 0:
        return schema.empty_table(), items
    # A lookup, not a join: each line item has one order, and a hash lookup of the order ids is
    # several times faster than Arrow's hash join (and keeps the rows' order).
    at = pc.index_in(items.column("order_id"), value_set=parents.column("order_id"))
    ok = pc.is_valid(at)
    if not pc.all(ok).as_py():
        rest = items.filter(pc.invert(ok))
        items, at = items.filter(ok), at.filter(ok)
    else:
        rest = items.slice(0, 0)
    cols = {"brand_id": pa.repeat(pa.scalar(brand_id, pa.string()), items.num_rows),
            "order_date": pc.take(parents.column("order_date"), at),
            "currency": pc.take(parents.column("currency"), at)}
    done = pa.table({f.name: pc.cast(cols[f.name] if f.name in cols else items.column(f.name), f.type)
                     for f in schema}, schema=schema)
    return done, rest


# -- reading the file in blocks --------------------------------------------------------------------------
def _block_pieces(chunks: Iterator[bytes], block_bytes: int) -> Iterator[tuple[memoryview, bool]]:
    """The stream as ``(piece, ends a block)``: a block ends at the last newline of the chunk that
    takes it past ``block_bytes`` (pieces are views, so cutting a chunk copies nothing).

    Raises:
        RetriableError: the stream ended mid-line (a dropped download).
    """
    size = 0
    last = b"\n"
    for chunk in chunks:
        if not chunk:
            continue
        view = memoryview(chunk)
        size += len(chunk)
        last = chunk[-1:]
        cut = chunk.rfind(b"\n") + 1 if size >= block_bytes else 0
        if cut:
            yield view[:cut], True
            size = len(chunk) - cut
            if size:
                yield view[cut:], False
        else:
            yield view, False
    if last != b"\n":
        raise RetriableError("bulk file ended mid-line (connection dropped)", platform=PLATFORM, code="download")
    if size:
        yield memoryview(b""), True


def iter_blocks(chunks: Iterator[bytes], start: int, block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[bytes, int]]:
    """Whole-line blocks of a byte stream: ``(block, offset just past it)``."""
    parts: list[memoryview] = []
    offset = start
    for piece, ends in _block_pieces(chunks, block_bytes):
        parts.append(piece)
        if ends:
            block = b"".join(parts)  # one copy per block
            parts = []
            offset += len(block)
            yield block, offset


def iter_block_files(chunks: Iterator[bytes], start: int, path: str,
                     block_bytes: int = BLOCK_BYTES) -> Generator[int, None, None]:
    """:func:`iter_blocks` written to one file, each block replacing the last: yields the offset just
    past the block in the file. The chunks go straight to the file (no joined copy in memory). The
    file is created 0600; the consumer may truncate it once it has read a block (the next block is
    written from the start either way)."""
    offset = start
    with scratch.private_file(path) as f:
        for piece, ends in _block_pieces(chunks, block_bytes):
            f.write(piece)
            if ends:
                f.truncate()
                f.flush()
                offset += f.tell()
                yield offset
                f.seek(0)


def download(url: str, offset: int, *, timeout: float, chunk: int = 1 << 20) -> tuple[Iterator[bytes], int]:
    """Stream the file from a byte offset: ``(chunks, total size or -1)``."""
    import requests

    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        resp = requests.get(url, headers=headers, stream=True, timeout=timeout)
    except requests.RequestException as e:
        raise RetriableError(f"bulk download failed: {type(e).__name__}", platform=PLATFORM, code="download") from e
    if resp.status_code in (403, 404, 410):
        raise BulkExpired(f"bulk file no longer available (HTTP {resp.status_code})")
    if resp.status_code == 416:
        return iter(()), offset
    if resp.status_code >= 500 or resp.status_code == 429:
        raise RetriableError(f"bulk download HTTP {resp.status_code}", platform=PLATFORM, code=resp.status_code)
    if offset and resp.status_code != 206:
        raise FatalError("the bulk file server ignored the Range header", platform=PLATFORM)
    total = int(resp.headers.get("Content-Length") or -1)

    def chunks() -> Iterator[bytes]:
        try:
            yield from resp.iter_content(chunk_size=chunk)
        except (requests.RequestException, OSError) as e:
            raise RetriableError(f"bulk download dropped: {type(e).__name__}", platform=PLATFORM,
                                 code="download") from e
        finally:
            resp.close()

    return chunks(), total


class BulkExpired(FatalError):
    """The result URL expired (7 days) or vanished: the export must run again."""


# -- the export, step by step (each resumable from BulkProgress) ----------------------------------------
@dataclass
class BulkProgress:
    """The resumable state of one backfill (kept as JSON in ``sync_state.checkpoint``)."""

    phase: str = "start"  # start | poll | fetch | done
    operation_id: str | None = None
    started_at: str | None = None
    url: str | None = None
    offset: int = 0
    orders: int = 0
    line_items: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)  # line items whose order is not stored yet
    restarts: int = 0

    def to_json(self) -> str:
        return json.dumps(self.__dict__, default=str)

    @classmethod
    def from_json(cls, text: str | None) -> BulkProgress:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def run_payload(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The operation a ``bulkOperationRunQuery`` answer created, or None when another export holds the
    slot (``OPERATION_IN_PROGRESS`` before 2026-01, ``LIMIT_REACHED`` after).

    Raises:
        FatalError: Shopify refused the query itself (``INVALID``).
    """
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if errors:
        codes = {e.get("code") for e in errors}
        if codes & RETRY_LATER_CODES:
            return None
        raise FatalError(f"bulk query rejected: {errors[0].get('message')}", platform=PLATFORM,
                         code=next(iter(codes)))
    op = payload.get("bulkOperation")
    if not op:
        raise FatalError("bulkOperationRunQuery returned neither an operation nor errors", platform=PLATFORM)
    return dict(op)


def poll_payload(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The operation of a poll answer (``bulkOperation``, or the deprecated ``currentBulkOperation``).

    Counts are UnsignedInt64, which the API writes as strings; they come back as ints.
    """
    op = data.get("bulkOperation", data.get("currentBulkOperation"))
    if op is None:
        return None
    out = dict(op)
    for key in ("objectCount", "rootObjectCount", "fileSize"):
        if out.get(key) is not None:
            out[key] = int(out[key])
    return out


def start_operation(client: ShopifyClient, progress: BulkProgress, search: str | None = None) -> bool:
    """Ask Shopify to run the export; False while another export still holds the slot."""
    result = client.execute(load_document("bulk_run"), {"query": bulk_orders_query(search)})
    op = run_payload(result.data)
    if op is None:
        return False
    progress.phase, progress.operation_id, progress.started_at = "poll", op["id"], op.get("createdAt")
    progress.url, progress.offset = None, 0
    return True


def poll_operation(client: ShopifyClient, progress: BulkProgress) -> str:
    """One poll; moves to ``fetch`` (or ``done`` for an empty export) when the file is ready."""
    result = client.execute(load_document("bulk_poll"), {"id": progress.operation_id})
    op = poll_payload(result.data)
    if op is None:
        progress.phase, progress.restarts = "start", progress.restarts + 1
        return "missing"
    status = op["status"]
    if status == "COMPLETED":
        progress.url = op.get("url")
        if progress.url:
            progress.phase = "fetch"
        elif op.get("objectCount"):
            # Objects but no file: not an empty export; run it again rather than store nothing.
            progress.phase, progress.restarts = "start", progress.restarts + 1
        else:
            progress.phase = "done"  # an empty export has no file
    elif status in FINISHED_BAD:
        progress.phase, progress.restarts = "start", progress.restarts + 1
    return status


def orders_from_jsonl(data: bytes, ctx: BrandContext, *,
                      data_dir: str | os.PathLike[str] | None = None) -> tuple[pa.Table, pa.Table]:
    """A whole (small) JSONL export as ``(orders, order_line_items)`` tables."""
    parsed = parse_block(data, ctx, data_dir=data_dir)
    resolved, _ = attach_orders(parsed.items, parsed.orders, ctx.brand_id)
    return parsed.orders, resolved

