"""The shop's data in Shopify's wire shapes: GraphQL Admin nodes and REST-style webhook payloads.

Shapes follow the live captures in ``../shared/fixtures/shopify``: money as ``{amount,
currencyCode}`` with decimal strings (``"15.0"``; ``Money`` scalars like a variant's price as
``"19.99"``), ids as gids, timestamps as ``2026-06-22T22:34:00Z``; webhooks in snake_case with
``*_set.shop_money`` and 2-decimal strings, times with the shop's UTC offset, numeric ids.

GraphQL nodes are dicts; a field that takes arguments (a connection, ``quantities(names:)``) is a
callable ``(info, **args)``, resolved by :func:`tower_dev.sandboxes.shopify_store.api.resolve_field`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from graphql import GraphQLError

from tower_dev.sandboxes.shopify_store import images
from tower_dev.sandboxes.shopify_store.state import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    Level,
    LineItem,
    Location,
    Order,
    Product,
    Refund,
    ShopState,
    Variant,
    gid,
    has_visit,
    visit_source,
)

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.api import RequestContext

#: The scope that shows fulfillment orders at merchant-managed locations (every sandbox location).
FULFILLMENT_ORDERS_SCOPE = "read_merchant_managed_fulfillment_orders"
QUANTITY_NAMES = (
    "available",
    "committed",
    "damaged",
    "incoming",
    "on_hand",
    "quality_control",
    "reserved",
    "safety_stock",
)


# -- scalars -------------------------------------------------------------------------------------
def ts(value: datetime | None) -> str | None:
    """A DateTime as the GraphQL Admin API writes it."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def decimal_str(value: Decimal | None) -> str | None:
    """A ``Decimal`` scalar: shortest form with at least one decimal (``"15.0"``, ``"42.5"``)."""
    if value is None:
        return None
    s = format(Decimal(value).normalize(), "f")
    return s if "." in s else s + ".0"


def money_str(value: Decimal | None) -> str | None:
    """A ``Money`` scalar / REST amount: two decimals (``"19.99"``, ``"0.00"``)."""
    return None if value is None else format(Decimal(value).quantize(Decimal("0.01")), "f")


def money_v2(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"__typename": "MoneyV2", "amount": decimal_str(amount), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    m = money_v2(amount, currency)
    return {"__typename": "MoneyBag", "shopMoney": m, "presentmentMoney": dict(m)}


def count(n: int, limit: int | None = None) -> dict[str, Any]:
    if limit is not None and n > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": n, "precision": "EXACT"}


# -- GraphQL nodes -------------------------------------------------------------------------------
class Renderer:
    """Builds GraphQL node dicts for one request against one shop."""

    def __init__(self, state: ShopState, ctx: RequestContext) -> None:
        self.state = state
        self.ctx = ctx
        self.cur = state.currency

    def product(self, p: Product) -> dict[str, Any]:
        variants = sorted(
            (v for v in self.state.variants.values() if v.product_id == p.id), key=lambda v: v.id
        )
        return {
            "__typename": "Product",
            "id": gid("Product", p.id),
            "legacyResourceId": str(p.id),
            "handle": p.handle,
            "title": p.title,
            "status": p.status,
            "productType": p.product_type,
            "vendor": p.vendor,
            "createdAt": ts(p.created_at),
            "updatedAt": ts(p.updated_at),
            "publishedAt": ts(p.created_at),
            "tags": [],
            "isGiftCard": False,
            "tracksInventory": True,
            "hasOnlyDefaultVariant": len(variants) == 1,
            "hasOutOfStockVariants": False,
            "description": lambda info, **a: "",
            "descriptionHtml": "",
            "onlineStoreUrl": None,
            "totalInventory": lambda info, **a: sum(self._available(v) for v in variants),
            "variantsCount": count(len(variants)),
            "featuredMedia": images.media_node(self.state, p, self.state.file_origin()),
            "variants": lambda info, **a: self.ctx.connection(variants, "ProductVariant", a, self.variant),
        }

    def _available(self, v: Variant) -> int:
        return sum(lv.available for (item, _), lv in self.state.levels.items() if item == v.inventory_item_id)

    def variant(self, v: Variant) -> dict[str, Any]:
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", v.id),
            "legacyResourceId": str(v.id),
            "sku": v.sku,
            "title": v.title,
            "displayName": v.title,
            "price": money_str(v.price),
            "compareAtPrice": None,
            "barcode": None,
            "position": 1,
            "taxable": True,
            "inventoryPolicy": "DENY",
            "inventoryQuantity": lambda info, **a: self._available(v),
            "availableForSale": lambda info, **a: self._available(v) > 0,
            "selectedOptions": [{"name": "Title", "value": v.title}],
            "createdAt": ts(self.state.products[v.product_id].created_at),
            "updatedAt": ts(v.updated_at),
            "product": lambda info, **a: self.product(self.state.products[v.product_id]),
            "inventoryItem": lambda info, **a: self.inventory_item(v),
        }

    def inventory_item(self, v: Variant) -> dict[str, Any]:
        levels = sorted(
            (lv for (item, _), lv in self.state.levels.items() if item == v.inventory_item_id),
            key=lambda lv: lv.location_id,
        )
        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", v.inventory_item_id),
            "legacyResourceId": str(v.inventory_item_id),
            "sku": v.sku,
            "tracked": True,
            "requiresShipping": True,
            "unitCost": money_v2(v.unit_cost, self.cur) if v.unit_cost is not None else None,
            "createdAt": ts(self.state.products[v.product_id].created_at),
            "updatedAt": ts(v.updated_at),
            "countryCodeOfOrigin": None,
            "provinceCodeOfOrigin": None,
            "harmonizedSystemCode": None,
            "duplicateSkuCount": 0,
            "locationsCount": count(len(levels)),
            "variant": lambda info, **a: self.variant(v),
            "variants": lambda info, **a: self.ctx.connection([v], "ProductVariant", a, self.variant),
            "inventoryLevels": lambda info, **a: self.ctx.connection(levels, "InventoryLevel", a, self.level),
            "inventoryLevel": lambda info, locationId, **a: self._level_at(v.inventory_item_id, locationId),
        }

    def _level_at(self, item_id: int, location_gid: str) -> dict[str, Any] | None:
        from tower_dev.sandboxes.shopify_store.state import gid_number

        lv = self.state.levels.get((item_id, gid_number(location_gid)))
        return self.level(lv) if lv else None

    def location(self, loc: Location) -> dict[str, Any]:
        levels = sorted(
            (lv for (_, lid), lv in self.state.levels.items() if lid == loc.id),
            key=lambda lv: lv.inventory_item_id,
        )
        return {
            "__typename": "Location",
            "id": gid("Location", loc.id),
            "legacyResourceId": str(loc.id),
            "name": loc.name,
            "isActive": loc.is_active,
            "isPrimary": loc.id == min(self.state.locations),
            "activatable": not loc.is_active,
            "deactivatable": loc.is_active,
            "deletable": False,
            "addressVerified": True,
            "fulfillsOnlineOrders": True,
            "shipsInventory": True,
            "hasActiveInventory": bool(levels),
            "hasUnfulfilledOrders": False,
            "isFulfillmentService": False,
            "deactivatedAt": None,
            "createdAt": ts(loc.updated_at),
            "updatedAt": ts(loc.updated_at),
            "address": {
                "__typename": "LocationAddress",
                "countryCode": loc.country_code,
                "provinceCode": loc.province_code,
                "zip": None,
                "address1": None,
                "city": None,
                "country": loc.country_code,
                "province": loc.province_code,
                "formatted": [],
            },
            "inventoryLevels": lambda info, **a: self.ctx.connection(levels, "InventoryLevel", a, self.level),
            "inventoryLevel": lambda info, inventoryItemId, **a: self._level_at_location(
                loc.id, inventoryItemId
            ),
        }

    def _level_at_location(self, location_id: int, item_gid: str) -> dict[str, Any] | None:
        from tower_dev.sandboxes.shopify_store.state import gid_number

        lv = self.state.levels.get((gid_number(item_gid), location_id))
        return self.level(lv) if lv else None

    def level(self, lv: Level) -> dict[str, Any]:
        level_id = f"gid://shopify/InventoryLevel/{lv.location_id}?inventory_item_id={lv.inventory_item_id}"
        values = {
            "available": lv.available,
            "committed": lv.committed,
            "on_hand": lv.on_hand,
            "incoming": lv.incoming,
        }

        def quantities(info: Any, names: list[str]) -> list[dict[str, Any]]:
            bad = [n for n in names if n not in QUANTITY_NAMES]
            if bad:
                raise GraphQLError(
                    f"The quantity name '{bad[0]}' is not valid.", extensions={"code": "BAD_REQUEST"}
                )
            return [
                {
                    "__typename": "InventoryQuantity",
                    "id": f"{level_id.replace('InventoryLevel', 'InventoryQuantity')}&name={n}",
                    "name": n,
                    "quantity": values.get(n, 0),
                    # Live captures give updatedAt for the quantities that moved, null for the others.
                    "updatedAt": ts(lv.updated_at) if n in ("available", "on_hand") else None,
                }
                for n in names
            ]

        variant = self.state.variant_by_item(lv.inventory_item_id)
        return {
            "__typename": "InventoryLevel",
            "id": level_id,
            "isActive": True,
            "canDeactivate": False,
            "deactivationAlert": None,
            "createdAt": ts(lv.updated_at),
            "updatedAt": ts(lv.updated_at),
            "item": (lambda info, **a: self.inventory_item(variant)) if variant else None,
            "location": lambda info, **a: self.location(self.state.locations[lv.location_id]),
            "quantities": quantities,
        }

    # -- orders ----------------------------------------------------------------------------------
    def order(self, o: Order) -> dict[str, Any]:
        cur = o.currency
        refunded = o.refunded  # merchandise, after discounts
        refunded_total = sum((r.total for r in o.refunds), Decimal(0))
        line_items = sorted(o.line_items, key=lambda li: li.id)
        status = _financial_status(o)
        address = self._address(o)
        return {
            "__typename": "Order",
            "id": gid("Order", o.id),
            "legacyResourceId": str(o.id),
            "name": o.name,
            "number": _order_number(o.name),
            "createdAt": ts(o.created_at),
            "processedAt": ts(o.processed_at),
            "updatedAt": ts(o.updated_at),
            "cancelledAt": ts(o.cancelled_at),
            "cancelReason": "CUSTOMER" if o.cancelled_at else None,
            "closed": False,
            "closedAt": None,
            "confirmed": True,
            "test": False,
            "currencyCode": cur,
            "presentmentCurrencyCode": cur,
            "sourceName": o.source_name,
            "email": o.email,
            "phone": None,
            "note": None,
            "tags": [],
            "discountCodes": [],
            "taxesIncluded": False,
            "taxExempt": False,
            "displayFinancialStatus": status,
            "displayFulfillmentStatus": "UNFULFILLED" if o.cancelled_at else "FULFILLED",
            "subtotalLineItemsQuantity": sum(li.quantity for li in o.line_items),
            "currentSubtotalLineItemsQuantity": sum(
                li.quantity - li.refunded_quantity for li in o.line_items
            ),
            # subtotalPriceSet: line items after discounts, before returns, shipping and taxes;
            # currentSubtotalPriceSet: the same after returns and refunds.
            "subtotalPriceSet": money_bag(o.subtotal - o.discount, cur),
            "currentSubtotalPriceSet": money_bag(o.subtotal - o.discount - refunded, cur),
            "totalDiscountsSet": money_bag(o.discount, cur),
            "currentTotalDiscountsSet": money_bag(o.discount, cur),
            "totalShippingPriceSet": money_bag(o.shipping, cur),
            "currentShippingPriceSet": money_bag(o.shipping, cur),
            "totalTaxSet": money_bag(o.tax, cur),
            "currentTotalTaxSet": money_bag(o.tax, cur),
            "totalPriceSet": money_bag(o.total, cur),
            "currentTotalPriceSet": money_bag(o.total - refunded_total, cur),
            "totalRefundedSet": money_bag(refunded_total, cur),
            "totalReceivedSet": money_bag(o.total, cur),
            "totalRefundedShippingSet": money_bag(sum((r.shipping for r in o.refunds), Decimal(0)), cur),
            "netPaymentSet": money_bag(o.total - refunded_total, cur),
            "totalOutstandingSet": money_bag(Decimal(0), cur),
            "refunds": lambda info, first=None, **a: [self.refund(o, r) for r in o.refunds][: first or None],
            "shippingAddress": address,
            "billingAddress": address,
            "displayAddress": address,
            "customer": self._customer(o),
            "customerJourneySummary": self._journey(o),
            "lineItems": lambda info, **a: self.ctx.connection(
                line_items, "LineItem", a, lambda li: self.line_item(li, o)
            ),
            "fulfillmentOrders": lambda info, **a: self.ctx.connection(
                self._visible_fulfillment_orders(o), "FulfillmentOrder", a, lambda f: self.fulfillment_order(o, f)
            ),
        }

    def _visible_fulfillment_orders(self, o: Order) -> list[FulfillmentOrder]:
        # Shopify filters fulfillment orders by the app's fulfillment-order scopes (no error): the
        # sandbox's locations are merchant-managed, so that scope shows them all and none without it.
        if FULFILLMENT_ORDERS_SCOPE not in self.ctx.scopes:
            return []
        return self.state.fulfillment_orders_of(o)

    def fulfillment_order(self, o: Order, f: FulfillmentOrder) -> dict[str, Any]:
        loc = self.state.locations.get(f.location_id) if f.location_id else None
        return {
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", f.id),
            "status": f.status,
            "requestStatus": "UNSUBMITTED",
            "createdAt": ts(o.created_at),
            "updatedAt": ts(f.updated_at),
            "orderId": gid("Order", o.id),
            "orderName": o.name,
            "orderProcessedAt": ts(o.processed_at),
            "assignedLocation": {
                "__typename": "FulfillmentOrderAssignedLocation",
                "location": (lambda info, **a: self.location(loc)) if loc else None,
                "name": loc.name if loc else "",
                "countryCode": (loc.country_code if loc else None) or "US",
                "province": loc.province_code if loc else None,
                "address1": None,
                "address2": None,
                "city": None,
                "zip": None,
                "phone": None,
            },
            "lineItems": lambda info, **a: self.ctx.connection(
                f.lines, "FulfillmentOrderLineItem", a, lambda ln: self.fulfillment_order_line(o, f, ln)
            ),
        }

    def fulfillment_order_line(self, o: Order, f: FulfillmentOrder, ln: FulfillmentOrderLine) -> dict[str, Any]:
        li = next(x for x in o.line_items if x.id == ln.line_item_id)
        return {
            "__typename": "FulfillmentOrderLineItem",
            "id": gid("FulfillmentOrderLineItem", ln.id),
            "totalQuantity": ln.quantity,
            "remainingQuantity": ln.quantity if f.status == "OPEN" else 0,
            "sku": li.sku,
            "requiresShipping": True,
            "lineItem": lambda info, **a: self.line_item(li, o),
            "warnings": [],
            "financialSummaries": [],
        }

    def line_item(self, li: LineItem, order: Order) -> dict[str, Any]:
        cur = order.currency
        variant = self.state.variants.get(li.variant_id) if li.variant_id else None
        live = variant is not None and self.state.products[variant.product_id].deleted_at is None
        remaining = li.quantity - li.refunded_quantity
        return {
            "__typename": "LineItem",
            "id": gid("LineItem", li.id),
            "sku": li.sku,
            "name": variant.title if variant else li.sku,
            "title": variant.title if variant else li.sku,
            "quantity": li.quantity,
            "currentQuantity": remaining,
            "refundableQuantity": remaining,
            "unfulfilledQuantity": 0,
            "requiresShipping": True,
            "taxable": True,
            "originalUnitPriceSet": money_bag(li.price, cur),
            "originalTotalSet": money_bag(li.price * li.quantity, cur),
            "totalDiscountSet": money_bag(li.discount, cur),
            "discountedTotalSet": lambda info, **a: money_bag(li.price * li.quantity - li.discount, cur),
            # A deleted product's line items keep their SKU but lose the variant and product links.
            "variant": (lambda info, **a: self.variant(variant)) if live and variant else None,
            "product": (lambda info, **a: self.product(self.state.products[variant.product_id]))
            if live and variant
            else None,
        }

    def refund(self, o: Order, r: Refund) -> dict[str, Any]:
        lines = [(next(li for li in o.line_items if li.id == lid), q) for lid, q in r.lines]
        return {
            "__typename": "Refund",
            "id": gid("Refund", r.id),
            "legacyResourceId": str(r.id),
            "createdAt": ts(r.created_at),
            "processedAt": ts(r.created_at),
            "updatedAt": ts(r.created_at),
            "note": None,
            "totalRefundedSet": money_bag(r.total, o.currency),
            "order": lambda info, **a: self.order(o),
            "refundLineItems": lambda info, **a: self.ctx.connection(
                [{"id": li.id, "li": li, "q": q} for li, q in lines],
                "RefundLineItem",
                a,
                lambda x: {
                    "__typename": "RefundLineItem",
                    "id": gid("RefundLineItem", x["id"]),
                    "quantity": x["q"],
                    "restockType": "NO_RESTOCK",
                    "restocked": False,
                    "lineItem": self.line_item(x["li"], o),
                    "subtotalSet": money_bag(x["li"].price * x["q"], o.currency),
                },
            ),
        }

    def _address(self, o: Order) -> dict[str, Any] | None:
        if not o.country_code:
            return None
        return {
            "__typename": "MailingAddress",
            "firstName": o.first_name,
            "lastName": o.last_name,
            "name": " ".join(x for x in (o.first_name, o.last_name) if x) or None,
            "address1": o.address1,
            "address2": None,
            "city": o.city,
            "zip": o.zip,
            "provinceCode": o.province_code,
            "countryCodeV2": o.country_code,
            "countryCode": o.country_code,
            "province": o.province_code,
            "country": o.country_code,
            "company": None,
            "phone": None,
        }

    def _customer(self, o: Order) -> dict[str, Any] | None:
        if not o.customer_id:
            return None
        return {
            "__typename": "Customer",
            "id": gid("Customer", o.customer_id),
            "email": o.email,
            "firstName": o.first_name,
            "lastName": o.last_name,
            "displayName": " ".join(x for x in (o.first_name, o.last_name) if x),
        }

    def _journey(self, o: Order) -> dict[str, Any] | None:
        if not has_visit(o):
            return None
        visit = _visit(o)
        return {
            "__typename": "CustomerJourneySummary",
            "ready": True,
            "customerOrderIndex": None,
            "daysToConversion": 0,
            "firstVisit": visit,
            "lastVisit": visit,
            "momentsCount": count(1),
        }


def _visit(o: Order) -> dict[str, Any]:
    params = _query_params(o.landing_page_url)
    utm = {k: params.get(f"utm_{k}") for k in ("source", "medium", "campaign", "content", "term")}
    return {
        "__typename": "CustomerVisit",
        "id": gid("CustomerVisit", o.id),
        "landingPage": o.landing_page_url,
        "landingPageHtml": None,
        "referrerUrl": o.referrer_url,
        "source": visit_source(o),
        "sourceDescription": None,
        "sourceType": o.journey_source_type,
        "referralCode": None,
        "referralInfoHtml": "",
        "marketingEvent": None,
        "occurredAt": ts(o.created_at - timedelta(minutes=7)),
        "utmParameters": {"__typename": "UTMParameters", **utm} if any(utm.values()) else None,
    }


def _query_params(url: str | None) -> dict[str, str]:
    from tower_dev.sandboxes.shopify_store.state import _landing_params

    return _landing_params(url)


def _order_number(name: str) -> int:
    digits = "".join(c for c in name if c.isdigit())
    return int(digits) if digits else 0


def _financial_status(o: Order) -> str:
    if o.cancelled_at and not o.refunds:
        return "VOIDED"
    refunded = o.refunded
    if refunded <= 0:
        return "PAID"
    return "REFUNDED" if refunded >= o.total else "PARTIALLY_REFUNDED"


# -- webhook payloads (REST-style, snake_case) -----------------------------------------------------
def _local(state: ShopState, value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(state.timezone)).isoformat(timespec="seconds")


def _rest_money(amount: Decimal, cur: str) -> dict[str, Any]:
    m = {"amount": money_str(amount), "currency_code": cur}
    return {"shop_money": m, "presentment_money": dict(m)}


def webhook_order(state: ShopState, o: Order) -> dict[str, Any]:
    """An ``orders/*`` webhook body for one order (the shape of the docs' sample payload)."""
    cur = o.currency
    refunded = o.refunded
    refunded_total = sum((r.total for r in o.refunds), Decimal(0))
    address = None
    if o.country_code:
        address = {
            "first_name": o.first_name,
            "last_name": o.last_name,
            "address1": o.address1,
            "city": o.city,
            "zip": o.zip,
            "province_code": o.province_code,
            "country_code": o.country_code,
            "province": o.province_code,
            "country": o.country_code,
            "address2": None,
            "company": None,
            "phone": None,
            "name": " ".join(x for x in (o.first_name, o.last_name) if x) or None,
        }
    landing = urlsplit(o.landing_page_url) if o.landing_page_url else None
    return {
        "id": o.id,
        "admin_graphql_api_id": gid("Order", o.id),
        "name": o.name,
        "email": o.email,
        "created_at": _local(state, o.created_at),
        "updated_at": _local(state, o.updated_at),
        "processed_at": _local(state, o.processed_at),
        "cancelled_at": _local(state, o.cancelled_at),
        "cancel_reason": "customer" if o.cancelled_at else None,
        "currency": cur,
        "presentment_currency": cur,
        "financial_status": _financial_status(o).lower(),
        "source_name": o.source_name,
        # REST's landing_site is the path and query of the landing page, not a full URL.
        "landing_site": (landing.path + ("?" + landing.query if landing.query else "")) if landing else None,
        "referring_site": o.referrer_url,
        "subtotal_price": money_str(o.subtotal - o.discount),
        "subtotal_price_set": _rest_money(o.subtotal - o.discount, cur),
        "current_subtotal_price": money_str(o.subtotal - o.discount - refunded),
        "current_subtotal_price_set": _rest_money(o.subtotal - o.discount - refunded, cur),
        "total_line_items_price": money_str(o.subtotal),
        "total_line_items_price_set": _rest_money(o.subtotal, cur),
        "total_discounts": money_str(o.discount),
        "total_discounts_set": _rest_money(o.discount, cur),
        "total_shipping_price_set": _rest_money(o.shipping, cur),
        "total_tax": money_str(o.tax),
        "total_tax_set": _rest_money(o.tax, cur),
        "total_price": money_str(o.total),
        "total_price_set": _rest_money(o.total, cur),
        "current_total_price": money_str(o.total - refunded_total),
        "current_total_price_set": _rest_money(o.total - refunded_total, cur),
        "customer": (
            {
                "id": o.customer_id,
                "admin_graphql_api_id": gid("Customer", o.customer_id),
                "email": o.email,
                "first_name": o.first_name,
                "last_name": o.last_name,
            }
            if o.customer_id
            else None
        ),
        "shipping_address": address,
        "billing_address": address,
        "line_items": [
            {
                "id": li.id,
                "admin_graphql_api_id": gid("LineItem", li.id),
                "variant_id": li.variant_id,
                "product_id": li.product_id,
                "sku": li.sku,
                "quantity": li.quantity,
                "current_quantity": li.quantity - li.refunded_quantity,
                "price": money_str(li.price),
                "price_set": _rest_money(li.price, cur),
                "total_discount": money_str(li.discount),
                "total_discount_set": _rest_money(li.discount, cur),
            }
            for li in sorted(o.line_items, key=lambda x: x.id)
        ],
        "refunds": [
            {
                "id": r.id,
                "admin_graphql_api_id": gid("Refund", r.id),
                "order_id": o.id,
                "created_at": _local(state, r.created_at),
                "processed_at": _local(state, r.created_at),
                "refund_line_items": [{"line_item_id": lid, "quantity": q} for lid, q in r.lines],
                "transactions": [
                    {"kind": "refund", "status": "success", "amount": money_str(r.total), "currency": cur}
                ],
            }
            for r in o.refunds
        ],
    }


def webhook_product(state: ShopState, p: Product) -> dict[str, Any]:
    """A ``products/update`` body (``inventory_item_id`` may be null there, as in the sample)."""
    variants = sorted((v for v in state.variants.values() if v.product_id == p.id), key=lambda v: v.id)
    return {
        "id": p.id,
        "admin_graphql_api_id": gid("Product", p.id),
        "title": p.title,
        "handle": p.handle,
        "product_type": p.product_type,
        "vendor": p.vendor,
        "status": p.status.lower(),
        "created_at": _local(state, p.created_at),
        "updated_at": _local(state, p.updated_at),
        "tags": "",
        "variants": [
            {
                "id": v.id,
                "admin_graphql_api_id": gid("ProductVariant", v.id),
                "product_id": p.id,
                "title": v.title,
                "sku": v.sku,
                "price": money_str(v.price),
                "updated_at": _local(state, v.updated_at),
                "inventory_item_id": v.inventory_item_id,
            }
            for v in variants
        ],
    }


def webhook_inventory_level(state: ShopState, lv: Level) -> dict[str, Any]:
    """An ``inventory_levels/update`` body: only ``available`` is sent."""
    return {
        "inventory_item_id": lv.inventory_item_id,
        "location_id": lv.location_id,
        "available": lv.available,
        "updated_at": _local(state, lv.updated_at),
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{lv.location_id}?inventory_item_id={lv.inventory_item_id}",
    }


def webhook_order_edit(state: ShopState, order_id: int, edit: dict[str, Any]) -> dict[str, Any]:
    """An ``orders/edited`` body: the edit, not the order (the docs' sample payload's shape)."""
    committed = _local(state, edit["committed_at"])
    return {
        "order_edit": {
            "id": edit["id"],
            "app_id": None,
            "created_at": committed,
            "committed_at": committed,
            "notify_customer": False,
            "order_id": order_id,
            "staff_note": "",
            "user_id": None,
            "line_items": {
                "additions": [{"id": i, "delta": d} for i, d in edit["additions"]],
                "removals": [{"id": i, "delta": d} for i, d in edit["removals"]],
            },
            "discounts": {"line_item": {"additions": [], "removals": []}},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }


WebhookBody = Callable[[ShopState, dict[str, Any]], dict[str, Any] | None]


def webhook_body(state: ShopState, topic: str, subject: dict[str, Any]) -> dict[str, Any] | None:
    """The payload of a change notification, or None when the subject is gone."""
    if topic == "orders/edited":
        return webhook_order_edit(state, subject["id"], subject["edit"]) if "edit" in subject else None
    if topic.startswith("orders/"):
        o = state.orders.get(subject["id"])
        return webhook_order(state, o) if o else None
    if topic == "products/delete":
        return {"id": subject["id"]}
    if topic.startswith("products/"):
        p = state.products.get(subject["id"])
        return webhook_product(state, p) if p else None
    if topic == "inventory_levels/update":
        lv = state.levels.get((subject["inventory_item_id"], subject["location_id"]))
        return webhook_inventory_level(state, lv) if lv else None
    return None
