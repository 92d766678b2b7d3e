"""The bulk export's platform side: the export's answers, whole-line blocks and the columnar parser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tower.connectors.retry import FatalError, RetriableError
from tower.connectors.shopify import bulk, records
from tower_dev.sandboxes.shopify_store.bulk import encode_line
from tower_dev.sandboxes.shopify_store.testing import bulk_export, bulk_order_line


def parsed(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one of the connector's parse statements, run by DuckDB as the warehouse runs them."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.sql(sql, params=params).to_arrow_table().to_pylist()
    finally:
        con.close()


def test_blocks_end_on_whole_lines_and_a_truncated_file_is_retriable(tmp_path):
    lines = [encode_line(bulk_order_line(i)) for i in range(50)]
    data = b"".join(lines)
    chunks = [data[i:i + 700] for i in range(0, len(data), 700)]
    paths = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    blocks = [(Path(path).read_bytes(), end) for path, end in bulk.iter_block_files(iter(chunks), 0, paths, 2000)]
    assert b"".join(b for b, _ in blocks) == data
    assert all(b.endswith(b"\n") for b, _ in blocks) and len(blocks) > 3
    assert blocks[-1][1] == len(data)
    with pytest.raises(RetriableError):
        list(bulk.iter_block_files(iter([data[:-10]]), 0, paths, block_bytes=10**9))


def test_an_invalid_bulk_query_is_fatal_and_a_busy_slot_is_not():
    with pytest.raises(FatalError):
        bulk.run_payload({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
            {"field": ["query"], "message": "Invalid bulk query", "code": "INVALID"}]}})
    for code in ("OPERATION_IN_PROGRESS", "LIMIT_REACHED"):
        assert bulk.run_payload({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
            {"field": None, "message": "busy", "code": code}]}}) is None


@pytest.mark.parametrize("salt", ["salt", "sél-ünïcode", "k" * 64, "long-" * 30])
def test_the_customer_hash_computed_in_sql_equals_the_privacy_hash(salt, tmp_path):
    """The parser hashes in DuckDB (HMAC from the key pads); the row mapper hashes in Python."""
    from tower.privacy import customer_hash

    ctx = records.BrandContext("b", "America/Chicago", "USD", salt)
    customers = [{"id": "gid://shopify/Customer/7310000522312"}, {"id": "7310000522313"}, {"id": ""}, None,
                 {"id": None}]
    lines = [{**bulk_order_line(i), "customer": c} for i, c in enumerate(customers)]
    path = tmp_path / "block.jsonl"
    path.write_bytes(b"".join(encode_line(x) for x in lines))
    rows = parsed(*bulk.orders_query(str(path), ctx))
    got = {r["order_id"]: r["customer_hash"] for r in rows}
    want = {f"gid://shopify/Order/{i}": records.order_row(x, ctx)["customer_hash"] for i, x in enumerate(lines)}
    assert got == want
    assert got["gid://shopify/Order/0"] == customer_hash(salt, "gid://shopify/Customer/7310000522312")
    assert got["gid://shopify/Order/1"] == customer_hash(salt, "gid://shopify/Customer/7310000522313")
    assert [got[f"gid://shopify/Order/{i}"] for i in (2, 3, 4)] == [None, None, None]


def test_block_files_take_turns_and_a_small_first_block_comes_first(tmp_path):
    data = bulk_export(40)
    chunks = [data[i:i + 333] for i in range(0, len(data), 333)]
    paths = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    got = []
    for path, end in bulk.iter_block_files(iter(chunks), 100, paths, block_bytes=3000, first_block_bytes=600):
        got.append((path, Path(path).read_bytes(), end))
    assert [p for p, _, _ in got] == [paths[i % 2] for i in range(len(got))]
    assert b"".join(b for _, b, _ in got) == data
    assert [e for _, _, e in got] == [100 + sum(len(b) for _, b, _ in got[:i + 1]) for i in range(len(got))]
    # A block ends at the last newline of the chunk that takes it past its size.
    assert len(got[0][1]) < 1000 < min(len(b) for _, b, _ in got[1:-1])
    assert all(b.endswith(b"\n") for _, b, _ in got)
    assert all(os.stat(p).st_mode & 0o777 == 0o600 for p in paths)


def test_each_kind_of_child_line_is_told_by_its_id(tmp_path):
    """Line items, fulfillment orders and their lines all carry __parentId: only the id's type says
    which is which (Shopify's own exports mix child kinds the same way)."""
    from tower_dev.sandboxes.shopify_store.testing import bulk_item_line

    fo = {"id": "gid://shopify/FulfillmentOrder/5", "status": "CLOSED", "updatedAt": "2026-11-20T16:00:00Z",
          "assignedLocation": {"location": {"id": "gid://shopify/Location/9"}}, "__parentId": "gid://shopify/Order/1"}
    fo_line = {"id": "gid://shopify/FulfillmentOrderLineItem/6", "totalQuantity": 2,
               "lineItem": {"id": "gid://shopify/LineItem/7"}, "__parentId": fo["id"]}
    path = tmp_path / "block.jsonl"
    path.write_bytes(b"".join(encode_line(x) for x in (fo_line, bulk_order_line(1), bulk_item_line(7, 1), fo)))
    items = parsed(*bulk.items_query(str(path)))
    fos = parsed(*bulk.fulfillment_orders_query(str(path), "b"))
    fo_lines = parsed(*bulk.fulfillment_lines_query(str(path), "b"))
    assert [r["line_item_id"] for r in items] == ["gid://shopify/LineItem/7"]
    assert [(r["fulfillment_order_id"], r["order_id"], r["location_id"], r["status"]) for r in fos] == [
        (fo["id"], "gid://shopify/Order/1", "gid://shopify/Location/9", "CLOSED")]
    assert [(r["fulfillment_order_line_item_id"], r["fulfillment_order_id"], r["line_item_id"], r["quantity"])
            for r in fo_lines] == [(fo_line["id"], fo["id"], "gid://shopify/LineItem/7", 2)]
    # The loader's single scan of the children gives the same rows.
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TEMP TABLE kids AS {bulk.CHILDREN_SQL}", {"path": str(path)})
    for kind, want in (("items", items), ("fulfillment_orders", fos), ("fulfillment_order_line_items", fo_lines)):
        assert con.sql(bulk.child_rows(kind, "kids"), params={"brand_id": "b"} if kind != "items" else None
                       ).to_arrow_table().to_pylist() == want
    con.close()
