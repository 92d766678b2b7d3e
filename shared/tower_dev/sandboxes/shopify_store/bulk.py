"""Bulk query operations in the sandbox: run → poll ``bulkOperation(id:)`` → download JSONL.

The query is checked like Shopify checks it (valid against the schema, one top-level connection,
at most 5 connections and 2 levels of nesting), then executed with connections unbounded, and the
result flattened into JSONL: one line per node, nested connection nodes as their own lines with
``__parentId``, ``/`` written as ``\\/``. Child lines follow no guaranteed order (here: they are
shuffled, seeded, within a small window, so a child may even come before its parent).

Status moves one step per poll (CREATED → RUNNING → COMPLETED), so a client's polling loop is
exercised without waiting on wall time. From API 2026-01 a shop runs up to 5 bulk queries at once
(LIMIT_REACHED beyond); earlier versions allow one (OPERATION_IN_PROGRESS).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
    get_named_type,
    parse,
)

from tower_dev.sandboxes.shopify_store.cost import _is_connection

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.server import SandboxShop

MAX_CONNECTIONS = 5
MAX_DEPTH = 2  # nested connection levels below the top-level one
CONCURRENT_QUERIES = 5
SHUFFLE_WINDOW = 6


@dataclass
class BulkOperation:
    id: str
    query: str
    created_at: datetime
    status: str = "CREATED"
    completed_at: datetime | None = None
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    polls: int = 0

    def node(self) -> dict[str, Any]:
        """The BulkOperation object (UnsignedInt64 counts are strings on the wire)."""
        return {
            "__typename": "BulkOperation",
            "id": self.id,
            "status": self.status,
            "type": "QUERY",
            "errorCode": self.error_code,
            "createdAt": _ts(self.created_at),
            "completedAt": _ts(self.completed_at),
            "objectCount": str(self.object_count),
            "rootObjectCount": str(self.root_object_count),
            "fileSize": None if self.file_size is None else str(self.file_size),
            "url": self.url,
            "partialDataUrl": None,
            "query": self.query,
        }


def _ts(v: datetime | None) -> str | None:
    return None if v is None else v.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_bulk_query(schema: GraphQLSchema, document: Any) -> str | None:
    """Why Shopify would refuse this bulk query, or None."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1 or ops[0].operation.value != "query":
        return "Bulk queries must contain exactly one query operation."
    if ops[0].variable_definitions:
        return "Bulk queries cannot contain variables."
    frags = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    roots = _fields(ops[0].selection_set, frags)
    if len(roots) != 1:
        return "Bulk queries must contain exactly one top-level field."
    root_def = schema.query_type.fields.get(roots[0].name.value) if schema.query_type else None
    if root_def is None or not _is_connection(get_named_type(root_def.type)):
        return "Bulk queries require a connection field at the top level."
    counts = {"connections": 0, "depth": 0}

    def walk(node: FieldNode, parent_type: Any, depth: int) -> None:
        fdef = getattr(parent_type, "fields", {}).get(node.name.value)
        if fdef is None:
            return
        named = get_named_type(fdef.type)
        if _is_connection(named):
            counts["connections"] += 1
            counts["depth"] = max(counts["depth"], depth)
            depth += 1
        for child in _fields(node.selection_set, frags):
            walk(child, named, depth)

    walk(roots[0], schema.query_type, 0)
    if counts["connections"] > MAX_CONNECTIONS:
        return f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    if counts["depth"] > MAX_DEPTH:
        return f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_DEPTH}."
    return None


def _fields(sel: SelectionSetNode | None, frags: Mapping[str, FragmentDefinitionNode]) -> list[FieldNode]:
    out: list[FieldNode] = []
    if sel is None:
        return out
    for s in sel.selections:
        if isinstance(s, FieldNode):
            out.append(s)
        elif isinstance(s, InlineFragmentNode):
            out.extend(_fields(s.selection_set, frags))
        elif isinstance(s, FragmentSpreadNode) and s.name.value in frags:
            out.extend(_fields(frags[s.name.value].selection_set, frags))
    return out


def flatten(
    schema: GraphQLSchema, document: Any, data: Mapping[str, Any]
) -> Iterator[tuple[dict[str, Any], bool]]:
    """The JSONL objects of a bulk result: ``(object, is_root)``; nested connection nodes get ``__parentId``."""
    op = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    frags = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = _fields(op.selection_set, frags)[0]
    key = root.alias.value if root.alias else root.name.value
    root_type = get_named_type(schema.query_type.fields[root.name.value].type)  # type: ignore[union-attr]

    def nodes_of(conn: Mapping[str, Any] | None) -> list[Any]:
        if not conn:
            return []
        if conn.get("nodes") is not None:
            return list(conn["nodes"])
        return [e.get("node") for e in conn.get("edges") or [] if e and e.get("node") is not None]

    def node_type_of(conn_type: Any) -> Any:
        return get_named_type(conn_type.fields["nodes"].type)

    def split(
        node: Mapping[str, Any], node_type: Any, selection: list[FieldNode], parent_id: str | None
    ) -> Iterator[tuple[dict[str, Any], bool]]:
        line: dict[str, Any] = {}
        children: list[tuple[Any, Any, list[FieldNode]]] = []
        for f in selection:
            k = f.alias.value if f.alias else f.name.value
            if k not in node:
                continue
            fdef = getattr(node_type, "fields", {}).get(f.name.value)
            named = get_named_type(fdef.type) if fdef else None
            if named is not None and _is_connection(named):
                children.append((node[k], node_type_of(named), _node_fields(f)))
            else:
                line[k] = node[k]
        if parent_id is not None:
            line["__parentId"] = parent_id
        yield line, parent_id is None
        for conn, child_type, child_sel in children:
            for child in nodes_of(conn):
                yield from split(child, child_type, child_sel, node.get("id"))

    def _node_fields(conn_field: FieldNode) -> list[FieldNode]:
        out: list[FieldNode] = []
        for f in _fields(conn_field.selection_set, frags):
            if f.name.value == "nodes":
                out.extend(_fields(f.selection_set, frags))
            elif f.name.value == "edges":
                for ef in _fields(f.selection_set, frags):
                    if ef.name.value == "node":
                        out.extend(_fields(ef.selection_set, frags))
        return out

    for n in nodes_of(data.get(key)):
        yield from split(n, node_type_of(root_type), _node_fields(root), None)


def _strip_query_argument(document: Any) -> tuple[Any, str | None] | None:
    """``(document without the root field's query: argument, that argument's value)``."""
    from graphql import FieldNode as Field
    from graphql import OperationDefinitionNode as Op
    from graphql import StringValueNode

    ops = [d for d in document.definitions if isinstance(d, Op)]
    if len(ops) != 1 or len(document.definitions) != 1 or len(ops[0].selection_set.selections) != 1:
        return None
    root = ops[0].selection_set.selections[0]
    if not isinstance(root, Field):
        return None
    value = None
    args = []
    for a in root.arguments or ():
        if a.name.value == "query" and isinstance(a.value, StringValueNode):
            value = a.value.value
        else:
            args.append(a)
    stripped_root = Field(alias=root.alias, name=root.name, arguments=tuple(args), directives=root.directives,
                          selection_set=root.selection_set)
    op = Op(operation=ops[0].operation, name=ops[0].name, variable_definitions=ops[0].variable_definitions,
            directives=ops[0].directives, selection_set=SelectionSetNode(selections=(stripped_root,)))
    return op, value


def encode_line(obj: Mapping[str, Any]) -> bytes:
    """One JSONL line the way Shopify writes it: compact, ``/`` escaped as ``\\/``."""
    # "/" only ever occurs inside JSON strings, so escaping it on the serialised text is exact.
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/") + "\n").encode()


def shuffle_children(lines: list[tuple[bytes, bool]], seed: int, window: int = SHUFFLE_WINDOW) -> list[bytes]:
    """Lines with each child moved up to ``window`` places (children follow no guaranteed order)."""
    rng = random.Random(seed)
    keyed = [
        (i + (rng.uniform(-window, window) if not is_root else 0.0), i, b)
        for i, (b, is_root) in enumerate(lines)
    ]
    keyed.sort(key=lambda t: (t[0], t[1]))
    return [b for _, _, b in keyed]


@dataclass
class BulkRegistry:
    """One shop's bulk operations and their result files."""

    shop: SandboxShop
    polls_to_complete: int = 2
    concurrent_limit: int = CONCURRENT_QUERIES
    ops: dict[str, BulkOperation] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    url_for: Callable[[str], str] = lambda file_id: f"/bulk/{file_id}.jsonl"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, op_id: str) -> BulkOperation | None:
        with self._lock:
            op = self.ops.get(op_id)
            if op is None:
                return None
            if op.status in ("CREATED", "RUNNING"):
                op.polls += 1
                if op.polls >= self.polls_to_complete:
                    self._complete(op)
                else:
                    op.status = "RUNNING"
            return op

    def latest(self, kind: str = "QUERY") -> BulkOperation | None:
        with self._lock:
            ops = sorted(self.ops.values(), key=lambda o: o.created_at)
        return self.get(ops[-1].id) if ops else None

    def run_query(
        self, query: str, scopes: frozenset[str]
    ) -> tuple[BulkOperation | None, list[dict[str, Any]]]:
        from graphql import GraphQLError, parse, validate

        try:
            document = parse(query)
        except GraphQLError as e:
            return None, [
                {"field": ["query"], "message": f"Invalid bulk query: {e.message}", "code": "INVALID"}
            ]
        errors = validate(self.shop.schema, document)
        if errors:
            return None, [
                {"field": ["query"], "message": f"Invalid bulk query: {errors[0].message}", "code": "INVALID"}
            ]
        problem = check_bulk_query(self.shop.schema, document)
        if problem:
            return None, [{"field": ["query"], "message": problem, "code": "INVALID"}]
        with self._lock:
            running = [o for o in self.ops.values() if o.status in ("CREATED", "RUNNING")]
            if len(running) >= self.concurrent_limit:
                if self.concurrent_limit == 1:
                    return None, [
                        {
                            "field": None,
                            "code": "OPERATION_IN_PROGRESS",
                            "message": f"A bulk query operation for this app and shop is already in progress: {running[0].id}.",
                        }
                    ]
                return None, [
                    {
                        "field": None,
                        "code": "LIMIT_REACHED",
                        "message": f"The limit of {self.concurrent_limit} concurrent bulk query operations was reached.",
                    }
                ]
            op = BulkOperation(
                f"gid://shopify/BulkOperation/{self.shop.state.new_id()}", query, self.shop.state.now()
            )
            op._document = document  # type: ignore[attr-defined]
            op._scopes = scopes  # type: ignore[attr-defined]
            self.ops[op.id] = op
            return op, []

    def cancel(self, op_id: str) -> tuple[BulkOperation | None, list[dict[str, Any]]]:
        with self._lock:
            op = self.ops.get(op_id)
            if op is None:
                return None, [{"field": ["id"], "code": None, "message": "Bulk operation does not exist"}]
            if op.status not in ("CREATED", "RUNNING"):
                return op, [
                    {
                        "field": None,
                        "code": None,
                        "message": f"A bulk operation cannot be canceled when it is {op.status.lower()}",
                    }
                ]
            op.status = "CANCELED"
            return op, []

    def _complete(self, op: BulkOperation) -> None:
        document = op._document  # type: ignore[attr-defined]
        scopes = op._scopes  # type: ignore[attr-defined]
        seed = int(hashlib.sha256(op.id.encode()).hexdigest()[:8], 16)
        fast = self.fast_orders_export(document, scopes, seed)
        if fast is not None:
            body, n_lines, n_roots = fast
        else:
            lines = self.execute_generic(document, scopes)
            if lines is None:
                op.status, op.error_code = "FAILED", "ACCESS_DENIED"
                op.completed_at = self.shop.state.now()
                return
            body = b"".join(shuffle_children(lines, seed))
            n_lines, n_roots = len(lines), sum(1 for _, is_root in lines if is_root)
        file_id = hashlib.sha256(f"{self.shop.state.shop_domain}:{op.id}".encode()).hexdigest()[:24]
        self.files[file_id] = body
        op.status, op.completed_at = "COMPLETED", self.shop.state.now()
        op.object_count, op.root_object_count = n_lines, n_roots
        op.file_size, op.url = len(body), (self.url_for(file_id) if body else None)

    def execute_generic(self, document: Any, scopes: frozenset[str]) -> list[tuple[bytes, bool]] | None:
        """Any bulk query, through graphql-core with unbounded connections (None: access denied)."""
        from tower_dev.sandboxes.shopify_store.api import (
            RequestContext,
            build_root,
            resolve_field,
            resolve_type,
        )

        ctx = RequestContext(self.shop, scopes, bulk=True)
        with self.shop.state.lock:
            result = execute(self.shop.schema, document, root_value=build_root(ctx), context_value=ctx,
                             field_resolver=resolve_field, type_resolver=resolve_type)
        if result.errors or result.data is None:
            return None
        return [(encode_line(obj), is_root) for obj, is_root in flatten(self.shop.schema, document, result.data)]

    def fast_orders_export(self, document: Any, scopes: frozenset[str], seed: int) -> tuple[bytes, int, int] | None:
        """The connector's own OrdersBulk query, written directly (graphql-core takes ~1 s per 1,000
        orders; a test proves both paths write the same objects). None for any other query."""
        import io

        from graphql import print_ast

        from tower.connectors.shopify.streams import bulk_orders_query
        from tower_dev.sandboxes.shopify_store.api import ORDER_SEARCH, READ_ALL_ORDERS_DAYS
        from tower_dev.sandboxes.shopify_store.bulk_render import write_orders_jsonl
        from tower_dev.sandboxes.shopify_store.render import FULFILLMENT_ORDERS_SCOPE
        from tower_dev.sandboxes.shopify_store.search import compile_search

        search = _strip_query_argument(document)
        if search is None or print_ast(search[0]) != print_ast(parse(bulk_orders_query())):
            return None
        if not {"read_orders", "read_customers"} <= scopes:
            return None  # let the general path answer exactly as it would
        state = self.shop.state
        predicates = []
        if search[1]:
            predicates.append(compile_search(search[1], ORDER_SEARCH)[0])
        if "read_all_orders" not in scopes:
            since = state.now() - timedelta(days=READ_ALL_ORDERS_DAYS)
            predicates.append(lambda o: o.created_at >= since)
        out = io.BytesIO()
        with state.lock:
            lines, roots = write_orders_jsonl(state, out, seed=seed,
                                              where=lambda o: all(p(o) for p in predicates),
                                              fulfillment_orders=FULFILLMENT_ORDERS_SCOPE in scopes)
        return out.getvalue(), lines, roots
