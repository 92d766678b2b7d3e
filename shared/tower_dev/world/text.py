"""Building string columns a million at a time: gids, URLs, click ids, names (Arrow compute, no row loops)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tower_dev.world.schema import arrow, lit, strings

_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)

Part = pa.Array | pa.ChunkedArray | str


def concat(*parts: Part) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings (null anywhere → null)."""
    n = next((len(p) for p in parts if not isinstance(p, str)), None)
    if n is None:
        raise ValueError("concat needs at least one array")
    args = [lit(p) if isinstance(p, str) else p for p in parts]
    out = pc.binary_join_element_wise(*args, lit(""))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def as_text(values: np.ndarray) -> pa.Array:
    """Integers as decimal strings."""
    return pc.cast(arrow(np.asarray(values, dtype=np.int64)), pa.string())


def gid(kind: str, numbers: np.ndarray) -> pa.Array:
    """Shopify global ids, e.g. ``gid://shopify/Order/5800000001234``."""
    return concat(f"gid://shopify/{kind}/", as_text(numbers))


def take(values: Sequence[str | None], index: np.ndarray) -> pa.Array:
    """``values[index]`` as a string array (index -1 → null)."""
    table = strings(list(values) + [None])
    idx = np.asarray(index, dtype=np.int64).copy()
    idx[idx < 0] = len(values)
    return table.take(arrow(idx))


def tokens(rng: np.random.Generator, n: int, length: int, prefix: str = "") -> pa.Array:
    """Random URL-safe tokens (click ids), built from one byte matrix."""
    if n == 0:
        return strings([])
    chars = _B64URL[rng.integers(0, 64, size=(n, length))]
    fixed = np.ascontiguousarray(chars).view(f"S{length}").ravel()
    arr = pa.Array.from_buffers(pa.binary(length), n, [None, pa.py_buffer(fixed.tobytes())])
    arr = arr.cast(pa.binary()).cast(pa.string())
    return concat(prefix, arr) if prefix else arr


def digits(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """``n`` distinct random numeric strings of exactly ``length`` digits (ids of ad objects)."""
    seen: set[str] = set()
    out = []
    while len(out) < n:
        head = str(int(rng.integers(1, 10)))
        tail = "".join(str(int(x)) for x in rng.integers(0, 10, length - 1))
        s = head + tail
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def where(mask: np.ndarray, a: pa.Array, b: pa.Array) -> pa.Array:
    """``a`` where mask else ``b``."""
    out = pc.if_else(arrow(np.asarray(mask, dtype=bool)), a, b)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def null_where(mask: np.ndarray, a: pa.Array) -> pa.Array:
    """``a`` with nulls where mask is True."""
    return where(~np.asarray(mask, dtype=bool), a, pa.nulls(len(a), a.type))


def scatter(n: int, parts: Sequence[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """One string array of length ``n`` from pieces computed on disjoint row subsets (others null)."""
    idx = [np.asarray(i, dtype=np.int64) for i, _ in parts]
    arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for _, a in parts]
    covered = np.zeros(n, dtype=bool)
    for i in idx:
        covered[i] = True
    missing = np.flatnonzero(~covered)
    idx.append(missing)
    arrays.append(pa.nulls(missing.size, pa.string()))
    perm = np.concatenate(idx)
    inverse = np.empty(n, dtype=np.int64)
    inverse[perm] = np.arange(n)
    return pa.concat_arrays([a.cast(pa.string()) for a in arrays]).take(arrow(inverse))
