"""The bulk export's platform side: the export's answers, whole-line blocks and the columnar parser."""

from __future__ import annotations

import pytest

from tower.connectors.retry import FatalError, RetriableError
from tower.connectors.shopify import bulk, records
from tower_dev.sandboxes.shopify_store.bulk import encode_line
from tower_dev.sandboxes.shopify_store.testing import bulk_export, bulk_order_line


def test_blocks_end_on_whole_lines_and_a_truncated_file_is_retriable():
    lines = [encode_line(bulk_order_line(i)) for i in range(50)]
    data = b"".join(lines)
    chunks = [data[i:i + 700] for i in range(0, len(data), 700)]
    blocks = list(bulk.iter_blocks(iter(chunks), 0, block_bytes=2000))
    assert b"".join(b for b, _ in blocks) == data
    assert all(b.endswith(b"\n") for b, _ in blocks)
    assert blocks[-1][1] == len(data)
    with pytest.raises(RetriableError):
        list(bulk.iter_blocks(iter([data[:-10]]), 0, block_bytes=10**9))


def test_an_invalid_bulk_query_is_fatal_and_a_busy_slot_is_not():
    with pytest.raises(FatalError):
        bulk.run_payload({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
            {"field": ["query"], "message": "Invalid bulk query", "code": "INVALID"}]}})
    for code in ("OPERATION_IN_PROGRESS", "LIMIT_REACHED"):
        assert bulk.run_payload({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
            {"field": None, "message": "busy", "code": code}]}}) is None


@pytest.mark.parametrize("salt", ["salt", "sél-ünïcode", "k" * 64, "long-" * 30])
def test_the_customer_hash_computed_in_sql_equals_the_privacy_hash(salt):
    """The parser hashes in DuckDB (HMAC from the key pads); the row mapper hashes in Python."""
    from tower.privacy import customer_hash

    ctx = records.BrandContext("b", "America/Chicago", "USD", salt)
    customers = [{"id": "gid://shopify/Customer/7310000522312"}, {"id": "7310000522313"}, {"id": ""}, None,
                 {"id": None}]
    lines = [{**bulk_order_line(i), "customer": c} for i, c in enumerate(customers)]
    parsed = bulk.parse_block(b"".join(encode_line(x) for x in lines), ctx)
    got = dict(zip(parsed.orders.column("order_id").to_pylist(), parsed.orders.column("customer_hash").to_pylist(),
                   strict=True))
    want = {f"gid://shopify/Order/{i}": records.order_row(x, ctx)["customer_hash"] for i, x in enumerate(lines)}
    assert got == want
    assert got["gid://shopify/Order/0"] == customer_hash(salt, "gid://shopify/Customer/7310000522312")
    assert got["gid://shopify/Order/1"] == customer_hash(salt, "gid://shopify/Customer/7310000522313")
    assert [got[f"gid://shopify/Order/{i}"] for i in (2, 3, 4)] == [None, None, None]


def test_block_files_hold_the_same_whole_line_blocks_as_iter_blocks(tmp_path):
    data = bulk_export(40)
    chunks = [data[i:i + 333] for i in range(0, len(data), 333)]
    want = list(bulk.iter_blocks(iter(chunks), 100, block_bytes=1500))
    path = str(tmp_path / "block.jsonl")
    got = [((tmp_path / "block.jsonl").read_bytes(), end)
           for end in bulk.iter_block_files(iter(chunks), 100, path, block_bytes=1500)]
    assert got == want and len(got) > 3
    with pytest.raises(RetriableError):
        list(bulk.iter_block_files(iter([data[:-10]]), 0, path, block_bytes=10**9))
