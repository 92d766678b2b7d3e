"""A local warehouse made by an older DDL gains the columns a newer one adds (products' pictures)."""

from __future__ import annotations

from pathlib import Path

from tower.adapters.duckdb_warehouse import DuckDBWarehouse


def test_init_schema_adds_new_nullable_columns_and_keeps_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = DuckDBWarehouse(path)
    # the products table as the DDL made it before image_url and image_alt
    old.execute("CREATE TABLE products (brand_id STRING NOT NULL, product_id STRING NOT NULL, handle STRING, "
                "title STRING, status STRING, product_type STRING, vendor STRING, is_active BOOL NOT NULL, "
                "created_at TIMESTAMP, updated_at TIMESTAMP, deleted_at TIMESTAMP)")
    old.execute("INSERT INTO products (brand_id, product_id, title, is_active) VALUES ('b', 'gid://shopify/Product/1', "
                "'Fig', TRUE)")
    old.init_schema()
    assert {"image_url", "image_alt"} <= set(old.columns("products"))
    rows = old.rows("SELECT title, image_url FROM products")
    assert rows == [{"title": "Fig", "image_url": None}]
    before = old.columns("products")
    old.init_schema()  # again: nothing more to add
    assert old.columns("products") == before
    old.close()
