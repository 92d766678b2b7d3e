"""The Shopify streams, declared: what each reads, what one node costs, which field is its cursor.

A stream states its document (``queries/*.graphql``), where the connection sits in the answer, the
requested cost of one node and its cursor field; :func:`iter_pages` is the one paging loop for all
of them. Pages are as large as Shopify's cost rules allow: under the 1,000-point single-query limit
and within the shop's bucket (a test checks the declared costs with the sandbox's cost calculator).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from tower.connectors.shopify.client import QueryCost, ShopifyClient

#: The named inventory quantities Shopify keeps per item and location (the DDL's columns).
INVENTORY_QUANTITY_NAMES: tuple[str, ...] = ("available", "committed", "on_hand", "incoming")
#: Every product status: the products query's ``status`` filter defaults to ``active``.
PRODUCT_STATUSES = "active,archived,draft,unlisted"

_FRAGMENT = re.compile(r"^fragment\s+(\w+)\s+on\s+\w+\s*\{", re.MULTILINE)
_SPREAD = re.compile(r"\.\.\.(\w+)")


@cache
def _query_text(name: str) -> str:
    return resources.files("tower.connectors.shopify").joinpath("queries", f"{name}.graphql").read_text()


@lru_cache(maxsize=1)
def _fragments() -> dict[str, str]:
    text = _query_text("fragments")
    starts = [(m.start(), m.group(1)) for m in _FRAGMENT.finditer(text)]
    out = {}
    for i, (pos, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out[name] = text[pos:end].strip() + "\n"
    return out


@cache
def load_document(name: str) -> str:
    """A document from ``queries/`` with the fragments it spreads appended (only those)."""
    text = _query_text(name)
    fragments = _fragments()
    needed: list[str] = []
    pending = [s for s in _SPREAD.findall(text) if s in fragments]
    while pending:
        frag = pending.pop()
        if frag not in needed:
            needed.append(frag)
            pending.extend(s for s in _SPREAD.findall(fragments[frag]) if s in fragments)
    return text + "".join("\n" + fragments[f] for f in sorted(needed))


def document_names() -> list[str]:
    """Every document the connector can send (fragments excluded)."""
    files = resources.files("tower.connectors.shopify").joinpath("queries").iterdir()
    return sorted(p.name[: -len(".graphql")] for p in files if p.name.endswith(".graphql")
                  and p.name != "fragments.graphql")


def bulk_orders_query(search: str | None = None) -> str:
    """The bulk backfill query, fragments inlined and the ``query:`` filter set as a literal.

    Bulk queries take no variables, so the filter goes into the text; building it on the AST
    (not by string formatting) keeps quoting right whatever the filter holds.
    """
    from graphql import (
        ArgumentNode,
        FieldNode,
        FragmentDefinitionNode,
        FragmentSpreadNode,
        NameNode,
        OperationDefinitionNode,
        SelectionSetNode,
        StringValueNode,
        parse,
        print_ast,
    )

    ast = parse(load_document("bulk_orders"))
    frags = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}

    def inline(sel: SelectionSetNode | None) -> SelectionSetNode | None:
        if sel is None:
            return None
        out: list[Any] = []
        for s in sel.selections:
            if isinstance(s, FragmentSpreadNode):
                out.extend(inline(frags[s.name.value].selection_set).selections)  # type: ignore[union-attr]
            elif isinstance(s, FieldNode):
                out.append(FieldNode(alias=s.alias, name=s.name, arguments=s.arguments,
                                     directives=s.directives, selection_set=inline(s.selection_set)))
            else:
                out.append(s)
        return SelectionSetNode(selections=tuple(out))

    op = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    root = op.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    args = tuple(a for a in root.arguments or () if a.name.value != "query")
    if search:
        args += (ArgumentNode(name=NameNode(value="query"), value=StringValueNode(value=search)),)
    root = FieldNode(alias=root.alias, name=root.name, arguments=args, directives=root.directives,
                     selection_set=inline(root.selection_set))
    op = OperationDefinitionNode(operation=op.operation, name=op.name, variable_definitions=(),
                                 directives=(), selection_set=SelectionSetNode(selections=(root,)))
    return print_ast(op)


def shopify_time(value: datetime) -> str:
    """A UTC timestamp as Shopify's search syntax and payloads write it (``2026-11-01T08:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def since_filter(field_name: str, since: str | None) -> str | None:
    """``updated_at:>='...'``: inclusive, so records sharing the boundary time are read again."""
    return f"{field_name}:>='{since}'" if since else None


#: Shopify refuses a single query that asks for more than 1,000 points, whatever the bucket holds.
MAX_QUERY_COST = 1000
#: Shopify serves at most 250 nodes a page.
MAX_PAGE = 250


@dataclass(frozen=True)
class Stream:
    """One resource read through one paged connection.

    Shopify prices a connection at 2 points plus ``first`` × the cost of one node (its objects and
    nested connections), and charges a request that cost up front. A page is as large as the
    query's cost lets it be (:meth:`page_size`): the declared costs size the first page, the
    ``requestedQueryCost`` Shopify answers sizes the next ones (:func:`iter_pages`).

    Attributes:
        name: The resource name in ``sync_state``.
        document: The ``queries/`` document.
        connection: Path of the connection in ``data`` (e.g. ``("location", "inventoryLevels")``).
        node_cost: Requested cost of one node with ``extra_variables`` (a test checks it against
            Shopify's rules as the sandbox computes them).
        fixed_cost: Requested cost of the rest of the document (the connection's own 2 points and
            any object around it).
        max_page: The most nodes a page may ask for.
        cursor_field: Node field whose maximum becomes the next sync's cursor (None: no cursor).
        search_field: Search-syntax field the cursor filters on (``updated_at``, ``created_at``).
        fixed_search: Search terms always sent (e.g. every product status).
    """

    name: str
    document: str
    connection: tuple[str, ...]
    node_cost: int
    fixed_cost: int = 2
    max_page: int = MAX_PAGE
    cursor_field: str | None = None
    search_field: str | None = None
    fixed_search: str | None = None
    extra_variables: Mapping[str, Any] = field(default_factory=dict)

    def search(self, since: str | None) -> str | None:
        """The ``query:`` filter for a window starting at ``since`` (None: everything)."""
        terms = [t for t in (self.fixed_search, since_filter(self.search_field or "", since)
                             if self.search_field else None) if t]
        return " AND ".join(terms) or None

    def page_size(self, bucket_maximum: float | None = None, node_cost: float | None = None) -> int:
        """The largest page whose requested cost fits both the single-query limit and the bucket.

        Args:
            bucket_maximum: The shop's bucket size (``throttleStatus.maximumAvailable``; plans
                differ); None: the single-query limit alone.
            node_cost: Cost of one node as Shopify priced it; None: the declared one.
        """
        budget = MAX_QUERY_COST if bucket_maximum is None else min(MAX_QUERY_COST, bucket_maximum)
        per_node = max(node_cost or self.node_cost, 1e-9)
        return max(1, min(self.max_page, int((budget - self.fixed_cost) // per_node)))


# a product node costs 4: itself, its featuredMedia, the media's preview and the preview's image
PRODUCTS = Stream("products", "products", ("products",), node_cost=4, cursor_field="updatedAt",
                  search_field="updated_at", fixed_search=f"status:{PRODUCT_STATUSES}")
VARIANTS = Stream("variants", "variants", ("productVariants",), node_cost=4, cursor_field="updatedAt",
                  search_field="updated_at")
PRODUCT_DELETIONS = Stream("product_deletions", "product_deletions", ("events",), node_cost=1,
                           cursor_field="createdAt", search_field="created_at",
                           fixed_search="subject_type:PRODUCT AND action:destroy")
LOCATIONS = Stream("locations", "locations", ("locations",), node_cost=2)
INVENTORY_LEVELS = Stream("inventory_levels", "inventory_levels", ("location", "inventoryLevels"),
                          node_cost=6, fixed_cost=3, extra_variables={"names": list(INVENTORY_QUANTITY_NAMES)})
#: Each order comes with its first 5 line items and first 2 fulfillment orders (5 lines each): the
#: world's orders hold 1-5 lines and ship from one location, and longer ones continue in
#: OrderLineItems / OrderFulfillmentOrders. Asking for 10 lines would cost 146 points an order
#: instead of 89, for orders that rarely have them.
ORDERS = Stream("orders", "orders", ("orders",), node_cost=89, cursor_field="updatedAt",
                search_field="updated_at", extra_variables={"lineItems": 5, "fulfillmentOrders": 2})
ORDER_LINE_ITEMS_PAGE = 100
#: OrderFulfillmentOrders asks for 4 fulfillment orders of 100 lines each (823 points).
ORDER_FULFILLMENT_ORDERS_PAGE = 4
FULFILLMENT_ORDER_LINES_PAGE = 100

STREAMS: tuple[Stream, ...] = (PRODUCTS, VARIANTS, PRODUCT_DELETIONS, LOCATIONS, INVENTORY_LEVELS, ORDERS)


@dataclass(frozen=True)
class Page:
    """One page of a stream: its nodes and where the next one starts."""

    nodes: list[dict[str, Any]]
    end_cursor: str | None
    has_next: bool
    max_cursor_value: str | None


def _dig(data: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    cur: Any = data
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur if isinstance(cur, Mapping) else None


def connection_nodes(conn: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The nodes of a connection answered as ``nodes`` or as ``edges { node }``."""
    if not conn:
        return []
    if conn.get("nodes") is not None:
        return list(conn["nodes"])
    return [e["node"] for e in conn.get("edges") or [] if e and e.get("node") is not None]


def next_page_size(stream: Stream, first: int, cost: QueryCost | None) -> int:
    """The page size after a page of ``first`` nodes that Shopify priced at ``cost``.

    Shopify's own price of a node ((requested − fixed) ÷ first) replaces the declared one, so a
    document Shopify prices higher than expected still fits, and the bucket's maximum (which
    differs by plan) bounds the page.
    """
    if cost is None or cost.requested is None:
        return first
    observed = (cost.requested - stream.fixed_cost) / max(first, 1)
    bucket = cost.throttle.maximum_available if cost.throttle else None
    return stream.page_size(bucket, observed if observed > 0 else None)


def iter_pages(
    client: ShopifyClient,
    stream: Stream,
    *,
    since: str | None = None,
    after: str | None = None,
    variables: Mapping[str, Any] | None = None,
    page_size: int | None = None,
) -> Iterator[Page]:
    """Every page of a stream from ``after`` on, for the window starting at ``since``.

    Pages are as large as the query's cost allows (:meth:`Stream.page_size` from the bucket the
    client last saw, then :func:`next_page_size` from what Shopify charged); ``page_size`` pins
    them instead. The caller stores each page and then checkpoints ``page.end_cursor``; a crash
    resumes from the last stored page with the same ``since`` and ``after``.
    """
    document = load_document(stream.document)
    base: dict[str, Any] = {**stream.extra_variables, **(variables or {})}
    if "$query:" in document:
        base["query"] = stream.search(since)
    first = page_size or stream.page_size(client.bucket_maximum())
    while True:
        result = client.execute(document, {**base, "first": first, "after": after})
        conn = _dig(result.data, stream.connection)
        nodes = connection_nodes(conn)
        info = (conn or {}).get("pageInfo") or {}
        max_value = None
        if stream.cursor_field:
            values = [v for n in nodes if (v := n.get(stream.cursor_field))]
            max_value = max(values) if values else None
        page = Page(nodes, info.get("endCursor"), bool(info.get("hasNextPage")), max_value)
        yield page
        if not page.has_next or not page.end_cursor:
            return
        after = page.end_cursor
        if page_size is None:
            first = next_page_size(stream, first, result.cost)


def complete_line_items(client: ShopifyClient, order: dict[str, Any]) -> dict[str, Any]:
    """The order with all its line items: pages past the first through OrderLineItems."""
    conn = order.get("lineItems") or {}
    info = conn.get("pageInfo") or {}
    if not info.get("hasNextPage"):
        return order
    items = connection_nodes(conn)
    after = info.get("endCursor")
    document = load_document("order_line_items")
    while after:
        result = client.execute(document, {"id": order["id"], "first": ORDER_LINE_ITEMS_PAGE, "after": after})
        more = _dig(result.data, ("order", "lineItems"))
        items.extend(connection_nodes(more))
        more_info = (more or {}).get("pageInfo") or {}
        after = more_info.get("endCursor") if more_info.get("hasNextPage") else None
    return {**order, "lineItems": {"nodes": items, "pageInfo": {"hasNextPage": False, "endCursor": None}}}


def complete_fulfillment_orders(client: ShopifyClient, order: dict[str, Any]) -> dict[str, Any]:
    """The order with all its fulfillment orders and all their lines, when the page held only the first."""
    conn = order.get("fulfillmentOrders") or {}
    fos = connection_nodes(conn)
    more_fos = bool((conn.get("pageInfo") or {}).get("hasNextPage"))
    if not more_fos and not any(((fo.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage") for fo in fos):
        return order
    if more_fos:
        fos, after = [], None
        document = load_document("order_fulfillment_orders")
        while True:
            result = client.execute(document, {"id": order["id"], "first": ORDER_FULFILLMENT_ORDERS_PAGE,
                                               "after": after, "lineItems": FULFILLMENT_ORDER_LINES_PAGE})
            page = _dig(result.data, ("order", "fulfillmentOrders"))
            fos.extend(connection_nodes(page))
            info = (page or {}).get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                break
            after = info["endCursor"]
    return {**order, "fulfillmentOrders": {"nodes": [_all_fulfillment_lines(client, fo) for fo in fos],
                                           "pageInfo": {"hasNextPage": False, "endCursor": None}}}


def _all_fulfillment_lines(client: ShopifyClient, fo: dict[str, Any]) -> dict[str, Any]:
    conn = fo.get("lineItems") or {}
    info = conn.get("pageInfo") or {}
    if not info.get("hasNextPage"):
        return fo
    lines = connection_nodes(conn)
    after = info.get("endCursor")
    document = load_document("fulfillment_order_line_items")
    while after:
        result = client.execute(document, {"id": fo["id"], "first": FULFILLMENT_ORDER_LINES_PAGE, "after": after})
        more = _dig(result.data, ("fulfillmentOrder", "lineItems"))
        lines.extend(connection_nodes(more))
        more_info = (more or {}).get("pageInfo") or {}
        after = more_info.get("endCursor") if more_info.get("hasNextPage") else None
    return {**fo, "lineItems": {"nodes": lines, "pageInfo": {"hasNextPage": False, "endCursor": None}}}
