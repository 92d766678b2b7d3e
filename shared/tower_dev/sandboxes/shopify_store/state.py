"""What one sandbox shop holds: the world's catalog, stock and orders as Shopify keeps them.

A :class:`ShopState` is built from one brand of the synthetic world (its truth tables in the
warehouse's DDL shape plus the raw facts only Shopify holds: customer ids, full ZIPs, landing URLs).
Tests change it the way a live store changes (new, updated, refunded and cancelled orders, a
deleted product, stock moves) and read back :meth:`ShopState.truth` — the tables the warehouse must
equal after a sync. The GraphQL and webhook shapes are rendered from it in ``render.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pyarrow as pa

from tower.privacy import customer_hash, zip_prefix
from tower_dev.sandboxes.shopify_store import images

TWO_PLACES = Decimal("0.01")


def gid(kind: str, n: int) -> str:
    return f"gid://shopify/{kind}/{n}"


def gid_number(value: str | int) -> int:
    """The numeric id of a gid (``gid://shopify/Order/12`` → 12; ``12`` → 12)."""
    if isinstance(value, int):
        return value
    return int(str(value).rsplit("/", 1)[-1].split("?", 1)[0])


@dataclass
class Product:
    id: int
    handle: str
    title: str
    status: str
    product_type: str
    vendor: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


@dataclass
class Variant:
    id: int
    product_id: int
    inventory_item_id: int
    sku: str
    title: str
    price: Decimal
    unit_cost: Decimal | None
    updated_at: datetime
    is_active: bool = True


@dataclass
class Location:
    id: int
    name: str
    country_code: str | None
    province_code: str | None
    is_active: bool
    updated_at: datetime


@dataclass
class Level:
    inventory_item_id: int
    location_id: int
    available: int
    committed: int
    on_hand: int
    incoming: int
    updated_at: datetime


@dataclass
class LineItem:
    id: int
    product_id: int | None
    variant_id: int | None
    sku: str | None
    quantity: int
    refunded_quantity: int
    price: Decimal
    discount: Decimal


@dataclass
class Refund:
    """One refund: ``amount`` is merchandise (after the lines' discount share); tax and shipping apart."""

    id: int
    created_at: datetime
    amount: Decimal
    lines: list[tuple[int, int]] = field(default_factory=list)  # (line item id, quantity)
    tax: Decimal = Decimal(0)
    shipping: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """What the customer got back (Shopify's ``totalRefundedSet``)."""
        return self.amount + self.tax + self.shipping


@dataclass
class FulfillmentOrderLine:
    """The units of one order line a fulfillment order holds (``FulfillmentOrderLineItem``)."""

    id: int
    line_item_id: int
    quantity: int


@dataclass
class FulfillmentOrder:
    """Units of an order the store routed to one location (Shopify creates them with the order).

    ``status``: OPEN (waiting), CLOSED (fulfilled: its units shipped from ``location_id``),
    CANCELLED. Fulfilling from elsewhere means moving it first, which reassigns the location.
    """

    id: int
    location_id: int | None
    status: str
    updated_at: datetime
    lines: list[FulfillmentOrderLine] = field(default_factory=list)


@dataclass
class Order:
    id: int
    name: str
    created_at: datetime
    processed_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    currency: str
    subtotal: Decimal  # sum of line prices × quantities, before discounts
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal
    source_name: str | None
    customer_id: int | None
    email: str | None
    first_name: str | None
    last_name: str | None
    address1: str | None
    city: str | None
    zip: str | None
    province_code: str | None
    country_code: str | None
    landing_page_url: str | None
    referrer_url: str | None
    line_items: list[LineItem] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    #: Where the store routed the order (its shipping region's location); its fulfillment order's.
    location_id: int | None = None
    fulfilled: bool = True
    #: Fulfillment orders as a test rearranged them (moved, split); None: the one the store made.
    fulfillment_orders: list[FulfillmentOrder] | None = None
    #: customerJourneySummary's source and sourceType as the world planted them (None: read off the URLs).
    journey_source: str | None = None
    journey_source_type: str | None = None

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))


@dataclass(frozen=True)
class Event:
    """A destroy event as ``QueryRoot.events`` lists it."""

    id: int
    action: str
    subject_type: str
    subject_id: int
    created_at: datetime


Listener = Callable[[str, dict[str, Any]], None]


class ShopState:
    """One shop's data, thread-safe, with a version that moves on every change."""

    def __init__(
        self,
        *,
        brand_id: str,
        shop_domain: str,
        name: str,
        timezone: str,
        currency: str,
        customer_salt: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.brand_id = brand_id
        self.shop_domain = shop_domain
        self.name = name
        self.timezone = timezone
        self.currency = currency
        self.customer_salt = customer_salt
        self.clock = clock
        self.shop_id = 1000 + abs(hash(shop_domain)) % 10_000_000
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.locations: dict[int, Location] = {}
        self.levels: dict[tuple[int, int], Level] = {}
        self.orders: dict[int, Order] = {}
        self.events: list[Event] = []
        self.version = 0
        self.lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._next_id = 9_000_000_000_000
        self.deleted_before_open: set[int] = set()
        self._item_index: tuple[int, dict[int, Variant]] = (-1, {})
        #: (country code, ISO 3166-2 region code) → the location that ships that region's orders.
        self.routing: dict[tuple[str, str], int] = {}
        #: The origin its product images are served from (the sandbox's, once it listens: :mod:`.images`).
        self.file_origin: Callable[[], str] = lambda: ""

    # -- ids, time, change notification -----------------------------------------------------------
    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def now(self) -> datetime:
        """The shop's clock, truncated to whole seconds as Shopify's timestamps are."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def local_date(self, ts: datetime) -> date:
        return ts.astimezone(ZoneInfo(self.timezone)).date()

    def subscribe(self, listener: Listener) -> None:
        """Call listener(topic, {"id": ...}) after every change (webhook deliveries hang here)."""
        self._listeners.append(listener)

    def _changed(self, topic: str, subject: dict[str, Any]) -> None:
        self.version += 1
        for listener in list(self._listeners):
            listener(topic, subject)

    # -- building from the world --------------------------------------------------------------------
    @classmethod
    def from_brand_world(cls, bw: Any, *, clock: Callable[[], datetime] | None = None) -> ShopState:
        """The shop of one world brand (its truth tables and raw facts)."""
        brand = bw.brand
        state = cls(
            brand_id=brand["brand_id"],
            shop_domain=brand.get("shop_domain") or f"{brand['brand_id']}.myshopify.com",
            name=brand["brand_name"],
            timezone=brand["timezone"],
            currency=brand["currency"],
            customer_salt=bw.customer_salt,
            clock=clock or (lambda: datetime.now(UTC)),
        )
        state.load_tables(bw.tables, bw.raw)
        return state

    def load_tables(self, tables: Mapping[str, pa.Table], raw: Mapping[str, pa.Table]) -> None:
        """Fill the shop from DDL-shaped truth tables and the raw order facts."""
        for r in tables["products"].to_pylist():
            deleted_at = None
            if r.get("deleted_at") or not r["is_active"]:
                deleted_at = _utc(r.get("deleted_at") or r["updated_at"])
            self.products[gid_number(r["product_id"])] = Product(
                id=gid_number(r["product_id"]),
                handle=r["handle"],
                title=r["title"],
                status=r["status"],
                product_type=r.get("product_type") or "",
                vendor=r.get("vendor") or "",
                created_at=_utc(r["created_at"]),
                updated_at=_utc(r["updated_at"]),
                deleted_at=deleted_at,
            )
        for r in tables["variants"].to_pylist():
            self.variants[gid_number(r["variant_id"])] = Variant(
                id=gid_number(r["variant_id"]),
                product_id=gid_number(r["product_id"]),
                inventory_item_id=gid_number(r["inventory_item_id"]),
                sku=r["sku"],
                title=r["title"],
                price=Decimal(r["price_amount"]),
                unit_cost=_dec(r.get("unit_cost_amount")),
                updated_at=_utc(r["updated_at"]),
                is_active=bool(r["is_active"]),
            )
        for r in tables["locations"].to_pylist():
            self.locations[gid_number(r["location_id"])] = Location(
                id=gid_number(r["location_id"]),
                name=r["location_name"],
                country_code=r.get("country_code"),
                province_code=r.get("province_code"),
                is_active=bool(r["is_active"]),
                updated_at=_utc(r["updated_at"]),
            )
        # Shopify routes each order to a location when it is placed; the world ships each region's
        # orders from the location serving it (its location_regions), so the store does the same.
        if "location_regions" in tables:
            self.routing = {
                (r["country_code"], r["region_code"]): gid_number(r["location_id"])
                for r in tables["location_regions"].to_pylist()
            }
        gone_items = {
            v.inventory_item_id
            for v in self.variants.values()
            if self.products[v.product_id].deleted_at is not None
        }
        levels = tables["inventory_levels"]
        if levels.num_rows:
            last_day = max(levels.column("snapshot_date").to_pylist())
            for r in levels.to_pylist():
                if r["snapshot_date"] != last_day:
                    continue
                key = (gid_number(r["inventory_item_id"]), gid_number(r["location_id"]))
                if key[0] in gone_items:
                    continue  # a deleted product's stock leaves Shopify with it
                self.levels[key] = Level(
                    key[0],
                    key[1],
                    int(r["available"] or 0),
                    int(r["committed"] or 0),
                    int(r["on_hand"] or 0),
                    int(r["incoming"] or 0),
                    _utc(r["updated_at"]),
                )
        raw_orders = {gid_number(r["order_id"]): r for r in raw["orders"].to_pylist()}
        items_by_order: dict[int, list[LineItem]] = {}
        for r in tables["order_line_items"].to_pylist():
            items_by_order.setdefault(gid_number(r["order_id"]), []).append(
                LineItem(
                    id=gid_number(r["line_item_id"]),
                    product_id=gid_number(r["product_id"]) if r.get("product_id") else None,
                    variant_id=gid_number(r["variant_id"]) if r.get("variant_id") else None,
                    sku=r.get("sku"),
                    quantity=int(r["quantity"]),
                    refunded_quantity=int(r.get("refunded_quantity") or 0),
                    price=Decimal(r["price_amount"]),
                    discount=Decimal(r.get("discount_amount") or 0),
                )
            )
        refunds_by_order: dict[int, dict[int, Refund]] = {}
        if "refunds" in raw:
            for r in raw["refunds"].to_pylist():
                oid, rid = gid_number(r["order_id"]), gid_number(r["refund_id"])
                ref = refunds_by_order.setdefault(oid, {}).get(rid)
                if ref is None:
                    ref = refunds_by_order[oid][rid] = Refund(rid, _utc(r["created_at"]), Decimal(0))
                ref.amount += Decimal(r["amount"])
                ref.tax += Decimal(r.get("tax_amount") or 0)
                ref.shipping += Decimal(r.get("shipping_amount") or 0)
                if r.get("line_item_id"):
                    ref.lines.append((gid_number(r["line_item_id"]), int(r.get("quantity") or 0)))
        for r in tables["orders"].to_pylist():
            oid = gid_number(r["order_id"])
            facts = raw_orders.get(oid, {})
            self.orders[oid] = Order(
                id=oid,
                name=r["order_name"],
                created_at=_utc(r["created_at"]),
                processed_at=_utc(r.get("processed_at") or r["created_at"]),
                updated_at=_utc(r["updated_at"]),
                cancelled_at=_utc(r["cancelled_at"]) if r.get("cancelled_at") else None,
                currency=r["currency"],
                subtotal=Decimal(r["subtotal_amount"]),
                discount=Decimal(r.get("discount_amount") or 0),
                shipping=Decimal(r.get("shipping_amount") or 0),
                tax=Decimal(r.get("tax_amount") or 0),
                total=Decimal(r["total_amount"]),
                source_name=r.get("sales_channel"),
                customer_id=gid_number(facts["customer_id"]) if facts.get("customer_id") else None,
                email=facts.get("email"),
                first_name=facts.get("first_name"),
                last_name=facts.get("last_name"),
                address1=facts.get("address1"),
                city=facts.get("city"),
                zip=facts.get("zip"),
                province_code=facts.get("province_code"),
                country_code=facts.get("country_code"),
                landing_page_url=facts.get("landing_page_url"),
                referrer_url=facts.get("referrer_url"),
                journey_source=r.get("journey_source"),
                journey_source_type=r.get("journey_source_type"),
                line_items=items_by_order.get(oid, []),
                refunds=sorted(refunds_by_order.get(oid, {}).values(), key=lambda x: (x.created_at, x.id)),
                location_id=self.route(facts.get("country_code"), facts.get("province_code")),
            )
        self._next_id = max([self._next_id, *self._all_ids()]) + 1
        # Products deleted before the sandbox opened: Shopify keeps only their destroy events.
        self.deleted_before_open = {p.id for p in self.products.values() if p.deleted_at is not None}
        for pid in sorted(self.deleted_before_open):
            self.events.append(Event(self.new_id(), "destroy", "PRODUCT", pid, self.products[pid].deleted_at))
        self.version += 1

    def _all_ids(self) -> Iterable[int]:
        yield from self.products
        yield from self.variants
        yield from (v.inventory_item_id for v in self.variants.values())
        yield from self.locations
        for o in self.orders.values():
            yield o.id
            yield from (li.id for li in o.line_items)
            yield from (r.id for r in o.refunds)
        yield from (e.id for e in self.events)

    # -- lookups ------------------------------------------------------------------------------------
    def variant_by_item(self, inventory_item_id: int) -> Variant | None:
        if self._item_index[0] != self.version:
            self._item_index = (self.version, {v.inventory_item_id: v for v in self.variants.values()})
        return self._item_index[1].get(inventory_item_id)

    def primary_location(self) -> int | None:
        """The shop's primary location (its first active one): where unrouted orders go."""
        active = [loc.id for loc in self.locations.values() if loc.is_active]
        return min(active) if active else None

    def route(self, country_code: str | None, province_code: str | None) -> int | None:
        """The location an order shipping to this address is assigned to."""
        region = f"{country_code}-{province_code}" if country_code and province_code else ""
        return self.routing.get((country_code or "", region)) or self.primary_location()

    def fulfillment_orders_of(self, o: Order) -> list[FulfillmentOrder]:
        """The order's fulfillment orders: as rearranged, or the one the store made with the order
        (sharing the order's number, its lines the line items' numbers: ids are unique per type)."""
        if o.fulfillment_orders is not None:
            return o.fulfillment_orders
        status = "CANCELLED" if o.cancelled_at else ("CLOSED" if o.fulfilled else "OPEN")
        lines = [FulfillmentOrderLine(li.id, li.id, li.quantity) for li in sorted(o.line_items, key=lambda x: x.id)]
        return [FulfillmentOrder(o.id, o.location_id, status, o.updated_at, lines)]

    def live_products(self) -> list[Product]:
        return [p for p in self.products.values() if p.deleted_at is None]

    def live_variants(self) -> list[Variant]:
        return [v for v in self.variants.values() if self.products[v.product_id].deleted_at is None]

    # -- changes a live store goes through ----------------------------------------------------------
    def add_order(self, *, like: int | None = None, quantity: int = 1, at: datetime | None = None) -> Order:
        """A new order shaped like an existing one (same customer facts and journey), one line."""
        with self.lock:
            template = self.orders[like] if like else next(iter(self.orders.values()))
            variant = next(v for v in self.live_variants() if v.is_active)
            ts = at or self.now()
            price = variant.price
            line = LineItem(
                self.new_id(), variant.product_id, variant.id, variant.sku, quantity, 0, price, Decimal(0)
            )
            subtotal = (price * quantity).quantize(TWO_PLACES)
            order = replace(
                template,
                id=self.new_id(),
                name=f"#{self.new_id() % 1_000_000}",
                created_at=ts,
                processed_at=ts,
                updated_at=ts,
                cancelled_at=None,
                subtotal=subtotal,
                discount=Decimal("0.00"),
                tax=Decimal("0.00"),
                total=(subtotal + template.shipping).quantize(TWO_PLACES),
                line_items=[line],
                refunds=[],
                fulfilled=False,
                fulfillment_orders=None,
            )
            self.orders[order.id] = order
            self._changed("orders/create", {"id": order.id})
            return order

    def update_order_address(self, order_id: int, *, zip_code: str, province_code: str) -> Order:
        """The customer corrected the shipping address (ZIP and state change)."""
        with self.lock:
            o = self.orders[order_id]
            o.zip, o.province_code, o.updated_at = zip_code, province_code, self.now()
            self._changed("orders/updated", {"id": o.id})
            return o

    def edit_order(self, order_id: int, *, quantity: int = 1) -> LineItem:
        """The merchant edits an order (orderEditBegin → orderEditAddVariant → orderEditCommit): one
        line of a live variant is added and the totals grow by its price; Shopify then sends
        ``orders/edited`` (the edit alone) and ``orders/updated`` (the order)."""
        with self.lock:
            o = self.orders[order_id]
            variant = next(v for v in self.live_variants() if v.is_active)
            line = LineItem(self.new_id(), variant.product_id, variant.id, variant.sku, quantity, 0, variant.price,
                            Decimal(0))
            amount = (variant.price * quantity).quantize(TWO_PLACES)
            o.line_items.append(line)
            if o.fulfillment_orders:
                # An edit's new units join the order's first fulfillment order.
                o.fulfillment_orders[0].lines.append(FulfillmentOrderLine(self.new_id(), line.id, quantity))
            o.subtotal += amount
            o.total += amount
            o.updated_at = self.now()
            edit = {"id": self.new_id(), "committed_at": o.updated_at, "additions": [(line.id, quantity)],
                    "removals": []}
            self._changed("orders/edited", {"id": o.id, "edit": edit})
            self._changed("orders/updated", {"id": o.id})
            return line

    def move_fulfillment(self, order_id: int, location_id: int, line_item_ids: Iterable[int] | None = None) -> Order:
        """``fulfillmentOrderMove``: the order's fulfillment order (or only some of its lines, which
        then form a new fulfillment order) is reassigned to another location. Shopify stamps the
        order as updated, so an incremental sync reads it again."""
        with self.lock:
            o = self.orders[order_id]
            now = self.now()
            fos = [FulfillmentOrder(f.id, f.location_id, f.status, f.updated_at, list(f.lines))
                   for f in self.fulfillment_orders_of(o)]
            moving = None if line_item_ids is None else set(line_item_ids)
            if moving is None:
                for f in fos:
                    f.location_id, f.updated_at = location_id, now
            else:
                taken = [ln for f in fos for ln in f.lines if ln.line_item_id in moving]
                for f in fos:
                    f.lines = [ln for ln in f.lines if ln.line_item_id not in moving]
                    f.updated_at = now
                moved = [FulfillmentOrderLine(self.new_id(), ln.line_item_id, ln.quantity) for ln in taken]
                fos.append(FulfillmentOrder(self.new_id(), location_id, fos[0].status, now, moved))
            o.fulfillment_orders = [f for f in fos if f.lines]
            o.updated_at = now
            self._changed("orders/updated", {"id": o.id})
            return o

    def refund_line(self, order_id: int, line_item_id: int, quantity: int) -> Refund:
        """Refund ``quantity`` units of one line: their price less their share of the line discount
        (whole cents, rounded down, as the world computes it), plus the tax on that."""
        with self.lock:
            o = self.orders[order_id]
            li = next(x for x in o.line_items if x.id == line_item_id)
            if quantity < 1 or li.refunded_quantity + quantity > li.quantity:
                raise ValueError("refund quantity exceeds what is left on the line")
            disc_cents = int(li.discount * 100)
            amount = li.price * quantity - Decimal(disc_cents * quantity // li.quantity) / 100
            base = o.subtotal - o.discount + o.shipping
            rate = (o.tax / base) if base else Decimal(0)
            tax = (amount * rate).quantize(TWO_PLACES)
            now = self.now()
            refund = Refund(self.new_id(), now, amount, [(li.id, quantity)], tax=tax)
            li.refunded_quantity += quantity
            o.refunds.append(refund)
            o.updated_at = now
            self._changed("orders/updated", {"id": o.id})
            return refund

    def cancel_order(self, order_id: int) -> Order:
        """Cancel an order; cancelling refunds everything left on it (merchandise, tax, shipping)."""
        with self.lock:
            o = self.orders[order_id]
            now = self.now()
            lines, amount = [], Decimal(0)
            for li in o.line_items:
                left = li.quantity - li.refunded_quantity
                if left > 0:
                    disc_cents = int(li.discount * 100)
                    amount += li.price * left - Decimal(disc_cents * left // li.quantity) / 100
                    lines.append((li.id, left))
                    li.refunded_quantity = li.quantity
            if lines:
                refunded_tax = sum((r.tax for r in o.refunds), Decimal(0))
                refunded_ship = sum((r.shipping for r in o.refunds), Decimal(0))
                o.refunds.append(
                    Refund(
                        self.new_id(),
                        now,
                        amount,
                        lines,
                        tax=o.tax - refunded_tax,
                        shipping=o.shipping - refunded_ship,
                    )
                )
            o.cancelled_at = o.updated_at = now
            self._changed("orders/cancelled", {"id": o.id})
            return o

    def update_variant(
        self, variant_id: int, *, price: Decimal | None = None, unit_cost: Decimal | None = None
    ) -> Variant:
        with self.lock:
            v = self.variants[variant_id]
            now = self.now()
            if price is not None:
                v.price = price
            if unit_cost is not None:
                v.unit_cost = unit_cost
            v.updated_at = now
            self.products[v.product_id].updated_at = now
            self._changed("products/update", {"id": v.product_id})
            return v

    def delete_product(self, product_id: int) -> Product:
        """Delete a product: it leaves every listing; a destroy event records when."""
        with self.lock:
            p = self.products[product_id]
            now = self.now()
            p.deleted_at = now
            for v in self.variants.values():
                if v.product_id == product_id:
                    v.is_active = False
                    for key in [k for k in self.levels if k[0] == v.inventory_item_id]:
                        del self.levels[key]
            self.events.append(Event(self.new_id(), "destroy", "PRODUCT", product_id, now))
            self._changed("products/delete", {"id": product_id})
            return p

    def move_stock(
        self,
        inventory_item_id: int,
        location_id: int,
        *,
        available: int = 0,
        on_hand: int = 0,
        committed: int = 0,
        incoming: int = 0,
    ) -> Level:
        """Adjust named quantities of one level by deltas."""
        with self.lock:
            lv = self.levels[(inventory_item_id, location_id)]
            lv.available += available
            lv.on_hand += on_hand
            lv.committed += committed
            lv.incoming += incoming
            lv.updated_at = self.now()
            self._changed(
                "inventory_levels/update",
                {"inventory_item_id": inventory_item_id, "location_id": location_id},
            )
            return lv

    # -- the truth, in the warehouse's shape --------------------------------------------------------
    def order_row(self, o: Order) -> dict[str, Any]:
        """One orders row as the warehouse must hold it (no names, e-mails or streets)."""
        params = _landing_params(o.landing_page_url)
        cancelled = o.cancelled_at is not None
        net = Decimal(0) if cancelled else o.subtotal - o.discount - o.refunded
        return {
            "brand_id": self.brand_id,
            "order_id": gid("Order", o.id),
            "order_name": o.name,
            "order_date": self.local_date(o.created_at),
            "created_at": o.created_at,
            "processed_at": o.processed_at,
            "updated_at": o.updated_at,
            "cancelled_at": o.cancelled_at,
            "currency": o.currency,
            "subtotal_amount": o.subtotal,
            "discount_amount": o.discount,
            "shipping_amount": o.shipping,
            "tax_amount": o.tax,
            "total_amount": o.total,
            "refunded_amount": o.refunded,
            "net_revenue_amount": net,
            "shipping_country_code": o.country_code,
            "shipping_region_code": f"{o.country_code}-{o.province_code}"
            if o.country_code and o.province_code
            else None,
            "shipping_zip_prefix": zip_prefix(o.zip),
            "customer_hash": customer_hash(self.customer_salt, gid("Customer", o.customer_id))
            if o.customer_id
            else None,
            "sales_channel": o.source_name,
            "landing_site": _kept_landing(o.landing_page_url),
            "referrer_url": _origin(o.referrer_url),
            "utm_source": params.get("utm_source"),
            "utm_medium": params.get("utm_medium"),
            "utm_campaign": params.get("utm_campaign"),
            "utm_content": params.get("utm_content"),
            "utm_term": params.get("utm_term"),
            "fbclid": params.get("fbclid"),
            "ttclid": params.get("ttclid"),
            "gclid": params.get("gclid"),
            "journey_source": visit_source(o) if has_visit(o) else None,
            "journey_source_type": o.journey_source_type if has_visit(o) else None,
            "landing_path": (urlsplit(o.landing_page_url).path or None) if o.landing_page_url else None,
        }

    def truth(self, today: date | None = None, *, observable: bool = True) -> dict[str, list[dict[str, Any]]]:
        """Rows per table the warehouse must equal after syncing this shop (inventory: today's).

        ``observable`` applies what Shopify lets an app see of products deleted before it first
        looked: a destroy event (id and time) and nothing else — no handle, title or variants, and
        their orders' line items lose the variant and product links (the SKU stays). Without it,
        the rows are the world's full truth.
        """
        with self.lock:
            today = today or self.local_date(self.now())
            hidden = self.deleted_before_open if observable else set()
            products = [
                {
                    "brand_id": self.brand_id,
                    "product_id": gid("Product", p.id),
                    "handle": p.handle,
                    "title": p.title,
                    "status": p.status,
                    "product_type": p.product_type,
                    "vendor": p.vendor,
                    **self._image_truth(p),
                    "is_active": p.deleted_at is None,
                    "created_at": p.created_at,
                    "updated_at": p.updated_at,
                    "deleted_at": p.deleted_at,
                }
                if p.id not in hidden
                else {
                    "brand_id": self.brand_id,
                    "product_id": gid("Product", p.id),
                    "handle": None,
                    "title": None,
                    "status": None,
                    "product_type": None,
                    "vendor": None,
                    "image_url": None,
                    "image_alt": None,
                    "is_active": False,
                    "created_at": None,
                    "updated_at": None,
                    "deleted_at": p.deleted_at,
                }
                for p in self.products.values()
            ]
            variants = [
                {
                    "brand_id": self.brand_id,
                    "variant_id": gid("ProductVariant", v.id),
                    "product_id": gid("Product", v.product_id),
                    "inventory_item_id": gid("InventoryItem", v.inventory_item_id),
                    "sku": v.sku,
                    "title": v.title,
                    "price_amount": v.price,
                    "unit_cost_amount": v.unit_cost,
                    "currency": self.currency,
                    "is_active": v.is_active,
                    "updated_at": v.updated_at,
                }
                for v in self.variants.values()
                if v.product_id not in hidden
            ]
            locations = [
                {
                    "brand_id": self.brand_id,
                    "location_id": gid("Location", loc.id),
                    "location_name": loc.name,
                    "country_code": loc.country_code,
                    "province_code": loc.province_code,
                    "is_active": loc.is_active,
                    "updated_at": loc.updated_at,
                }
                for loc in self.locations.values()
            ]
            levels = []
            for lv in self.levels.values():
                v = self.variant_by_item(lv.inventory_item_id)
                levels.append(
                    {
                        "brand_id": self.brand_id,
                        "snapshot_date": today,
                        "inventory_item_id": gid("InventoryItem", lv.inventory_item_id),
                        "variant_id": gid("ProductVariant", v.id) if v else None,
                        "location_id": gid("Location", lv.location_id),
                        "available": lv.available,
                        "committed": lv.committed,
                        "on_hand": lv.on_hand,
                        "incoming": lv.incoming,
                        "updated_at": lv.updated_at,
                    }
                )
            orders = [self.order_row(o) for o in self.orders.values()]
            lines = []
            for o in self.orders.values():
                for li in o.line_items:
                    unlinked = li.product_id in hidden
                    lines.append(
                        {
                            "brand_id": self.brand_id,
                            "order_id": gid("Order", o.id),
                            "line_item_id": gid("LineItem", li.id),
                            "order_date": self.local_date(o.created_at),
                            "product_id": gid("Product", li.product_id)
                            if li.product_id and not unlinked
                            else None,
                            "variant_id": gid("ProductVariant", li.variant_id)
                            if li.variant_id and not unlinked
                            else None,
                            "sku": li.sku,
                            "quantity": li.quantity,
                            "refunded_quantity": li.refunded_quantity,
                            "price_amount": li.price,
                            "discount_amount": li.discount,
                            "currency": o.currency,
                        }
                    )
            fulfillment_orders, fulfillment_lines = self._fulfillment_truth()
            return {
                "products": products,
                "variants": variants,
                "locations": locations,
                "inventory_levels": levels,
                "orders": orders,
                "order_line_items": lines,
                "fulfillment_orders": fulfillment_orders,
                "fulfillment_order_line_items": fulfillment_lines,
            }

    def _image_truth(self, p: Product) -> dict[str, Any]:
        """The product's picture as a sync stores it: its featured image's URL on the serving origin."""
        media = images.media_node(self, p, self.file_origin())
        if media is None:
            return {"image_url": None, "image_alt": None}
        image = media["preview"]["image"]
        return {"image_url": image["url"](None), "image_alt": image["altText"]}

    def _fulfillment_truth(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The ``fulfillment_orders`` and ``fulfillment_order_line_items`` rows of every order."""
        fos, lines = [], []
        for o in self.orders.values():
            for f in self.fulfillment_orders_of(o):
                fos.append({
                    "brand_id": self.brand_id,
                    "fulfillment_order_id": gid("FulfillmentOrder", f.id),
                    "order_id": gid("Order", o.id),
                    "location_id": gid("Location", f.location_id) if f.location_id else None,
                    "status": f.status,
                    "updated_at": f.updated_at,
                })
                lines.extend({
                    "brand_id": self.brand_id,
                    "fulfillment_order_line_item_id": gid("FulfillmentOrderLineItem", ln.id),
                    "fulfillment_order_id": gid("FulfillmentOrder", f.id),
                    "line_item_id": gid("LineItem", ln.line_item_id),
                    "quantity": ln.quantity,
                } for ln in f.lines)
        return fos, lines


def _origin(url: str | None) -> str | None:
    """The referring site as the warehouse keeps it (``scheme://host/``)."""
    parts = urlsplit(url) if url else None
    return f"{parts.scheme}://{parts.netloc}/" if parts and parts.scheme and parts.netloc else None


#: A landing page's query parameter the warehouse keeps (UTM tags, click ids), read case-blind.
_AD_PARAMETER = re.compile(r"^(utm_(source|medium|campaign|content|term|id)|fbclid|ttclid|gclid|gbraid|wbraid|msclkid)(=|$)",
                           re.IGNORECASE)


def _kept_landing(url: str | None) -> str | None:
    """The landing page as the warehouse keeps it: no fragment, and of its query only the ad parameters."""
    if not url:
        return None
    page, _, query = url.split("#", 1)[0].partition("?")
    kept = "&".join(p for p in query.split("&") if _AD_PARAMETER.match(p))
    return page + (f"?{kept}" if kept else "")


def has_visit(o: Order) -> bool:
    """Whether Shopify knows a visit for the order (its customerJourneySummary is not null)."""
    return bool(o.landing_page_url or o.referrer_url)


def referrer_source(url: str | None) -> str:
    """The referrer's site name (``https://www.google.com/`` → google); direct without one."""
    if not url:
        return "direct"
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.").split(".")[0] or "direct"


def visit_source(o: Order) -> str:
    """The visit's ``source``: the world's, else the landing page's utm_source, else the referrer's site."""
    return o.journey_source or _landing_params(o.landing_page_url).get("utm_source") or referrer_source(o.referrer_url)


def _landing_params(url: str | None) -> dict[str, str]:
    if not url:
        return {}
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if v}


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def days_ago(state: ShopState, days: int) -> datetime:
    """A time ``days`` before the shop's now (for read_all_orders checks)."""
    return state.now() - timedelta(days=days)
