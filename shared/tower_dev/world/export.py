"""Writing the world to JSON / JSONL, byte for byte the same for the same parameters.

Layout under the target directory::

    manifest.json                     the ground truth ({brand_id: {...}}), keys sorted
    fx_rates.jsonl
    brands/<brand_id>/brand.json      the brands row, the customer salt and the ad accounts
    brands/<brand_id>/<table>.jsonl   every warehouse table (DDL columns, DDL order)
    brands/<brand_id>/raw_<name>.jsonl  the raw platform-side facts (orders, refunds, purchase_orders)

Values: strings and booleans as JSON; integers and floats as numbers; NUMERIC money as JSON
numbers with two decimals (read with ``parse_float=Decimal`` to keep them exact); dates
``YYYY-MM-DD``; timestamps ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds); nulls as ``null``.

Lines are built column by column with Arrow compute (no per-row Python), so exporting a
million orders takes seconds.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tower_dev.world.generate import World
from tower_dev.world.schema import lit, strings
from tower_dev.world.text import concat

_BATCH = 200_000


def _json_strings(arr: pa.Array) -> pa.Array:
    """Each value as a JSON string literal (escaped), nulls kept."""
    if pc.any(pc.match_substring_regex(arr, r"[\x00-\x1f]")).as_py():
        # Control characters never come out of the generator; escape them the slow, sure way.
        return strings([None if v is None else json.dumps(v, ensure_ascii=False) for v in arr.to_pylist()])
    if pc.any(pc.match_substring_regex(arr, r'["\\]')).as_py():
        arr = pc.replace_substring(pc.replace_substring(arr, "\\", "\\\\"), '"', '\\"')
    return concat('"', arr, '"')


def _json_values(arr: pa.Array) -> pa.Array:
    """Each value of an Arrow array as JSON text (string array; null → ``null``)."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        out = _json_strings(arr)
    elif pa.types.is_boolean(t):
        out = pc.if_else(arr, lit("true"), lit("false"))
    elif pa.types.is_integer(t):
        out = pc.cast(arr, pa.string())
    elif pa.types.is_floating(t):
        if not pc.all(pc.is_finite(arr)).as_py() and arr.null_count < len(arr):
            raise ValueError("cannot export non-finite floats as JSON")
        out = pc.cast(arr, pa.string())
    elif pa.types.is_decimal(t):
        # Money is whole cents: a safe cast to two decimals raises if any value had more.
        out = pc.cast(pc.cast(arr, pa.decimal128(38, 2)), pa.string())
    elif pa.types.is_date(t):
        out = concat('"', pc.cast(arr, pa.string()), '"')
    elif pa.types.is_timestamp(t):
        seconds = pc.cast(arr, pa.timestamp("s", tz="UTC"))  # safe: raises on sub-second values
        out = concat('"', pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ"), '"')
    else:
        raise TypeError(f"no JSON form for Arrow type {t}")
    return pc.fill_null(out, lit("null"))


def jsonl_bytes(table: pa.Table) -> bytes:
    """The table as JSON Lines (one object per row, keys in column order)."""
    chunks = []
    for offset in range(0, max(table.num_rows, 1), _BATCH):
        part = table.slice(offset, _BATCH)
        if part.num_rows == 0:
            break
        pieces: list[Any] = []
        for i, name in enumerate(part.column_names):
            col = part.column(i).combine_chunks()
            prefix = ("{" if i == 0 else ",") + json.dumps(name) + ":"
            pieces += [prefix, _json_values(col)]
        pieces += ["}\n"]
        lines = concat(*pieces).cast(pa.large_string())
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
            lines.offset : lines.offset + len(lines) + 1
        ]
        data = lines.buffers()[2]
        chunks.append(data.to_pybytes()[offsets[0] : offsets[-1]])
    return b"".join(chunks)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def export_world(world: World, directory: str | Path) -> list[Path]:
    """Write the world under ``directory`` (created if needed); return the files written, sorted."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)

    def dump(obj: Any) -> bytes:
        return (
            json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
        ).encode()

    write(root / "manifest.json", dump(world.manifest))
    write(root / "fx_rates.jsonl", jsonl_bytes(world.fx_rates))
    for bw in world.brands:
        folder = root / "brands" / bw.brand_id
        write(
            folder / "brand.json",
            dump(
                {
                    "brand": {k: _plain(v) for k, v in bw.brand.items()},
                    "customer_salt": bw.customer_salt,
                    "ad_accounts": bw.ad_accounts,
                }
            ),
        )
        for name, table in bw.tables.items():
            write(folder / f"{name}.jsonl", jsonl_bytes(table))
        for name, table in bw.raw.items():
            write(folder / f"raw_{name}.jsonl", jsonl_bytes(table))
    return sorted(written)
