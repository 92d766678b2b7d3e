"""Arrow shapes of the warehouse tables, read from the DDL files (the data contract), and column builders.

BigQuery NUMERIC is DECIMAL(38, 9): money columns are ``decimal128(38, 9)``, built straight from
integer cents (exact, no float on the way). TIMESTAMP is ``timestamp[us, tz=UTC]`` and DATE is
``date32``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from tower import sql as sqlfiles

MONEY = pa.decimal128(38, 9)
TIMESTAMP = pa.timestamp("us", tz="UTC")

def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a warehouse table, from its DDL file (column order, types, NOT NULL)."""
    return sqlfiles.arrow_schema(table)


def money(cents: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """A ``decimal128(38, 9)`` array from integer cents, exactly (``mask`` True = null).

    The decimal's unscaled value is cents * 10**7; it is written as 16-byte little-endian two's
    complement words, which is how Arrow stores decimal128.
    """
    c = np.ascontiguousarray(cents, dtype=np.int64)
    if c.size and np.abs(c).max() > 900_000_000_000:
        raise OverflowError("amount too large for the cents→decimal fast path")
    words = np.empty((c.size, 2), dtype=np.int64)
    words[:, 0] = c * 10_000_000
    words[:, 1] = np.where(c < 0, -1, 0)
    validity = None
    null_count = 0
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little").tobytes())
        null_count = int(mask.sum())
    return pa.Array.from_buffers(MONEY, c.size, [validity, pa.py_buffer(words.tobytes())], null_count)


def arrow(values: np.ndarray, type_: pa.DataType | None = None, mask: np.ndarray | None = None) -> pa.Array:
    """A numeric / boolean numpy array as Arrow, straight from its buffer (``mask`` True = null).

    ``pa.array(ndarray)`` would import pandas on first use (seconds, for nothing we need); building
    from buffers keeps the world free of that import and copies at most once.
    """
    values = np.asarray(values)
    if type_ is None:
        type_ = {
            np.dtype(np.int64): pa.int64(),
            np.dtype(np.int32): pa.int32(),
            np.dtype(np.float64): pa.float64(),
            np.dtype(np.bool_): pa.bool_(),
        }[values.dtype]
    n = values.size
    validity = None
    null_count = 0
    if mask is not None and np.any(mask):
        validity = pa.py_buffer(np.packbits(~np.asarray(mask, dtype=bool), bitorder="little").tobytes())
        null_count = int(np.count_nonzero(mask))
    if pa.types.is_boolean(type_):
        data = pa.py_buffer(np.packbits(values.astype(bool), bitorder="little").tobytes())
    else:
        dtype = (
            {4: np.int32, 8: np.int64}[type_.bit_width // 8]
            if not pa.types.is_floating(type_)
            else np.float64
        )
        data = pa.py_buffer(np.ascontiguousarray(values, dtype=dtype).tobytes())
    return pa.Array.from_buffers(type_, n, [validity, data], null_count)


def strings(values: list[str | None] | tuple[str | None, ...]) -> pa.Array:
    """A Python list of str / None as an Arrow string array, built from buffers (see :func:`arrow`)."""
    n = len(values)
    mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
    encoded = [b"" if v is None else v.encode() for v in values]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    validity = None
    null_count = int(mask.sum())
    if null_count:
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little").tobytes())
    arr = pa.Array.from_buffers(
        pa.large_string(),
        n,
        [validity, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(encoded))],
        null_count,
    )
    return arr.cast(pa.string())


def timestamps(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """UTC timestamps from epoch seconds (``mask`` True = null)."""
    return arrow(np.asarray(seconds, dtype=np.int64) * 1_000_000, TIMESTAMP, mask)


def dates(days_since_epoch: np.ndarray) -> pa.Array:
    """``date32`` from days since 1970-01-01."""
    return arrow(np.asarray(days_since_epoch, dtype=np.int32), pa.date32())


def build_table(table: str, columns: Mapping[str, Any]) -> pa.Table:
    """A table with exactly the DDL columns of ``table``, in DDL order, cast to the DDL types.

    Raises:
        KeyError: a DDL column is missing or an unknown column is given (the world must not
            invent columns the warehouse does not have).
    """
    schema = arrow_schema(table)
    unknown = sorted(set(columns) - set(schema.names))
    missing = [n for n in schema.names if n not in columns]
    if unknown or missing:
        raise KeyError(f"{table}: unknown columns {unknown}, missing columns {missing}")
    n = None
    arrays = []
    for field in schema:
        value = columns[field.name]
        if isinstance(value, pa.ChunkedArray):
            value = value.combine_chunks()
        if isinstance(value, np.ndarray) and value.dtype != object:
            value = arrow(value)
        elif not isinstance(value, pa.Array):
            value = list(value)
            if field.type == pa.string():
                value = strings(value)
            elif all(v is not None for v in value) and field.type in (pa.bool_(), pa.int64(), pa.float64()):
                value = arrow(np.array(value), field.type)
            else:
                value = pa.array(value, type=field.type)
        if value.type != field.type:
            value = value.cast(field.type)
        if n is None:
            n = len(value)
        elif len(value) != n:
            raise ValueError(f"{table}.{field.name}: {len(value)} rows, expected {n}")
        if not field.nullable and value.null_count:
            raise ValueError(f"{table}.{field.name} is NOT NULL but has {value.null_count} nulls")
        arrays.append(value)
    return pa.Table.from_arrays(arrays, schema=schema)


def lit(value: str) -> pa.Scalar:
    """A string scalar (``pa.scalar`` would import pandas, see :func:`arrow`)."""
    return strings([value])[0]


def const(value: str, n: int) -> pa.Array:
    """A string column repeating one value (e.g. brand_id)."""
    return pa.repeat(lit(value), n)
