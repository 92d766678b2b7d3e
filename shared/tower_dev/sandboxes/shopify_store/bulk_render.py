"""A fast writer of the orders bulk export (the connector's OrdersBulk query) for big worlds.

The sandbox's bulk operations execute any bulk query through graphql-core, which is exact but
takes minutes at a million orders. The benchmark needs a million-order JSONL, so this writes the
same lines for that one query directly from the shop's state; a test checks, on a small world, that
it produces exactly the objects the graphql-core path produces.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tower_dev.sandboxes.shopify_store.bulk import encode_line, shuffle_children
from tower_dev.sandboxes.shopify_store.render import decimal_str, ts
from tower_dev.sandboxes.shopify_store.state import Order, ShopState, gid, has_visit, visit_source
from tower_dev.sandboxes.shopify_store.state import _landing_params as landing_params


def _shop_money(amount: Decimal, cur: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": decimal_str(amount), "currencyCode": cur}}


def _visit(o: Order) -> dict[str, Any]:
    params = landing_params(o.landing_page_url)
    utm = {k: params.get(f"utm_{k}") for k in ("source", "medium", "campaign", "content", "term")}
    return {
        "landingPage": o.landing_page_url,
        "referrerUrl": o.referrer_url,
        "source": visit_source(o),
        "sourceType": o.journey_source_type,
        "utmParameters": utm if any(utm.values()) else None,
    }


def order_objects(state: ShopState, o: Order, *, fulfillment_orders: bool = True) -> Iterator[dict[str, Any]]:
    """The JSONL objects of one order: the order line, one line per line item, then each fulfillment
    order followed by its lines (``fulfillment_orders``: the token's scopes show them)."""
    cur = o.currency
    journey = None
    if has_visit(o):
        visit = _visit(o)
        journey = {"firstVisit": visit, "lastVisit": dict(visit)}
    order_gid = gid("Order", o.id)
    yield {
        "id": order_gid,
        "name": o.name,
        "createdAt": ts(o.created_at),
        "processedAt": ts(o.processed_at),
        "updatedAt": ts(o.updated_at),
        "cancelledAt": ts(o.cancelled_at),
        "currencyCode": cur,
        "sourceName": o.source_name,
        "subtotalPriceSet": _shop_money(o.subtotal - o.discount, cur),
        "totalDiscountsSet": _shop_money(o.discount, cur),
        "totalShippingPriceSet": _shop_money(o.shipping, cur),
        "totalTaxSet": _shop_money(o.tax, cur),
        "totalPriceSet": _shop_money(o.total, cur),
        "currentSubtotalPriceSet": _shop_money(o.subtotal - o.discount - o.refunded, cur),
        "shippingAddress": (
            {"countryCodeV2": o.country_code, "provinceCode": o.province_code, "zip": o.zip}
            if o.country_code
            else None
        ),
        "customer": {"id": gid("Customer", o.customer_id)} if o.customer_id else None,
        "customerJourneySummary": journey,
    }
    for li in sorted(o.line_items, key=lambda x: x.id):
        variant = state.variants.get(li.variant_id) if li.variant_id else None
        live = variant is not None and state.products[variant.product_id].deleted_at is None
        yield {
            "id": gid("LineItem", li.id),
            "sku": li.sku,
            "quantity": li.quantity,
            "currentQuantity": li.quantity - li.refunded_quantity,
            "originalUnitPriceSet": _shop_money(li.price, cur),
            "totalDiscountSet": _shop_money(li.discount, cur),
            "variant": {"id": gid("ProductVariant", variant.id)} if live and variant else None,
            "product": {"id": gid("Product", variant.product_id)} if live and variant else None,
            "__parentId": order_gid,
        }
    if not fulfillment_orders:
        return
    for f in state.fulfillment_orders_of(o):
        fo_gid = gid("FulfillmentOrder", f.id)
        yield {
            "id": fo_gid,
            "status": f.status,
            "updatedAt": ts(f.updated_at),
            "assignedLocation": {"location": {"id": gid("Location", f.location_id)} if f.location_id else None},
            "__parentId": order_gid,
        }
        for ln in f.lines:
            yield {
                "id": gid("FulfillmentOrderLineItem", ln.id),
                "totalQuantity": ln.quantity,
                "lineItem": {"id": gid("LineItem", ln.line_item_id)},
                "__parentId": fo_gid,
            }


def write_orders_jsonl(state: ShopState, out: IO[bytes], *, seed: int = 0, window_orders: int = 2000,
                       where: Callable[[Order], bool] | None = None, fulfillment_orders: bool = True) -> tuple[int, int]:
    """Write the shop's orders (those ``where`` keeps) as the OrdersBulk export, oldest change first,
    children shuffled like the sandbox's (``fulfillment_orders``: the token's scopes show them).

    Returns:
        ``(lines written, orders written)``.
    """
    orders = sorted((o for o in state.orders.values() if where is None or where(o)),
                    key=lambda o: (o.updated_at, o.id))
    n = lines = 0
    batch: list[tuple[bytes, bool]] = []
    for o in orders:
        for i, obj in enumerate(order_objects(state, o, fulfillment_orders=fulfillment_orders)):
            batch.append((encode_line(obj), i == 0))
        n += 1
        if n % window_orders == 0:
            out.write(b"".join(shuffle_children(batch, seed + n)))
            lines += len(batch)
            batch = []
    if batch:
        out.write(b"".join(shuffle_children(batch, seed + n + 1)))
        lines += len(batch)
    return lines, n


def write_file(state: ShopState, path: Path, **kwargs: Any) -> int:
    """:func:`write_orders_jsonl` into a file; returns the number of orders."""
    with path.open("wb") as f:
        return write_orders_jsonl(state, f, **kwargs)[1]


def objects_of(data: bytes) -> list[dict[str, Any]]:
    """The objects of a JSONL export (for comparing two exports)."""
    return [json.loads(line) for line in data.splitlines() if line.strip()]
