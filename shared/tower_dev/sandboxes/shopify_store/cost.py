"""Calculated query cost and the leaky bucket, the way Shopify's Admin API rates requests.

Shopify's published rules: scalars and enums cost 0, objects 1, interfaces and unions 1, a
connection 2 plus its page size times the cost of one node, a mutation 10. A query is charged its
*requested* cost up front and refunded down to its *actual* cost (counted on what it returned).
A single query may not request more than 1,000 points. The bucket holds ``maximum`` points and
restores ``restore_rate`` points a second; a request that does not fit is THROTTLED.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

MAX_QUERY_COST = 1000
MUTATION_COST = 10
FREE_FIELDS = frozenset({"pageInfo", "__typename"})


def _is_list(t: Any) -> bool:
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def _is_connection(named: Any) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "pageInfo" in named.fields
    )


class CostCalculator:
    """Requested and actual cost of one operation against one schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = dict(variables)

    # -- helpers ------------------------------------------------------------------------------------
    def _fields(self, sel: SelectionSetNode | None, parent: Any) -> list[tuple[FieldNode, Any]]:
        """The fields of a selection set with their definitions, fragments flattened."""
        out: list[tuple[FieldNode, Any]] = []
        if sel is None:
            return out
        for s in sel.selections:
            if isinstance(s, FieldNode):
                fields = getattr(parent, "fields", {})
                fdef = fields.get(s.name.value)
                if fdef is not None:
                    out.append((s, fdef))
            elif isinstance(s, InlineFragmentNode):
                cond = self.schema.get_type(s.type_condition.name.value) if s.type_condition else parent
                out.extend(self._fields(s.selection_set, cond))
            elif isinstance(s, FragmentSpreadNode):
                frag = self.fragments.get(s.name.value)
                if frag is not None:
                    out.extend(
                        self._fields(frag.selection_set, self.schema.get_type(frag.type_condition.name.value))
                    )
        return out

    def _page_size(self, fdef: Any, node: FieldNode) -> int:
        """``first`` or ``last`` of a connection field, from a literal or a variable."""
        for arg in node.arguments or ():
            if arg.name.value in ("first", "last"):
                value = arg.value
                if isinstance(value, VariableNode):
                    got = self.variables.get(value.name.value)
                elif isinstance(value, IntValueNode):
                    got = value.value
                else:
                    got = None
                if got is not None:
                    return int(got)
        return 0

    def _node_selection(
        self, conn_node: FieldNode, conn_type: GraphQLObjectType
    ) -> list[tuple[str | None, FieldNode, Any]]:
        """The node-level fields of a connection: ``(edges key or None, node field, its definition)``."""
        out: list[tuple[str | None, FieldNode, Any]] = []
        for f, fdef in self._fields(conn_node.selection_set, conn_type):
            if f.name.value == "nodes":
                out.append((None, f, fdef))
            elif f.name.value == "edges":
                edges_key = f.alias.value if f.alias else "edges"
                for ef, efdef in self._fields(f.selection_set, get_named_type(fdef.type)):
                    if ef.name.value == "node":
                        out.append((edges_key, ef, efdef))
        return out

    # -- requested ----------------------------------------------------------------------------------
    def requested(self) -> int:
        """The cost the operation asks for, before it runs."""
        root = (
            self.schema.mutation_type
            if self.operation.operation.value == "mutation"
            else self.schema.query_type
        )
        if self.operation.operation.value == "mutation":
            return MUTATION_COST * len(self._fields(self.operation.selection_set, root))
        return self._selection_cost(self.operation.selection_set, root)

    def _selection_cost(self, sel: SelectionSetNode | None, parent: Any) -> int:
        return sum(self._field_cost(f, fdef) for f, fdef in self._fields(sel, parent))

    def _field_cost(self, node: FieldNode, fdef: Any) -> int:
        if node.name.value in FREE_FIELDS:
            return 0
        named = get_named_type(fdef.type)
        if _is_connection(named):
            size = self._page_size(fdef, node)
            per_node = sum(
                1 + self._selection_cost(n.selection_set, get_named_type(nd.type))
                for _, n, nd in self._node_selection(node, named)
            )
            return 2 + size * per_node
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return 1 + self._selection_cost(node.selection_set, named)
        return 0

    # -- actual -------------------------------------------------------------------------------------
    def actual(self, data: Mapping[str, Any] | None) -> int:
        """The cost of what the operation returned (connections count the nodes they held)."""
        if data is None:
            return 0
        if self.operation.operation.value == "mutation":
            return self.requested()
        return self._actual_selection(self.operation.selection_set, self.schema.query_type, data)

    def _actual_selection(self, sel: SelectionSetNode | None, parent: Any, value: Any) -> int:
        if not isinstance(value, Mapping):
            return 0
        total = 0
        for f, fdef in self._fields(sel, parent):
            key = f.alias.value if f.alias else f.name.value
            total += self._actual_field(f, fdef, value.get(key))
        return total

    def _actual_field(self, node: FieldNode, fdef: Any, value: Any) -> int:
        if node.name.value in FREE_FIELDS or value is None:
            return 0
        named = get_named_type(fdef.type)
        if _is_connection(named):
            cost = 2
            for edges_key, f, nd in self._node_selection(node, named):
                key = f.alias.value if f.alias else f.name.value
                if edges_key is None:
                    items = value.get(key) or []
                else:
                    items = [e.get(key) for e in value.get(edges_key) or [] if isinstance(e, Mapping)]
                cost += sum(
                    1 + self._actual_selection(f.selection_set, get_named_type(nd.type), it)
                    for it in items
                    if it is not None
                )
            return cost
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            if _is_list(fdef.type) and isinstance(value, list):
                # Lists of objects are charged like one object (as requested() charges them).
                return 1 + (self._actual_selection(node.selection_set, named, value[0]) if value else 0)
            return 1 + self._actual_selection(node.selection_set, named, value)
        return 0


@dataclass
class BucketStatus:
    """``throttleStatus`` as Shopify reports it."""

    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float]:
        # Shopify writes these as floats (2000.0); keep the float type on the wire.
        return {
            "maximumAvailable": float(self.maximum_available),
            # Rounded down: a client pacing on this number must never think it holds more than it does.
            "currentlyAvailable": float(math.floor(self.currently_available)),
            "restoreRate": float(self.restore_rate),
        }


class LeakyBucket:
    """Per-shop cost bucket: take the requested cost up front, refund down to the actual cost."""

    def __init__(self, maximum: float, restore_rate: float, clock: Callable[[], float]) -> None:
        self.maximum = float(maximum)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = float(maximum)
        self._at = clock()
        self._lock = threading.Lock()

    def _restore(self) -> None:
        now = self._clock()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def try_take(self, cost: float) -> bool:
        """Take cost if the bucket holds it; return whether it did."""
        with self._lock:
            self._restore()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._restore()
            self._available = min(self.maximum, self._available + max(points, 0.0))

    def drain(self) -> None:
        """Empty the bucket (a fault: as if another app had used it up)."""
        with self._lock:
            self._restore()
            self._available = 0.0

    def status(self) -> BucketStatus:
        with self._lock:
            self._restore()
            return BucketStatus(self.maximum, self._available, self.restore_rate)
