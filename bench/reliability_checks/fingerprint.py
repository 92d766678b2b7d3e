"""What "the same state" means to the harness: per-table figures of a warehouse, digests of a store.

R1 compares warehouses the way issue 12 words it: per table, the natural keys present, the rows
beyond one per key (duplicates) and the sum of every numeric column. R2 compares whole states: every
warehouse table's rows and every document of the store, except the fields that differ between two
fault-free runs of the same pipeline too (wall-clock stamps, random ids): those are measured, not
guessed, and listed in the figures.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Natural keys of the tables the four connectors write (the keys their MERGEs and replaces use).
SYNCED_TABLES: dict[str, tuple[str, ...]] = {
    "products": ("brand_id", "product_id"),
    "variants": ("brand_id", "variant_id"),
    "locations": ("brand_id", "location_id"),
    "inventory_levels": ("brand_id", "snapshot_date", "inventory_item_id", "location_id"),
    "orders": ("brand_id", "order_id"),
    "order_line_items": ("brand_id", "line_item_id"),
    "ad_campaigns": ("brand_id", "platform", "account_id", "campaign_id"),
    "ad_campaign_products": ("brand_id", "platform", "campaign_id", "product_id"),
    "ad_campaign_destinations": ("brand_id", "platform", "campaign_id", "product_handle"),
    "ad_performance": ("brand_id", "platform", "account_id", "campaign_id", "stat_date", "country_code",
                       "region_code"),
}

#: Columns the loaders stamp with the wall clock when they write (not data a platform served).
LOADER_STAMPS = frozenset({"synced_at"})
#: Per table, further columns stamped at write time by the loader.
LOADER_STAMPED: dict[str, frozenset[str]] = {"ad_campaigns": frozenset({"updated_at"})}


def canonical(value: Any) -> Any:
    """A JSON-able, order-independent form of a value (Decimals and floats as fixed strings)."""
    if isinstance(value, Decimal):
        return "NaN" if value.is_nan() else format(value.normalize(), "f")
    if isinstance(value, float):
        # nine significant digits, and nothing below 1e-9: a float summed in another order differs in
        # its last bits (a change of 0 computed as 1.7e-16)
        return f"{round(value, 9) + 0.0:.9g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def digest(value: Any) -> str:
    """SHA-256 of a value's canonical JSON."""
    return hashlib.sha256(json.dumps(canonical(value), sort_keys=True).encode()).hexdigest()


# --- R1: per-table figures ----------------------------------------------------------------------------


@dataclass
class TableFigures:
    """One table of one warehouse: its keys, duplicate rows, numeric sums and content digest."""

    rows: int
    keys: Counter[tuple[Any, ...]]
    sums: dict[str, str]
    content: str

    @property
    def duplicates(self) -> int:
        """Rows beyond one per natural key."""
        return self.rows - len(self.keys)


def table_figures(warehouse: Any, table: str, keys: tuple[str, ...]) -> TableFigures:
    """The figures of one table (its rows are read whole: the harness's worlds are small)."""
    rows = warehouse.rows(f"SELECT * FROM {table}")
    skip = LOADER_STAMPS | LOADER_STAMPED.get(table, frozenset())
    key_counts: Counter[tuple[Any, ...]] = Counter(tuple(canonical(r[k]) for k in keys) for r in rows)
    sums: dict[str, Any] = {}
    for r in rows:
        for col, v in r.items():
            if col in skip or isinstance(v, bool) or not isinstance(v, int | float | Decimal):
                continue
            sums[col] = sums.get(col, Decimal(0)) + (Decimal(repr(v)) if isinstance(v, float) else Decimal(v))
    body = sorted(json.dumps(canonical({k: v for k, v in r.items() if k not in skip}), sort_keys=True)
                  for r in rows)
    return TableFigures(
        rows=len(rows), keys=key_counts,
        sums={c: format(s.quantize(Decimal("0.000001")), "f") for c, s in sorted(sums.items())},
        content=hashlib.sha256("\n".join(body).encode()).hexdigest(),
    )


def warehouse_figures(warehouse: Any, tables: dict[str, tuple[str, ...]] = SYNCED_TABLES) -> dict[str, TableFigures]:
    """Figures of every synced table."""
    return {t: table_figures(warehouse, t, k) for t, k in tables.items()}


@dataclass
class Comparison:
    """How a warehouse differs from the reference, table by table."""

    lost: int = 0
    extra: int = 0
    duplicated: int = 0
    unequal: list[str] = field(default_factory=list)
    content_differs: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        """Same keys, no duplicates, same sums in every table."""
        return not (self.lost or self.extra or self.duplicated or self.unequal)


def compare(reference: dict[str, TableFigures], got: dict[str, TableFigures]) -> Comparison:
    """Keys lost or extra, duplicate rows, and the tables whose figures are not the reference's."""
    out = Comparison()
    for table, ref in reference.items():
        g = got[table]
        lost = len(set(ref.keys) - set(g.keys))
        extra = len(set(g.keys) - set(ref.keys))
        out.lost += lost
        out.extra += extra
        out.duplicated += max(0, g.duplicates - ref.duplicates)
        if lost or extra or g.duplicates != ref.duplicates or g.sums != ref.sums:
            out.unequal.append(table)
        if g.content != ref.content:
            out.content_differs.append(table)
    return out


# --- R2: whole states ---------------------------------------------------------------------------------


def all_tables(warehouse: Any) -> list[str]:
    """Every table the schema declares that the warehouse holds (a DDL file added after the warehouse was
    created is not one of its tables yet)."""
    from tower import sql as sqlfiles

    return sorted(t for t in sqlfiles.table_names() if warehouse.table_exists(t))


def warehouse_rows(warehouse: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of every declared table, canonical."""
    return {t: [canonical(r) for r in warehouse.rows(f"SELECT * FROM {t}")] for t in all_tables(warehouse)}


def store_documents(store_file: Path) -> dict[str, Any]:
    """Every document of a local store (its SQLite file, read directly: the port lists no collections)."""
    con = sqlite3.connect(f"file:{store_file}?mode=ro", uri=True)
    try:
        return {path: json.loads(data) for path, data in con.execute("SELECT path, data FROM documents")}
    finally:
        con.close()


def volatile_fields(a: dict[str, list[dict[str, Any]]], b: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    """Per table, the columns whose values differ between two runs that should be identical.

    Column by column: a column is volatile when the multiset of its values is not the same in both
    runs (a wall-clock stamp, a random id, a float summed in another order).
    """
    out: dict[str, set[str]] = {}
    for table, rows_a in a.items():
        rows_b = b.get(table, [])
        cols = {c for r in rows_a + rows_b for c in r}
        varying = {c for c in cols
                   if Counter(digest(r.get(c)) for r in rows_a) != Counter(digest(r.get(c)) for r in rows_b)}
        if varying:
            out[table] = varying
    return out


def rows_digest(rows: dict[str, list[dict[str, Any]]], volatile: dict[str, set[str]]) -> dict[str, str]:
    """Per table, a digest of its rows without the volatile columns (order-independent)."""
    out = {}
    for table, rs in rows.items():
        drop = volatile.get(table, set())
        out[table] = digest(sorted(digest({k: v for k, v in r.items() if k not in drop}) for r in rs))
    return out


def document_shape(docs: dict[str, Any], volatile_keys: set[str]) -> dict[str, Any]:
    """Per collection, the multiset of its documents without volatile keys (ids kept when stable)."""
    out: dict[str, list[str]] = {}
    for path, doc in docs.items():
        collection = path.rsplit("/", 1)[0]
        out.setdefault(collection, []).append(digest(without(doc, volatile_keys)))
    return {c: sorted(v) for c, v in sorted(out.items())}


def without(value: Any, keys: set[str]) -> Any:
    """A document without the given keys, at any depth."""
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(v, keys) for v in value]
    return value


def volatile_document_keys(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    """Keys (at any depth) whose values differ between two runs' documents that should be identical."""
    keys: set[str] = set()

    def walk(x: Any, y: Any, name: str | None) -> None:
        if _typed_scalar(x) or _typed_scalar(y):
            if x != y and name is not None:
                keys.add(name)
        elif isinstance(x, dict) and isinstance(y, dict):
            for k in set(x) | set(y):
                walk(x.get(k), y.get(k), k)
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for xi, yi in zip(x, y, strict=True):
                walk(xi, yi, name)
        elif x != y and name is not None:
            keys.add(name)

    for path in set(a) & set(b):
        walk(a[path], b[path], None)
    return keys


def _typed_scalar(x: Any) -> bool:
    """The local store's encoding of a typed value (``{"__tower_ts__": "…"}``): one value, not a map."""
    return isinstance(x, dict) and len(x) == 1 and next(iter(x)).startswith("__tower_")
