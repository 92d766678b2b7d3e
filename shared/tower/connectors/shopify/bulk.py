"""Bulk export of orders, the platform side: start → poll → download, and the export's lines as rows.

A first sync over a long history, or any window too long to page, asks Shopify to export the
orders as JSONL (``bulkOperationRunQuery``), polls ``bulkOperation(id:)`` until the file is ready,
then downloads it in byte ranges. :class:`BulkProgress` is the export's resumable state (phase,
operation id, URL, byte offset, line items waiting for their order), which the loader keeps in
``sync_state``; a download dropped mid-way resumes with ``Range: bytes=<offset>-``.
:func:`iter_block_files` cuts the download into whole-line blocks in private scratch files
(:mod:`tower.connectors.shopify.scratch`).

What the lines mean is said here, once per warehouse engine, as SQL the warehouse runs over a block
itself: an order line is a root line; its line items and fulfillment orders are child lines
pointing at it through ``__parentId``, and a fulfillment order's lines point at the fulfillment
order. Which kind a child is, only its id's type says. Loading the blocks (key matching, carried
line items, privacy) is :mod:`tower.sync.shopify_bulk`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any

from tower.connectors.retry import FatalError, RetriableError
from tower.connectors.shopify import scratch
from tower.connectors.shopify.client import PLATFORM, ShopifyClient
from tower.connectors.shopify.records import CLICK_IDS, LANDING_PARAMS, UTM_KEYS, BrandContext
from tower.connectors.shopify.streams import bulk_orders_query, load_document

#: Bytes of JSONL per block when the warehouse does not say (see ``tower.sync.shopify_bulk``): one
#: load, one transaction and one checkpoint each.
BLOCK_BYTES = 256 * 1024 * 1024
FINISHED_BAD = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})
RETRY_LATER_CODES = frozenset({"OPERATION_IN_PROGRESS", "LIMIT_REACHED"})

# -- the lines as rows, in DuckDB's dialect ----------------------------------------------------------------
# DuckDB's newline-delimited JSON reader is multi-threaded and vectorised; it reads each field the
# statement needs into typed columns (the union of every kind of line, LINE_COLUMNS), and the mapping
# to the tables' shape runs as column expressions, the salted customer hash included. The expressions
# mirror records.order_row / line_item_row / fulfillment_rows exactly (a test loads a world's export
# both ways).
#: records.landing_path as a pattern: what follows an optional scheme://host, up to the query or fragment.
_PATH = "^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)"
#: records.referrer_origin as a pattern: scheme://host (the '/' is appended), nothing when there is no host.
_ORIGIN = "^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]+)"
_KEPT = "(" + ", ".join(f"'{k}'" for k in LANDING_PARAMS) + ")"
_MONEY = "STRUCT(shopMoney STRUCT(amount VARCHAR, currencyCode VARCHAR))"
_VISIT = ("STRUCT(landingPage VARCHAR, referrerUrl VARCHAR, source VARCHAR, sourceType VARCHAR, utmParameters STRUCT("
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
    "status": "VARCHAR", "assignedLocation": "STRUCT(location STRUCT(id VARCHAR))", "totalQuantity": "BIGINT",
    "lineItem": "STRUCT(id VARCHAR)",
}
#: What each child line is, by its id: its parent (``__parentId``) does not say.
LINE_ITEM_GID = "gid://shopify/LineItem/"
FULFILLMENT_ORDER_GID = "gid://shopify/FulfillmentOrder/"
FULFILLMENT_ORDER_LINE_GID = "gid://shopify/FulfillmentOrderLineItem/"
_COLUMNS_SPEC = "{" + ", ".join(f"'{k}': '{v}'" for k, v in LINE_COLUMNS.items()) + "}"
_DEC = "DECIMAL(38, 9)"
_SOURCE = f"read_json($path, format = 'newline_delimited', columns = {_COLUMNS_SPEC})"
_SHA256_BLOCK = 64


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


def _landing_site(page: str) -> str:
    """records.landing_site: the site, the path ('/' when none) and the query's LANDING_PARAMS (``qs``)."""
    kept = (f"array_to_string(list_filter(string_split(qs, '&'), lambda p: "
            f"lower(url_decode(replace(split_part(p, '=', 1), '+', ' '))) IN {_KEPT}), '&')")
    return (f"CASE WHEN coalesce({page}, '') <> '' THEN coalesce(regexp_extract({page}, '{_ORIGIN}', 1), '') "
            f"|| coalesce(nullif(regexp_extract({page}, '{_PATH}', 1), ''), '/') "
            f"|| coalesce('?' || nullif({kept}, ''), '') END")


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
    FROM {_SOURCE} WHERE "__parentId" IS NULL
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
    sourceName AS sales_channel, {_landing_site('visit.landingPage')} AS landing_site,
    nullif(regexp_extract(visit.referrerUrl, '{_ORIGIN}', 1), '') || '/' AS referrer_url,
    {", ".join(f"coalesce(visit.utmParameters.{k}, {_param('utm_' + k)}) AS utm_{k}" for k in UTM_KEYS)},
    {", ".join(f"{_param(k)} AS {k}" for k in CLICK_IDS)},
    visit.source AS journey_source, visit.sourceType AS journey_source_type,
    nullif(regexp_extract(visit.landingPage, '{_PATH}', 1), '') AS landing_path
FROM q
"""

# Child lines: line items, fulfillment orders and their lines. Each child field read once, typed, by
# the name the tables' projections below use; each kind of child is told by its id's type.
_CHILD_FIELDS = {
    "parent_id": '"__parentId"', "id": "id", "product_id": "product.id", "variant_id": "variant.id", "sku": "sku",
    "quantity": "quantity", "refunded_quantity": "quantity - currentQuantity",
    "price_amount": _amount("originalUnitPriceSet"), "discount_amount": _amount("totalDiscountSet"),
    "status": "status", "location_id": "assignedLocation.location.id", "updated_at": _ts("updatedAt"),
    "total_quantity": "coalesce(totalQuantity, 0)", "line_item_ref": "lineItem.id",
}
# Each child table: its columns from the child fields (a field name, or a parameter), and its id type.
# A fulfillment order's line is a child of the fulfillment order, which is a child of the order: each
# row keeps its own parent's id, so neither waits for the other to arrive.
_CHILD_TABLES: dict[str, tuple[dict[str, str], str]] = {
    "items": ({"order_id": "parent_id", "line_item_id": "id", **{c: c for c in (
        "product_id", "variant_id", "sku", "quantity", "refunded_quantity", "price_amount", "discount_amount")}},
        LINE_ITEM_GID),
    "fulfillment_orders": ({"brand_id": "$brand_id", "fulfillment_order_id": "id", "order_id": "parent_id",
                            "location_id": "location_id", "status": "status", "updated_at": "updated_at"},
                           FULFILLMENT_ORDER_GID),
    "fulfillment_order_line_items": ({"brand_id": "$brand_id", "fulfillment_order_line_item_id": "id",
                                      "fulfillment_order_id": "parent_id", "line_item_id": "line_item_ref",
                                      "quantity": "total_quantity"}, FULFILLMENT_ORDER_LINE_GID),
}

#: The child lines' fields, read in one scan (what the loader stages as ``_bulk_children``).
CHILDREN_SQL = (f"SELECT {', '.join(f'{e} AS {n}' for n, e in _CHILD_FIELDS.items())} FROM {_SOURCE} "
                f'WHERE "__parentId" IS NOT NULL')


def child_rows(kind: str, source: str | None = None) -> str:
    """The DuckDB statement for one kind of child row (``items``, ``fulfillment_orders``,
    ``fulfillment_order_line_items``) in its table's shape: from the staged children (``source``,
    columns as :data:`CHILDREN_SQL` names them) or, when None, straight from the file."""
    columns, gid = _CHILD_TABLES[kind]
    if source is None:
        fields = ", ".join(f"{v if v.startswith('$') else _CHILD_FIELDS[v]} AS {k}" for k, v in columns.items())
        return f"SELECT {fields} FROM {_SOURCE} WHERE starts_with(id, '{gid}')"
    return f"SELECT {', '.join(f'{v} AS {k}' for k, v in columns.items())} FROM {source} WHERE starts_with(id, '{gid}')"


# -- the lines as rows, in BigQuery's dialect ------------------------------------------------------------
# A BigQuery load job puts each line, unparsed, into the STRING column ``line`` of a staging table
# (``{lines}``); BigQuery parses it (PARSE_JSON) and reads the fields with JSON_VALUE. The columns are
# the DuckDB statements' above, expression for expression (a test checks the two column lists).
def _bq(path: str, source: str = "j") -> str:
    return f"JSON_VALUE({source}, '$.{path}')"


def _bq_ts(path: str) -> str:
    return f"TIMESTAMP({_bq(path)})"


def _bq_amount(bag: str, source: str = "j") -> str:
    return f"CAST({_bq(bag + '.shopMoney.amount', source)} AS NUMERIC)"


def _bq_param(key: str) -> str:
    """:func:`_param` in BigQuery: the first value of ``key`` in the query string, '+' and %XX decoded."""
    return (f"CASE WHEN STRPOS(qs, '{key}=') > 0 THEN NULLIF(url_decode(REPLACE("
            f"REGEXP_EXTRACT(CONCAT('&', qs), r'&{key}=([^&]+)'), '+', ' ')), '') END")


def _bq_landing_site(page: str) -> str:
    """:func:`_landing_site` in BigQuery."""
    kept = (f"ARRAY_TO_STRING(ARRAY(SELECT p FROM UNNEST(SPLIT(qs, '&')) AS p WITH OFFSET AS pos "
            f"WHERE LOWER(url_decode(REPLACE(SPLIT(p, '=')[SAFE_OFFSET(0)], '+', ' '))) IN {_KEPT} "
            f"ORDER BY pos), '&')")
    return (f"CASE WHEN COALESCE({page}, '') <> '' THEN CONCAT(COALESCE(REGEXP_EXTRACT({page}, r'{_ORIGIN}'), ''), "
            f"COALESCE(NULLIF(REGEXP_EXTRACT({page}, r'{_PATH}'), ''), '/'), "
            f"COALESCE(CONCAT('?', NULLIF({kept}, '')), '')) END")


#: DuckDB's url_decode, which BigQuery lacks: %XX escapes become bytes, everything else stays.
BIGQUERY_URL_DECODE = r"""CREATE TEMP FUNCTION url_decode(s STRING) AS ((
  SELECT SAFE_CONVERT_BYTES_TO_STRING(STRING_AGG(
    IF(REGEXP_CONTAINS(part, r'^%[0-9A-Fa-f]{2}$'), FROM_HEX(SUBSTR(part, 2)), CAST(part AS BYTES)), b''
    ORDER BY pos))
  FROM UNNEST(REGEXP_EXTRACT_ALL(s, r'%[0-9A-Fa-f]{2}|%|[^%]+')) AS part WITH OFFSET AS pos
))"""

#: Every line once, parsed, with the id and parent id each statement filters on.
BIGQUERY_RAW = """CREATE TEMP TABLE _bulk_raw AS
SELECT JSON_VALUE(j, '$.id') AS id, JSON_VALUE(j, '$.__parentId') AS parent_id, j
FROM (SELECT PARSE_JSON(line, wide_number_mode => 'round') AS j FROM {lines})"""

_BQ_CUSTOMER_GID = ("IF(STARTS_WITH(customer_id, 'gid://'), customer_id, "
                    "CONCAT('gid://shopify/Customer/', customer_id))")
_BQ_CUSTOMER_HASH = (f"CASE WHEN COALESCE(customer_id, '') <> '' THEN TO_HEX(SHA256(CONCAT(@opad, "
                     f"SHA256(CONCAT(@ipad, CAST({_BQ_CUSTOMER_GID} AS BYTES)))))) END")
_BQ_VISIT = ("IF(JSON_TYPE(JSON_QUERY(j, '$.customerJourneySummary.lastVisit')) = 'object', "
             "JSON_QUERY(j, '$.customerJourneySummary.lastVisit'), JSON_QUERY(j, '$.customerJourneySummary.firstVisit'))")

BIGQUERY_ORDERS = f"""
WITH o AS (
  SELECT j, id,
    {_bq_ts('createdAt')} AS created_ts,
    {_BQ_VISIT} AS visit,
    {_bq_amount('subtotalPriceSet')} AS after_discounts,
    COALESCE({_bq_amount('totalDiscountsSet')}, 0) AS discount,
    {_bq_amount('currentSubtotalPriceSet')} AS current_subtotal,
    {_bq('customer.id')} AS customer_id,
    {_bq('shippingAddress.countryCodeV2')} AS country,
    {_bq('shippingAddress.provinceCode')} AS province
  FROM _bulk_raw WHERE parent_id IS NULL
), q AS (
  SELECT *,
    REGEXP_EXTRACT({_bq('landingPage', 'visit')}, r'^[^?#]*\\?([^#]*)') AS qs,
    CASE WHEN after_discounts IS NULL OR current_subtotal IS NULL THEN 0
      ELSE GREATEST(after_discounts - current_subtotal, 0) END AS refunded,
    after_discounts + discount AS subtotal,
    UPPER(REPLACE({_bq('shippingAddress.zip')}, ' ', '')) AS zip_clean
  FROM o
)
SELECT
  @brand_id AS brand_id, id AS order_id, {_bq('name')} AS order_name,
  DATE(created_ts, @timezone) AS order_date, created_ts AS created_at,
  {_bq_ts('processedAt')} AS processed_at, {_bq_ts('updatedAt')} AS updated_at,
  {_bq_ts('cancelledAt')} AS cancelled_at, COALESCE({_bq('currencyCode')}, @currency) AS currency,
  subtotal AS subtotal_amount, discount AS discount_amount,
  {_bq_amount('totalShippingPriceSet')} AS shipping_amount, {_bq_amount('totalTaxSet')} AS tax_amount,
  {_bq_amount('totalPriceSet')} AS total_amount, refunded AS refunded_amount,
  CASE WHEN {_bq('cancelledAt')} IS NULL THEN COALESCE(subtotal, 0) - discount - refunded ELSE 0 END
    AS net_revenue_amount,
  country AS shipping_country_code,
  CASE WHEN COALESCE(country, '') <> '' AND COALESCE(province, '') <> '' THEN CONCAT(country, '-', province) END
    AS shipping_region_code,
  NULLIF(SUBSTR(zip_clean, 1, 3), '') AS shipping_zip_prefix,
  {_BQ_CUSTOMER_HASH} AS customer_hash,
  {_bq('sourceName')} AS sales_channel, {_bq_landing_site(_bq('landingPage', 'visit'))} AS landing_site,
  CONCAT(NULLIF(REGEXP_EXTRACT({_bq('referrerUrl', 'visit')}, r'{_ORIGIN}'), ''), '/') AS referrer_url,
  {", ".join(f"COALESCE({_bq('utmParameters.' + k, 'visit')}, {_bq_param('utm_' + k)}) AS utm_{k}" for k in UTM_KEYS)},
  {", ".join(f"{_bq_param(k)} AS {k}" for k in CLICK_IDS)},
  {_bq('source', 'visit')} AS journey_source, {_bq('sourceType', 'visit')} AS journey_source_type,
  NULLIF(REGEXP_EXTRACT({_bq('landingPage', 'visit')}, r'{_PATH}'), '') AS landing_path
FROM q
"""

BIGQUERY_ITEMS = f"""
SELECT parent_id AS order_id, id AS line_item_id, {_bq('product.id')} AS product_id,
  {_bq('variant.id')} AS variant_id, {_bq('sku')} AS sku, CAST({_bq('quantity')} AS INT64) AS quantity,
  CAST({_bq('quantity')} AS INT64) - CAST({_bq('currentQuantity')} AS INT64) AS refunded_quantity,
  {_bq_amount('originalUnitPriceSet')} AS price_amount, {_bq_amount('totalDiscountSet')} AS discount_amount
FROM _bulk_raw WHERE STARTS_WITH(id, '{LINE_ITEM_GID}')
"""

BIGQUERY_FULFILLMENT_ORDERS = f"""
SELECT @brand_id AS brand_id, id AS fulfillment_order_id, parent_id AS order_id,
  {_bq('assignedLocation.location.id')} AS location_id, {_bq('status')} AS status,
  {_bq_ts('updatedAt')} AS updated_at
FROM _bulk_raw WHERE STARTS_WITH(id, '{FULFILLMENT_ORDER_GID}')
"""

BIGQUERY_FULFILLMENT_LINES = f"""
SELECT @brand_id AS brand_id, id AS fulfillment_order_line_item_id, parent_id AS fulfillment_order_id,
  {_bq('lineItem.id')} AS line_item_id, COALESCE(CAST({_bq('totalQuantity')} AS INT64), 0) AS quantity
FROM _bulk_raw WHERE STARTS_WITH(id, '{FULFILLMENT_ORDER_LINE_GID}')
"""


def bigquery_parameters(ctx: BrandContext) -> dict[str, Any]:
    """The parameters of the BigQuery statements: the brand's context and the customer-hash key pads."""
    ipad, opad = _hmac_pads(ctx.customer_salt)
    return {"brand_id": ctx.brand_id, "timezone": ctx.timezone, "currency": ctx.currency, "ipad": ipad, "opad": opad}


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
    return child_rows("items"), {"path": path}


def fulfillment_orders_query(path: str, brand_id: str) -> tuple[str, dict[str, Any]]:
    """The DuckDB statement that reads a JSONL file's fulfillment orders in their table's shape."""
    return child_rows("fulfillment_orders"), {"path": path, "brand_id": brand_id}


def fulfillment_lines_query(path: str, brand_id: str) -> tuple[str, dict[str, Any]]:
    """The DuckDB statement that reads a JSONL file's fulfillment order lines in their table's shape."""
    return child_rows("fulfillment_order_line_items"), {"path": path, "brand_id": brand_id}


# -- reading the file in blocks --------------------------------------------------------------------------
def _block_sizes(block_bytes: int, first_block_bytes: int | None) -> Iterator[int]:
    if first_block_bytes:
        yield min(first_block_bytes, block_bytes)
    while True:
        yield block_bytes


def block_pieces(chunks: Iterator[bytes], block_bytes: int | Iterator[int]) -> Iterator[tuple[memoryview, bool]]:
    """The stream as ``(piece, ends a block)``: a block ends at the last newline of the chunk that
    takes it past ``block_bytes`` (or past the next of the sizes it yields; pieces are views, so
    cutting a chunk copies nothing).

    Raises:
        RetriableError: the stream ended mid-line (a dropped download).
    """
    sizes = _block_sizes(block_bytes, None) if isinstance(block_bytes, int) else block_bytes
    limit = next(sizes)
    size = 0
    last = b"\n"
    for chunk in chunks:
        if not chunk:
            continue
        view = memoryview(chunk)
        size += len(chunk)
        last = chunk[-1:]
        cut = chunk.rfind(b"\n") + 1 if size >= limit else 0
        if cut:
            yield view[:cut], True
            limit = next(sizes)
            size = len(chunk) - cut
            if size:
                yield view[cut:], False
        else:
            yield view, False
    if last != b"\n":
        raise RetriableError("bulk file ended mid-line (connection dropped)", platform=PLATFORM, code="download")
    if size:
        yield memoryview(b""), True


def iter_block_files(chunks: Iterator[bytes], start: int, paths: Sequence[str], block_bytes: int = BLOCK_BYTES,
                     first_block_bytes: int | None = None) -> Generator[tuple[str, int], None, None]:
    """Whole-line blocks of a byte stream, each written to a private file (0600): the files of
    ``paths`` take turns, so block N+1 is written while block N is read. Yields ``(file, offset
    just past the block)``; the chunks go straight to the file (no joined copy in memory), and a
    file is rewritten from the start when its turn comes again. ``first_block_bytes`` makes the
    first block smaller, so its reader starts sooner.

    Raises:
        RetriableError: the stream ended mid-line (a dropped download).
    """
    offset = start
    turn = 0
    out: IO[bytes] | None = None
    sizes = _block_sizes(block_bytes, first_block_bytes)
    try:
        for piece, ends in block_pieces(chunks, sizes):
            if out is None:
                out = scratch.private_file(paths[turn % len(paths)])
            out.write(piece)
            if ends:
                out.flush()
                offset += out.tell()
                out.close()
                out = None
                yield paths[turn % len(paths)], offset
                turn += 1
    finally:
        if out is not None:
            out.close()


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
    search: str | None = None  # the orders window (``query:`` filter); None: every order
    polls: int = 0  # polls of the running operation (the wait between them grows)
    fulfillment_stored: bool | None = None  # the brand had fulfillment orders when the load began

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
    progress.url, progress.offset, progress.polls = None, 0, 0
    # A run after a failed one finds that one's rows: whether to key-match them is asked again.
    progress.fulfillment_stored = None
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
