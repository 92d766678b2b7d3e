"""The sandbox's GraphQL Admin endpoint: Shopify's real schema, executed over one shop's data.

``execute`` does what Shopify does with a request: parse (PARSE_ERROR), validate against the real
2026-04 schema, price it (requested cost; over 1,000 points is MAX_COST_EXCEEDED), take the cost
from the shop's leaky bucket (or answer THROTTLED), run the resolvers, refund the bucket down to the
actual cost and answer ``{data, errors?, extensions: {cost}}`` — every error with HTTP 200.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)

from tower_dev.sandboxes.shopify_store import billing, connections, discounts, subscriptions
from tower_dev.sandboxes.shopify_store.cost import MAX_QUERY_COST, CostCalculator
from tower_dev.sandboxes.shopify_store.render import Renderer, count
from tower_dev.sandboxes.shopify_store.search import FieldSpec, SearchError, compile_search
from tower_dev.sandboxes.shopify_store.state import Event, Order, gid, gid_number

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.server import SandboxShop

READ_ALL_ORDERS_DAYS = 60


def resolve_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Default resolver: dict key (or attribute) by field name; callables get the arguments."""
    name = info.field_name
    value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
    if callable(value):
        return value(info, **args)
    return value


def resolve_type(value: Any, info: GraphQLResolveInfo, abstract_type: Any) -> str | None:
    """Interfaces and unions (Node, Event): the node dict says what it is."""
    return value.get("__typename") if isinstance(value, Mapping) else None


def access_denied(field_name: str, scope: str) -> GraphQLError:
    return GraphQLError(
        f"Access denied for {field_name} field. Required access: `{scope}` access scope.",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"`{scope}` access scope.",
        },
    )


# -- search fields per resource -----------------------------------------------------------------------
PRODUCT_SEARCH = {
    "updated_at": FieldSpec(lambda p: p.updated_at, "time"),
    "created_at": FieldSpec(lambda p: p.created_at, "time"),
    "id": FieldSpec(lambda p: p.id, "id"),
    "status": FieldSpec(lambda p: p.status, "enum"),
    "title": FieldSpec(lambda p: p.title),
    "handle": FieldSpec(lambda p: p.handle),
    "product_type": FieldSpec(lambda p: p.product_type),
    "vendor": FieldSpec(lambda p: p.vendor),
}
VARIANT_SEARCH = {
    "updated_at": FieldSpec(lambda v: v.updated_at, "time"),
    "id": FieldSpec(lambda v: v.id, "id"),
    "product_id": FieldSpec(lambda v: v.product_id, "id"),
    "sku": FieldSpec(lambda v: v.sku),
}
ORDER_SEARCH = {
    "updated_at": FieldSpec(lambda o: o.updated_at, "time"),
    "created_at": FieldSpec(lambda o: o.created_at, "time"),
    "processed_at": FieldSpec(lambda o: o.processed_at, "time"),
    "id": FieldSpec(lambda o: o.id, "id"),
    "name": FieldSpec(lambda o: o.name),
    "status": FieldSpec(lambda o: "cancelled" if o.cancelled_at else "open", "enum"),
}
EVENT_SEARCH = {
    "created_at": FieldSpec(lambda e: e.created_at, "time"),
    "id": FieldSpec(lambda e: e.id, "id"),
    "subject_type": FieldSpec(lambda e: e.subject_type, "enum"),
    "action": FieldSpec(lambda e: e.action, "enum"),
}

SORTS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "Product": {
        "ID": lambda p: p.id,
        "UPDATED_AT": lambda p: p.updated_at,
        "CREATED_AT": lambda p: p.created_at,
        "TITLE": lambda p: p.title,
        "VENDOR": lambda p: p.vendor,
        "PRODUCT_TYPE": lambda p: p.product_type,
    },
    "ProductVariant": {
        "ID": lambda v: v.id,
        "SKU": lambda v: v.sku,
        "TITLE": lambda v: v.title,
        "POSITION": lambda v: v.id,
    },
    "Order": {
        "ID": lambda o: o.id,
        "UPDATED_AT": lambda o: o.updated_at,
        "CREATED_AT": lambda o: o.created_at,
        "PROCESSED_AT": lambda o: o.processed_at,
        "ORDER_NUMBER": lambda o: o.id,
        "TOTAL_PRICE": lambda o: float(o.total),
    },
    "Location": {"ID": lambda x: x.id, "NAME": lambda x: x.name},
    "FulfillmentOrder": {"ID": lambda f: f.id},
    "Event": {"ID": lambda e: e.id, "CREATED_AT": lambda e: e.created_at},
}
IDS: dict[str, Callable[[Any], int]] = {
    "InventoryLevel": lambda lv: lv.location_id * 10**13 + lv.inventory_item_id,
    "RefundLineItem": lambda x: x["id"],
}


@dataclass
class RequestContext:
    """Per-request state: the shop, its scopes, bulk mode (connections without ``first``)."""

    shop: SandboxShop
    scopes: frozenset[str]
    bulk: bool = False
    search_warnings: list[str] = field(default_factory=list)

    @property
    def state(self) -> Any:
        return self.shop.state

    def require(self, scope: str, field_name: str) -> None:
        if scope not in self.scopes:
            raise access_denied(field_name, scope)

    def connection(
        self,
        items: Sequence[Any],
        kind: str,
        args: Mapping[str, Any],
        render: Callable[[Any], Any],
        *,
        search: Mapping[str, FieldSpec] | None = None,
        extra_filter: Callable[[Any], bool] | None = None,
        cache_key: str | None = None,
    ) -> dict[str, Any]:
        """One page of a connection over items, sorted, filtered and cursored like Shopify."""
        sort_key = str(args.get("sortKey") or "ID")
        sorts = SORTS.get(kind, {})
        sort_value = sorts.get(sort_key) or sorts.get("ID") or IDS.get(kind) or (lambda x: x.id)
        id_of = IDS.get(kind) or (lambda x: x.id)
        index = (
            self.shop.index(cache_key, sort_key, items, sort_value, id_of)
            if cache_key
            else connections.SortedIndex(items, sort_value, id_of)
        )
        where = extra_filter
        if search is not None and args.get("query"):
            try:
                pred, warnings = compile_search(args["query"], search)
            except (SearchError, ValueError) as e:
                raise GraphQLError(f"Invalid search query: {e}", extensions={"code": "BAD_REQUEST"}) from e
            self.search_warnings.extend(warnings)
            where = pred if where is None else (lambda x, a=pred, b=where: a(x) and b(x))
        return connections.page(
            index,
            first=args.get("first"),
            after=args.get("after"),
            last=args.get("last"),
            before=args.get("before"),
            reverse=bool(args.get("reverse")),
            where=where,
            render=render,
            unbounded=self.bulk,
        )


def build_root(ctx: RequestContext) -> dict[str, Any]:
    """The QueryRoot and Mutation resolvers over one shop."""
    state = ctx.state
    r = Renderer(state, ctx)

    def orders_visible() -> Callable[[Order], bool] | None:
        if "read_all_orders" in ctx.scopes:
            return None
        # Without read_all_orders Shopify shows only the last 60 days of orders, silently.
        since = state.now() - timedelta(days=READ_ALL_ORDERS_DAYS)
        return lambda o: o.created_at >= since

    def products(info: Any, **a: Any) -> Any:
        ctx.require("read_products", "products")
        return ctx.connection(
            state.live_products(), "Product", a, r.product, search=PRODUCT_SEARCH, cache_key="products"
        )

    def product(info: Any, id: str) -> Any:
        ctx.require("read_products", "product")
        p = state.products.get(gid_number(id))
        return r.product(p) if p and p.deleted_at is None else None

    def product_variants(info: Any, **a: Any) -> Any:
        ctx.require("read_products", "productVariants")
        return ctx.connection(
            state.live_variants(), "ProductVariant", a, r.variant, search=VARIANT_SEARCH, cache_key="variants"
        )

    def orders(info: Any, **a: Any) -> Any:
        ctx.require("read_orders", "orders")
        return ctx.connection(
            list(state.orders.values()),
            "Order",
            a,
            r.order,
            search=ORDER_SEARCH,
            extra_filter=orders_visible(),
            cache_key="orders",
        )

    def order(info: Any, id: str) -> Any:
        ctx.require("read_orders", "order")
        o = state.orders.get(gid_number(id))
        visible = orders_visible()
        return r.order(o) if o and (visible is None or visible(o)) else None

    def orders_count(info: Any, query: str | None = None, limit: int | None = 10000, **a: Any) -> Any:
        ctx.require("read_orders", "ordersCount")
        visible = orders_visible()
        pred = compile_search(query, ORDER_SEARCH)[0] if query else None
        n = sum(
            1 for o in state.orders.values() if (visible is None or visible(o)) and (pred is None or pred(o))
        )
        return count(n, limit)

    def locations(info: Any, **a: Any) -> Any:
        ctx.require("read_locations", "locations")
        locs = [x for x in state.locations.values() if a.get("includeInactive") or x.is_active]
        return ctx.connection(locs, "Location", a, r.location)

    def location(info: Any, id: str | None = None) -> Any:
        ctx.require("read_locations", "location")
        loc = state.locations.get(gid_number(id)) if id else state.locations.get(min(state.locations))
        return r.location(loc) if loc else None

    def inventory_item(info: Any, id: str) -> Any:
        ctx.require("read_inventory", "inventoryItem")
        v = state.variant_by_item(gid_number(id))
        return r.inventory_item(v) if v else None

    def events(info: Any, **a: Any) -> Any:
        return ctx.connection(state.events, "Event", a, _event_node, search=EVENT_SEARCH)

    def bulk_operation(info: Any, id: str) -> Any:
        op = ctx.shop.bulk.get(id)
        return op.node() if op else None

    def current_bulk_operation(info: Any, type: str = "QUERY") -> Any:
        op = ctx.shop.bulk.latest(type)
        return op.node() if op else None

    def run_query(info: Any, query: str, groupObjects: bool = False) -> Any:
        op, errors = ctx.shop.bulk.run_query(query, ctx.scopes)
        return {"bulkOperation": op.node() if op else None, "userErrors": errors}

    def cancel(info: Any, id: str) -> Any:
        op, errors = ctx.shop.bulk.cancel(id)
        return {"bulkOperation": op.node() if op else None, "userErrors": errors}

    def node(info: Any, id: str) -> Any:
        kind = id.split("/")[3] if id.startswith("gid://shopify/") else ""
        n = gid_number(id)
        if kind == "Product" and n in state.products and state.products[n].deleted_at is None:
            return r.product(state.products[n])
        if kind == "ProductVariant" and n in state.variants:
            return r.variant(state.variants[n])
        if kind == "Order" and n in state.orders:
            return r.order(state.orders[n])
        if kind == "Location" and n in state.locations:
            return r.location(state.locations[n])
        if kind == "AppSubscription":
            return billing.subscription(ctx.shop, n)
        return None

    shop = {
        "__typename": "Shop",
        "id": gid("Shop", state.shop_id),
        "name": state.name,
        "myshopifyDomain": state.shop_domain,
        "ianaTimezone": state.timezone,
        "currencyCode": state.currency,
        "timezoneOffset": lambda info, **a: state.now().astimezone(_zone(state.timezone)).strftime("%z"),
        "email": f"owner@{state.shop_domain}",
        "contactEmail": f"owner@{state.shop_domain}",
    }
    return {
        "shop": shop,
        "currentAppInstallation": {
            "__typename": "AppInstallation",
            "id": gid("AppInstallation", state.shop_id),
            "accessScopes": [{"handle": s, "description": s} for s in sorted(ctx.scopes)],
            "activeSubscriptions": lambda info, **a: billing.active_subscriptions(ctx.shop),
        },
        "products": products,
        "product": product,
        "productVariants": product_variants,
        "productVariant": lambda info, id: (
            r.variant(state.variants[gid_number(id)]) if gid_number(id) in state.variants else None
        ),
        "productsCount": lambda info, query=None, limit=10000, **a: count(
            sum(1 for p in state.live_products() if not query or compile_search(query, PRODUCT_SEARCH)[0](p)),
            limit,
        ),
        "orders": orders,
        "order": order,
        "ordersCount": orders_count,
        "locations": locations,
        "location": location,
        "inventoryItem": inventory_item,
        "events": events,
        "bulkOperation": bulk_operation,
        "currentBulkOperation": current_bulk_operation,
        "node": node,
        "nodes": lambda info, ids: [node(info, i) for i in ids],
        # Mutation root fields live beside the query ones: one root value serves both.
        "bulkOperationRunQuery": run_query,
        "bulkOperationCancel": cancel,
        **discounts.fields(ctx),
        **subscriptions.fields(ctx),
        **billing.fields(ctx),
    }


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _event_node(e: Event) -> dict[str, Any]:
    return {
        "__typename": "BasicEvent",
        "id": gid("BasicEvent", e.id),
        "action": e.action,
        "createdAt": e.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "subjectId": gid("Product", e.subject_id),
        "subjectType": e.subject_type,
        "message": f"Product destroyed: {e.subject_id}",
        "appTitle": None,
        "attributeToApp": False,
        "attributeToUser": True,
        "criticalAlert": False,
        "arguments": [],
        "hasAdditionalContent": False,
        "additionalContent": None,
        "additionalData": None,
        "secretMessage": None,
    }


def _error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extra}}


def _validation_code(message: str) -> str:
    # Shopify's validation errors carry camelCase codes; map graphql-core's messages to the common ones.
    if "Cannot query field" in message:
        return "undefinedField"
    if "is required, but it was not provided" in message:
        return "missingRequiredArguments"
    if "Unknown argument" in message:
        return "argumentNotAccepted"
    if "Variable" in message:
        return "variableMismatch"
    return "GRAPHQL_VALIDATION_FAILED"


@lru_cache(maxsize=256)
def prepare(
    schema: GraphQLSchema, query: str, operation_name: str | None
) -> tuple[Any, dict[str, Any] | None]:
    """Parse and validate: ``(document, None)`` or ``(None, error body)``.

    Cached per document text: a client sends the same few documents page after page, and
    validation against the 3,000-type schema is the costliest step of a small request.
    """
    try:
        document = parse(query)
    except GraphQLError as e:
        loc = e.locations[0] if e.locations else None
        where = f" at [{loc.line}, {loc.column}]" if loc else ""
        return None, {
            "errors": [
                {
                    "message": f"syntax error, {e.message.removeprefix('Syntax Error: ')}{where}",
                    "locations": [{"line": loc.line, "column": loc.column}] if loc else [],
                    "extensions": {"code": "PARSE_ERROR"},
                }
            ]
        }
    errors = validate(schema, document)
    if errors:
        return None, {
            "errors": [{**e.formatted, "extensions": {"code": _validation_code(e.message)}} for e in errors]
        }
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        ops = [o for o in ops if o.name and o.name.value == operation_name]
    if len(ops) != 1:
        return None, {
            "errors": [
                _error(
                    "An operation name is required"
                    if not operation_name
                    else f'No operation named "{operation_name}"',
                    "BAD_REQUEST",
                )
            ]
        }
    return document, None


def execute_request(
    schema: GraphQLSchema,
    shop: SandboxShop,
    scopes: frozenset[str],
    query: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
) -> dict[str, Any]:
    """Answer one GraphQL request the way the Admin API does (the body; the HTTP status is 200)."""
    document, error_body = prepare(schema, query, operation_name)
    if error_body is not None:
        return copy.deepcopy(error_body)
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    op = next(o for o in ops if not operation_name or (o.name and o.name.value == operation_name))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    calc = CostCalculator(schema, op, fragments, variables or {})
    requested = calc.requested()
    bucket = shop.bucket
    if requested > MAX_QUERY_COST:
        return {
            "errors": [
                _error(
                    f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\n"
                    "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                    "cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations "
                    "should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api "
                    "for usage details.\n",
                    "MAX_COST_EXCEEDED",
                    cost=requested,
                    maxCost=MAX_QUERY_COST,
                )
            ],
            "extensions": {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": None,
                    "throttleStatus": bucket.status().as_json(),
                }
            },
        }
    if not bucket.try_take(requested):
        return {
            "errors": [
                _error("Throttled", "THROTTLED", documentation="https://shopify.dev/api/usage/rate-limits")
            ],
            "extensions": {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": None,
                    "throttleStatus": bucket.status().as_json(),
                }
            },
        }
    ctx = RequestContext(shop, scopes)
    with shop.state.lock:
        result = execute(
            schema,
            document,
            root_value=build_root(ctx),
            context_value=ctx,
            variable_values=dict(variables or {}),
            operation_name=operation_name,
            field_resolver=resolve_field,
            type_resolver=resolve_type,
        )
    actual = calc.actual(result.data)
    bucket.refund(requested - actual)
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [_format_error(e) for e in result.errors]
    body["data"] = result.data
    ext: dict[str, Any] = {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": bucket.status().as_json(),
        }
    }
    if ctx.search_warnings:
        ext["search"] = [
            {
                "path": [],
                "query": "",
                "parsed": {},
                "warnings": [
                    {"field": None, "message": w, "code": "invalid_field"} for w in ctx.search_warnings
                ],
            }
        ]
    body["extensions"] = ext
    return body


def _format_error(e: GraphQLError) -> dict[str, Any]:
    out = dict(e.formatted)
    ext = dict(e.extensions or {})
    if "code" not in ext:
        original = e.original_error
        if original is not None and not isinstance(original, GraphQLError):
            # An unexpected failure inside a resolver is an internal error to the client.
            return {
                "message": "Internal error. Looks like something went wrong on our end.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                "path": out.get("path"),
            }
        ext["code"] = "BAD_REQUEST"
    out["extensions"] = ext
    return out
