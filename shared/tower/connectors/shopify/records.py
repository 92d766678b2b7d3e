"""Shopify payloads → rows in the warehouse tables' shape (``tower/sql/schema``), and nothing more.

Two payload families map to the same rows: GraphQL Admin nodes (camelCase, ``{amount,
currencyCode}`` money, gids) and REST-style webhook bodies (snake_case, ``*_set.shop_money``,
numeric ids beside ``admin_graphql_api_id``). Privacy is applied here, at the edge: the customer
id leaves only as a salted hash, the address only as country, region and a 3-character ZIP prefix;
names, e-mails and streets are never read into a row.

Order money, in the DDL's terms: ``subtotal_amount`` is the line items before discounts
(Shopify's ``subtotalPriceSet`` is *after* discounts, so the discounts are added back),
``refunded_amount`` the merchandise refunded (``subtotalPriceSet`` − ``currentSubtotalPriceSet``:
refunded tax and shipping are not revenue and stay out), and ``net_revenue_amount`` = subtotal −
discounts − refunds, 0 when the order was cancelled.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypedDict
from urllib.parse import parse_qs, unquote_plus, urlsplit
from zoneinfo import ZoneInfo

import pyarrow as pa

from tower import sql as sqlfiles
from tower.privacy import zip_prefix

CLICK_IDS = ("fbclid", "ttclid", "gclid")
UTM_KEYS = ("source", "medium", "campaign", "content", "term")
#: The landing page's query parameters ``landing_site`` keeps (names compared case-blind, as the staging
#: model's search-click test reads the URL lower-cased): UTM tags and the ad platforms' click ids, among them
#: gbraid / wbraid / msclkid, which only that test reads. Every other parameter (an e-mail address a mailing
#: tool appends, a personal discount code) is dropped.
LANDING_PARAMS = (*(f"utm_{k}" for k in UTM_KEYS), "utm_id", *CLICK_IDS, "gbraid", "wbraid", "msclkid")
#: The order columns that come from the customer's visit (landing page, referrer, UTM, click ids).
JOURNEY_COLUMNS = ("landing_site", "referrer_url", *(f"utm_{k}" for k in UTM_KEYS), *CLICK_IDS,
                   "journey_source", "journey_source_type", "landing_path")


# -- typed rows (exactly the DDL columns) -------------------------------------------------------------
class ProductRow(TypedDict, total=False):
    brand_id: str
    product_id: str
    handle: str | None
    title: str | None
    status: str | None
    product_type: str | None
    vendor: str | None
    image_url: str | None
    image_alt: str | None
    is_active: bool
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None


class VariantRow(TypedDict, total=False):
    brand_id: str
    variant_id: str
    product_id: str | None  # None when neither the node nor the caller names it: the warehouse refuses it
    inventory_item_id: str | None
    sku: str | None
    title: str | None
    price_amount: Decimal | None
    unit_cost_amount: Decimal | None
    currency: str | None
    is_active: bool
    updated_at: datetime | None


class LocationRow(TypedDict):
    brand_id: str
    location_id: str
    location_name: str | None
    country_code: str | None
    province_code: str | None
    is_active: bool
    updated_at: datetime | None


class InventoryLevelRow(TypedDict, total=False):
    brand_id: str
    snapshot_date: date
    inventory_item_id: str
    variant_id: str | None
    location_id: str
    available: int | None
    committed: int | None
    on_hand: int | None
    incoming: int | None
    updated_at: datetime | None


class OrderRow(TypedDict):
    brand_id: str
    order_id: str
    order_name: str | None
    order_date: date | None
    created_at: datetime | None
    processed_at: datetime | None
    updated_at: datetime | None
    cancelled_at: datetime | None
    currency: str
    subtotal_amount: Decimal | None
    discount_amount: Decimal | None
    shipping_amount: Decimal | None
    tax_amount: Decimal | None
    total_amount: Decimal | None
    refunded_amount: Decimal | None
    net_revenue_amount: Decimal | None
    shipping_country_code: str | None
    shipping_region_code: str | None
    shipping_zip_prefix: str | None
    customer_hash: str | None
    sales_channel: str | None
    landing_site: str | None
    referrer_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    fbclid: str | None
    ttclid: str | None
    gclid: str | None
    journey_source: str | None
    journey_source_type: str | None
    landing_path: str | None


class LineItemRow(TypedDict):
    brand_id: str
    order_id: str
    line_item_id: str | None
    # None only when the order has none (no createdAt): the warehouse refuses the row then, as for orders.
    order_date: date | None
    product_id: str | None
    variant_id: str | None
    sku: str | None
    quantity: int
    refunded_quantity: int | None
    price_amount: Decimal | None
    discount_amount: Decimal | None
    currency: str


class FulfillmentOrderRow(TypedDict):
    brand_id: str
    fulfillment_order_id: str
    order_id: str
    location_id: str | None
    status: str | None
    updated_at: datetime | None


class FulfillmentOrderLineRow(TypedDict):
    brand_id: str
    fulfillment_order_line_item_id: str
    fulfillment_order_id: str
    line_item_id: str
    quantity: int


#: Arrow types of the DDL's column types (BigQuery NUMERIC = DECIMAL(38, 9)).
MONEY = pa.decimal128(38, 9)
TIMESTAMP = pa.timestamp("us", tz="UTC")


def table_schema(table: str) -> pa.Schema:
    """The Arrow schema of a warehouse table, read from its DDL file (every column nullable: a payload
    may lack what the warehouse requires, and the warehouse says so)."""
    return sqlfiles.arrow_schema(table, not_null=False)


def to_table(table: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows as an Arrow table typed like the warehouse table (only the columns the rows carry)."""
    schema = table_schema(table)
    if not rows:
        return schema.empty_table()
    cols = [f for f in schema if f.name in rows[0]]
    return pa.Table.from_pylist(list(rows), schema=pa.schema(cols))


# -- the brand a payload belongs to -------------------------------------------------------------------
@dataclass(frozen=True)
class BrandContext:
    """What mapping a brand's payloads needs: its id, store timezone and currency, and its salt."""

    brand_id: str
    timezone: str
    currency: str
    customer_salt: str = field(repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def local_date(self, ts: datetime) -> date:
        return ts.astimezone(self.zone).date()

    def customer_hash(self, customer_id: Any) -> str | None:
        """The salted hash of a customer gid (numeric ids are turned into gids first)."""
        if customer_id in (None, ""):
            return None
        return _hasher(self.customer_salt)(customer_gid(customer_id))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _hasher(salt: str) -> Any:
    """A fast HMAC-SHA256 for one salt, equal to :func:`tower.privacy.customer_hash`."""
    # Copying a keyed HMAC skips deriving the key pads for every id.
    base = hmac.new(salt.encode(), digestmod=hashlib.sha256)

    def digest(value: str) -> str:
        h = base.copy()
        h.update(value.encode())
        return h.hexdigest()

    return digest


def customer_gid(value: Any) -> str:
    """``gid://shopify/Customer/N`` for a gid or a (webhook) numeric id."""
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/Customer/{text}"


def gid_of(kind: str, payload: Mapping[str, Any]) -> str:
    """A webhook object's gid: its ``admin_graphql_api_id``, else built from the numeric id."""
    return str(payload.get("admin_graphql_api_id") or f"gid://shopify/{kind}/{payload['id']}")


# -- scalars ---------------------------------------------------------------------------------------
def parse_time(value: str | None) -> datetime | None:
    """A Shopify timestamp (``...Z`` or with an offset) as an aware UTC datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def parse_decimal(value: Any) -> Decimal | None:
    """A decimal string (``"15.0"``, ``"19.99"``) exactly; never through float."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def shop_money(bag: Mapping[str, Any] | None) -> Decimal | None:
    """The shop-currency amount of a GraphQL ``MoneyBag``."""
    if not bag:
        return None
    return parse_decimal((bag.get("shopMoney") or {}).get("amount"))


def rest_money(bag: Mapping[str, Any] | None, fallback: Any = None) -> Decimal | None:
    """The shop-currency amount of a webhook ``*_set`` (or the plain string field beside it)."""
    if bag:
        return parse_decimal((bag.get("shop_money") or {}).get("amount"))
    return parse_decimal(fallback)


def landing_params(url: str | None) -> dict[str, str]:
    """Query parameters of a landing page (UTM parameters and click ids live there)."""
    if not url:
        return {}
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if v}


def referrer_origin(url: str | None) -> str | None:
    """Only the referring site, ``scheme://host/`` (``https://mail.example/inbox?user=ann@x.de`` →
    ``https://mail.example/``): the path and query of a referring page can name a person, and
    attribution reads only which site sent the visit."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else None


def landing_path(url: str | None) -> str | None:
    """The landing page's path only (``/products/mug``): the host, the query string (click ids, e-mail
    addresses some tools append) and the fragment are dropped."""
    if not url:
        return None
    return urlsplit(url).path or None


def landing_site(url: str | None) -> str | None:
    """The landing page as the warehouse keeps it: its site and :func:`landing_path` (``/`` when it has
    none), then only the :data:`LANDING_PARAMS` of its query string, in their order and spelling; the other
    parameters and the fragment are dropped (``https://s.example/p?email=ann%40x.de&gclid=C1#top`` →
    ``https://s.example/p?gclid=C1``). The site is the shop's own; a relative URL stays relative."""
    if not url:
        return None
    parts = urlsplit(url)
    site = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    kept = "&".join(p for p in parts.query.split("&")
                    if unquote_plus(p.partition("=")[0]).lower() in LANDING_PARAMS)
    return site + (landing_path(url) or "/") + (f"?{kept}" if kept else "")


def region_code(country: str | None, province: str | None) -> str | None:
    """ISO 3166-2 ``US-TX`` from Shopify's country and province codes."""
    return f"{country}-{province}" if country and province else None


def refunded_merchandise(subtotal_after_discounts: Decimal | None, current_subtotal: Decimal | None) -> Decimal:
    """Merchandise refunded: the subtotal after discounts less what remains of it after refunds."""
    if subtotal_after_discounts is None or current_subtotal is None:
        return Decimal(0)
    return max(subtotal_after_discounts - current_subtotal, Decimal(0))


def net_revenue(subtotal: Decimal | None, discount: Decimal | None, refunded: Decimal | None,
                cancelled: bool) -> Decimal:
    """subtotal − discounts − refunds; a cancelled order nets 0."""
    if cancelled:
        return Decimal(0)
    return (subtotal or Decimal(0)) - (discount or Decimal(0)) - (refunded or Decimal(0))


# -- GraphQL nodes ----------------------------------------------------------------------------------
def product_row(node: Mapping[str, Any], ctx: BrandContext) -> ProductRow:
    """A listed product (listing means it exists: deleted ones are never listed).

    Its picture is ``featuredMedia``'s preview image (``featuredImage`` is deprecated): none when the
    product has no media, or while Shopify has not processed it yet (the preview's ``image`` is null).
    """
    image = ((node.get("featuredMedia") or {}).get("preview") or {}).get("image") or {}
    return ProductRow(
        brand_id=ctx.brand_id, product_id=node["id"], handle=node.get("handle"), title=node.get("title"),
        status=node.get("status"), product_type=node.get("productType"), vendor=node.get("vendor"),
        image_url=image.get("url"), image_alt=image.get("altText"),
        is_active=True, created_at=parse_time(node.get("createdAt")), updated_at=parse_time(node.get("updatedAt")),
        deleted_at=None,
    )


def variant_row(node: Mapping[str, Any], ctx: BrandContext, product_id: str | None = None) -> VariantRow:
    """A listed variant, unit cost from its inventory item (``InventoryItem.unitCost``).

    ``product_id`` is for variants read under their product (a nested ``variants`` connection).
    """
    item = node.get("inventoryItem") or {}
    cost = item.get("unitCost") or {}
    return VariantRow(
        brand_id=ctx.brand_id, variant_id=node["id"], product_id=(node.get("product") or {}).get("id") or product_id,
        inventory_item_id=item.get("id"), sku=node.get("sku"), title=node.get("title"),
        price_amount=parse_decimal(node.get("price")), unit_cost_amount=parse_decimal(cost.get("amount")),
        currency=ctx.currency, is_active=True, updated_at=parse_time(node.get("updatedAt")),
    )


def deleted_product_row(event: Mapping[str, Any], ctx: BrandContext) -> ProductRow:
    """A destroy event: the product stays, inactive, with the time it was deleted."""
    return ProductRow(brand_id=ctx.brand_id, product_id=event["subjectId"], is_active=False,
                      deleted_at=parse_time(event.get("createdAt")))


def location_row(node: Mapping[str, Any], ctx: BrandContext) -> LocationRow:
    address = node.get("address") or {}
    return LocationRow(
        brand_id=ctx.brand_id, location_id=node["id"], location_name=node.get("name"),
        country_code=address.get("countryCode"), province_code=address.get("provinceCode"),
        is_active=bool(node.get("isActive")), updated_at=parse_time(node.get("updatedAt")),
    )


def inventory_level_row(node: Mapping[str, Any], location_id: str, snapshot: date,
                        ctx: BrandContext) -> InventoryLevelRow:
    """One level's named quantities as the day's snapshot row."""
    q = {x["name"]: x.get("quantity") for x in node.get("quantities") or []}
    item = node.get("item") or {}
    variants = (item.get("variants") or {}).get("nodes") or []
    return InventoryLevelRow(
        brand_id=ctx.brand_id, snapshot_date=snapshot, inventory_item_id=item["id"],
        variant_id=variants[0]["id"] if variants else None, location_id=location_id,
        available=q.get("available"), committed=q.get("committed"), on_hand=q.get("on_hand"),
        incoming=q.get("incoming"), updated_at=parse_time(node.get("updatedAt")),
    )


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _visit(journey: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # The last visit is the one that converted (Shopify's own replacement for landingPageUrl).
    if not journey:
        return {}
    return journey.get("lastVisit") or journey.get("firstVisit") or {}


def order_row(node: Mapping[str, Any], ctx: BrandContext) -> OrderRow:
    """An order node (OrderFields) as its orders row (a node without ``createdAt`` has no order date)."""
    created = parse_time(node.get("createdAt"))
    discount = shop_money(node.get("totalDiscountsSet")) or Decimal(0)
    after_discounts = shop_money(node.get("subtotalPriceSet"))
    subtotal = None if after_discounts is None else after_discounts + discount
    refunded = refunded_merchandise(after_discounts, shop_money(node.get("currentSubtotalPriceSet")))
    cancelled = parse_time(node.get("cancelledAt"))
    address = node.get("shippingAddress") or {}
    visit = _visit(node.get("customerJourneySummary"))
    landing = visit.get("landingPage")
    params = landing_params(landing)
    utm = visit.get("utmParameters") or {}
    currency = node.get("currencyCode") or ctx.currency
    return OrderRow(
        brand_id=ctx.brand_id, order_id=node["id"], order_name=node.get("name"),
        order_date=ctx.local_date(created) if created else None, created_at=created, processed_at=parse_time(node.get("processedAt")),
        updated_at=parse_time(node.get("updatedAt")), cancelled_at=cancelled, currency=currency,
        subtotal_amount=subtotal, discount_amount=discount,
        shipping_amount=shop_money(node.get("totalShippingPriceSet")), tax_amount=shop_money(node.get("totalTaxSet")),
        total_amount=shop_money(node.get("totalPriceSet")), refunded_amount=refunded,
        net_revenue_amount=net_revenue(subtotal, discount, refunded, cancelled is not None),
        shipping_country_code=address.get("countryCodeV2"),
        shipping_region_code=region_code(address.get("countryCodeV2"), address.get("provinceCode")),
        shipping_zip_prefix=zip_prefix(address.get("zip")),
        customer_hash=ctx.customer_hash((node.get("customer") or {}).get("id")),
        sales_channel=node.get("sourceName"), landing_site=landing_site(landing), referrer_url=referrer_origin(visit.get("referrerUrl")),
        utm_source=_coalesce(utm.get("source"), params.get("utm_source")),
        utm_medium=_coalesce(utm.get("medium"), params.get("utm_medium")),
        utm_campaign=_coalesce(utm.get("campaign"), params.get("utm_campaign")),
        utm_content=_coalesce(utm.get("content"), params.get("utm_content")),
        utm_term=_coalesce(utm.get("term"), params.get("utm_term")),
        fbclid=params.get("fbclid"), ttclid=params.get("ttclid"), gclid=params.get("gclid"),
        journey_source=visit.get("source"), journey_source_type=visit.get("sourceType"),
        landing_path=landing_path(landing),
    )


def line_item_row(node: Mapping[str, Any], order: OrderRow) -> LineItemRow:
    """A line item node (LineItemFields) of an order already mapped."""
    quantity = int(node["quantity"])
    current = node.get("currentQuantity")
    return LineItemRow(
        brand_id=order["brand_id"], order_id=order["order_id"], line_item_id=node.get("id"),
        order_date=order["order_date"], product_id=(node.get("product") or {}).get("id"),
        variant_id=(node.get("variant") or {}).get("id"), sku=node.get("sku"), quantity=quantity,
        # currentQuantity excludes refunded (and removed) units.
        refunded_quantity=quantity - int(current) if current is not None else None,
        price_amount=shop_money(node.get("originalUnitPriceSet")),
        discount_amount=shop_money(node.get("totalDiscountSet")), currency=order["currency"],
    )


def order_rows(node: Mapping[str, Any], ctx: BrandContext) -> tuple[OrderRow, list[LineItemRow]]:
    """An order with its line items (``lineItems`` as ``nodes`` or ``edges``)."""
    row = order_row(node, ctx)
    conn = node.get("lineItems") or {}
    items = conn.get("nodes")
    if items is None:
        items = [e["node"] for e in conn.get("edges") or []]
    return row, [line_item_row(li, row) for li in items]


def _nodes(conn: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    conn = conn or {}
    nodes = conn.get("nodes")
    if nodes is None:
        nodes = [e["node"] for e in conn.get("edges") or []]
    return list(nodes)


def fulfillment_rows(order: Mapping[str, Any], ctx: BrandContext
                     ) -> tuple[list[FulfillmentOrderRow], list[FulfillmentOrderLineRow]]:
    """An order node's fulfillment orders (FulfillmentOrderFields) and their lines."""
    fos: list[FulfillmentOrderRow] = []
    lines: list[FulfillmentOrderLineRow] = []
    for fo in _nodes(order.get("fulfillmentOrders")):
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")
        fos.append(FulfillmentOrderRow(
            brand_id=ctx.brand_id, fulfillment_order_id=fo["id"], order_id=order["id"], location_id=location,
            status=fo.get("status"), updated_at=parse_time(fo.get("updatedAt"))))
        lines.extend(FulfillmentOrderLineRow(
            brand_id=ctx.brand_id, fulfillment_order_line_item_id=li["id"], fulfillment_order_id=fo["id"],
            line_item_id=(li.get("lineItem") or {})["id"], quantity=int(li.get("totalQuantity") or 0),
        ) for li in _nodes(fo.get("lineItems")))
    return fos, lines


# -- webhook bodies (REST shape) ---------------------------------------------------------------------
def order_rows_from_webhook(payload: Mapping[str, Any], ctx: BrandContext,
                            shop_domain: str | None = None) -> tuple[OrderRow, list[LineItemRow]]:
    """An ``orders/create|updated|cancelled`` body as the same rows the poller writes.

    REST's ``landing_site`` is the landing page's path and query, not a full URL: it is made one on
    the shop's domain when given (the poller later stores the visit's own full URL). UTM values and
    click ids are read from its query string.
    """
    created = parse_time(payload["created_at"])
    assert created is not None
    discount = rest_money(payload.get("total_discounts_set"), payload.get("total_discounts")) or Decimal(0)
    subtotal = rest_money(payload.get("total_line_items_price_set"), payload.get("total_line_items_price"))
    refunded = refunded_merchandise(
        rest_money(payload.get("subtotal_price_set"), payload.get("subtotal_price")),
        rest_money(payload.get("current_subtotal_price_set"), payload.get("current_subtotal_price")),
    )
    cancelled = parse_time(payload.get("cancelled_at"))
    address = payload.get("shipping_address") or {}
    landing = payload.get("landing_site")
    if landing and shop_domain and landing.startswith("/"):
        landing = f"https://{shop_domain}{landing}"
    params = landing_params(landing)
    currency = payload.get("currency") or ctx.currency
    customer = payload.get("customer") or {}
    row = OrderRow(
        brand_id=ctx.brand_id, order_id=gid_of("Order", payload), order_name=payload.get("name"),
        order_date=ctx.local_date(created), created_at=created, processed_at=parse_time(payload.get("processed_at")),
        updated_at=parse_time(payload.get("updated_at")), cancelled_at=cancelled, currency=currency,
        subtotal_amount=subtotal, discount_amount=discount,
        shipping_amount=rest_money(payload.get("total_shipping_price_set")),
        tax_amount=rest_money(payload.get("total_tax_set"), payload.get("total_tax")),
        total_amount=rest_money(payload.get("total_price_set"), payload.get("total_price")),
        refunded_amount=refunded, net_revenue_amount=net_revenue(subtotal, discount, refunded, cancelled is not None),
        shipping_country_code=address.get("country_code"),
        shipping_region_code=region_code(address.get("country_code"), address.get("province_code")),
        shipping_zip_prefix=zip_prefix(address.get("zip")),
        customer_hash=ctx.customer_hash(customer.get("admin_graphql_api_id") or customer.get("id")),
        sales_channel=payload.get("source_name"), landing_site=landing_site(landing), referrer_url=referrer_origin(payload.get("referring_site")),
        utm_source=params.get("utm_source"), utm_medium=params.get("utm_medium"),
        utm_campaign=params.get("utm_campaign"), utm_content=params.get("utm_content"),
        utm_term=params.get("utm_term"), fbclid=params.get("fbclid"), ttclid=params.get("ttclid"),
        gclid=params.get("gclid"),
        # REST bodies carry no journey summary: its source waits for the poller (kept on later updates)
        journey_source=None, journey_source_type=None, landing_path=landing_path(landing),
    )
    lines = []
    for li in payload.get("line_items") or []:
        quantity = int(li["quantity"])
        current = li.get("current_quantity")
        lines.append(LineItemRow(
            brand_id=ctx.brand_id, order_id=row["order_id"], line_item_id=gid_of("LineItem", li),
            order_date=row["order_date"],
            product_id=f"gid://shopify/Product/{li['product_id']}" if li.get("product_id") else None,
            variant_id=f"gid://shopify/ProductVariant/{li['variant_id']}" if li.get("variant_id") else None,
            sku=li.get("sku"), quantity=quantity,
            refunded_quantity=quantity - int(current) if current is not None else None,
            price_amount=rest_money(li.get("price_set"), li.get("price")),
            discount_amount=rest_money(li.get("total_discount_set"), li.get("total_discount")), currency=currency,
        ))
    return row, lines


def product_rows_from_webhook(payload: Mapping[str, Any], ctx: BrandContext) -> tuple[ProductRow, list[VariantRow]]:
    """A ``products/update`` body: the product and its variants (no unit cost: that arrives on
    ``inventory_items/update`` as a string ``cost``, and the poller reads ``unitCost``)."""
    product = ProductRow(
        brand_id=ctx.brand_id, product_id=gid_of("Product", payload), handle=payload.get("handle"),
        title=payload.get("title"), status=(payload.get("status") or "").upper() or None,
        product_type=payload.get("product_type"), vendor=payload.get("vendor"), is_active=True,
        updated_at=parse_time(payload.get("updated_at")), deleted_at=None,
    )
    if payload.get("created_at"):
        product["created_at"] = parse_time(payload["created_at"])
    if "image" in payload:  # the REST body's featured image (null when the product has none)
        image = payload.get("image") or {}
        product["image_url"], product["image_alt"] = image.get("src"), image.get("alt")
    variants = [VariantRow(
        brand_id=ctx.brand_id, variant_id=gid_of("ProductVariant", v), product_id=product["product_id"],
        sku=v.get("sku"), title=v.get("title"), price_amount=parse_decimal(v.get("price")), currency=ctx.currency,
        is_active=True, updated_at=parse_time(v.get("updated_at")),
    ) for v in payload.get("variants") or []]
    return product, variants


def unit_cost_from_webhook(payload: Mapping[str, Any]) -> tuple[str, Decimal | None, datetime | None]:
    """An ``inventory_items/update`` body: ``(inventory item gid, unit cost, updated_at)``.

    Webhooks carry the cost as a string ``cost`` (null when none is set).
    """
    return gid_of("InventoryItem", payload), parse_decimal(payload.get("cost")), parse_time(payload.get("updated_at"))


def inventory_row_from_webhook(payload: Mapping[str, Any], ctx: BrandContext) -> InventoryLevelRow:
    """An ``inventory_levels/update`` body: only ``available`` travels, for that day's snapshot."""
    updated = parse_time(payload.get("updated_at"))
    assert updated is not None
    return InventoryLevelRow(
        brand_id=ctx.brand_id, snapshot_date=ctx.local_date(updated),
        inventory_item_id=f"gid://shopify/InventoryItem/{payload['inventory_item_id']}",
        location_id=f"gid://shopify/Location/{payload['location_id']}", available=payload.get("available"),
        updated_at=updated,
    )


def group_by_columns(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    """Rows grouped by the set of columns they carry (a MERGE updates exactly the columns given)."""
    out: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        out.setdefault(tuple(r), []).append(r)
    return out
