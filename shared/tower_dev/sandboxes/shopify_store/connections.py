"""Relay connections the way Shopify pages them: opaque keyset cursors, ``edges``/``nodes``/``pageInfo``.

A Shopify cursor is base64 of ``{"last_id": ..., "last_value": ...}``: the sort value and id of the
last node seen (times as epoch milliseconds). Paging is keyset paging on ``(sort value, id)``, so a
record updated while a client pages moves to the end of an ``UPDATED_AT`` listing instead of
shifting every later page.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from graphql import GraphQLError

MAX_PAGE = 250


def _wire_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return int(v.timestamp() * 1000)
    return v


def encode_cursor(last_id: int, last_value: Any) -> str:
    """An opaque cursor (base64 JSON, as Shopify's)."""
    raw = json.dumps({"last_id": last_id, "last_value": _wire_value(last_value)}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, int]:
    """``(last_value, last_id)`` of a cursor; a cursor we did not issue is a client error."""
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return data["last_value"], int(data["last_id"])
    except (ValueError, KeyError, TypeError) as e:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from e


class SortedIndex:
    """Items sorted once by ``(sort value, id)``; pages are bisected out of it."""

    def __init__(
        self, items: Sequence[Any], sort_value: Callable[[Any], Any], id_of: Callable[[Any], int]
    ) -> None:
        keyed = sorted(
            ((_wire_value(sort_value(i)), id_of(i), i) for i in items), key=lambda t: (_none_low(t[0]), t[1])
        )
        self.keys = [(_none_low(k[0]), k[1]) for k in keyed]
        self.items = [k[2] for k in keyed]
        self.raw = [(k[0], k[1]) for k in keyed]

    def __len__(self) -> int:
        return len(self.items)


def _none_low(v: Any) -> tuple[int, Any]:
    # None sorts first; values of one index share a type.
    return (0, 0) if v is None else (1, v)


def page(
    index: SortedIndex,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    where: Callable[[Any], bool] | None = None,
    render: Callable[[Any], Any] = lambda x: x,
    unbounded: bool = False,
) -> dict[str, Any]:
    """One connection page: ``{edges, nodes, pageInfo}``.

    Args:
        index: The sorted items.
        first: Page size from the start side (``after``).
        after: Cursor to continue after.
        last: Page size from the end side (``before``).
        before: Cursor to stop before.
        reverse: Reverse the sort order (Shopify's ``reverse: true``).
        where: Filter (the compiled ``query:`` search).
        render: Item → GraphQL node value.
        unbounded: Bulk operations page without ``first``.
    """
    if not unbounded:
        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last")
        for name, n in (("first", first), ("last", last)):
            if n is not None and (n < 0 or n > MAX_PAGE):
                raise GraphQLError(f"The value of the argument `{name}` must be between 0 and {MAX_PAGE}.")
    # Walk direction: forward for first (or reverse+last), backward otherwise.
    backward = (last is not None and first is None) != reverse
    size = first if first is not None else last
    start_cursor = after if first is not None or last is None else before
    n = len(index)
    if start_cursor:
        value, last_id = decode_cursor(start_cursor)
        key = (_none_low(value), last_id)
        pos = (
            bisect.bisect_right(index.keys, key) if not backward else bisect.bisect_left(index.keys, key) - 1
        )
    else:
        pos = n - 1 if backward else 0
    step = -1 if backward else 1
    picked: list[int] = []
    has_more = False
    i = pos
    while 0 <= i < n:
        item = index.items[i]
        if where is None or where(item):
            if size is not None and not unbounded and len(picked) >= size:
                has_more = True
                break
            picked.append(i)
        i += step
    if last is not None and first is None:
        picked.reverse()  # `last` pages read in the listing's own order
    edges = []
    nodes = []
    for j in picked:
        value, item_id = index.raw[j]
        node = render(index.items[j])
        nodes.append(node)
        edges.append({"cursor": encode_cursor(item_id, value), "node": node})
    forward_paging = first is not None or last is None
    info = {
        "hasNextPage": has_more if forward_paging else bool(before),
        "hasPreviousPage": bool(start_cursor) if forward_paging else has_more,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    return {"edges": edges, "nodes": nodes, "pageInfo": info}
