"""Shopify webhook deliveries: verify, deduplicate, and MERGE into the same tables as the poller.

A delivery is trusted only if ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the *raw*
body under the app's client secret (:func:`tower.connectors.shopify.webhooks.verify_webhook`);
anything else is a 401. Shopify
delivers at least once, so ``X-Shopify-Webhook-Id`` is recorded in ``processed_events`` (the id
kept verbatim in the document, and percent-encoded, reversibly, in its document id) and a repeat is
acknowledged without work; the MERGEs are idempotent anyway, and a delivery older than the row
already stored (deliveries can arrive out of order) does not overwrite it.

Topics: ``orders/create|updated|cancelled|paid``, ``orders/edited`` (its body is the *edit*, so the
order is read again by id through the Admin API), ``products/create|update|delete``,
``inventory_levels/update``, ``inventory_items/update`` (unit cost), ``app_subscriptions/update`` (the plan's status, :mod:`tower.billing`), ``app/uninstalled`` (the store
is disconnected and its token deleted from the secret store) and the
three mandatory privacy topics (``customers/data_request``, ``customers/redact``, ``shop/redact``),
handled for real in :mod:`tower.sync.privacy`.

Shopify retries any answer but a 2xx for days, so a signed delivery that cannot be used — a body of
an unexpected shape (``products/delete`` without an id, an ``inventory_levels/update`` without its
quantity), a shop that is not connected — is answered 200, recorded as ``ignored`` with a warning
saying why, and logged at WARNING. Only failures that another attempt may cure (the warehouse, the
store, the Admin API being unavailable) raise, so that the function answers 5xx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from tower import billing, names
from tower.config import Settings
from tower.connectors.retry import FatalError, NeedsReauth, RetriesExhausted
from tower.connectors.shopify import records
from tower.connectors.shopify.webhooks import ORDER_TOPICS, PRIVACY_TOPICS, TOPICS, numeric_id, verify_webhook
from tower.ports import DocumentStore, NotFound, Secrets, Warehouse
from tower.sync import connect, privacy
from tower.sync.run import Ports, RunOptions
from tower.sync.shopify import ShopifySync
from tower.sync.shopify_tokens import app_secret  # noqa: F401 - where pipeline.py reads it
from tower.sync.state import utc_now

log = logging.getLogger(__name__)


# -- the handler --------------------------------------------------------------------------------------
@dataclass
class WebhookResponse:
    """What the HTTP function answers: a status and a JSON body (errors name the problem)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _error(status: int, code: str, message: str) -> WebhookResponse:
    return WebhookResponse(status, {"error": code, "message": message})


#: Longest ``X-Shopify-Webhook-Id`` accepted (Shopify sends UUIDs); encoded, it stays far below
#: Firestore's 1,500-byte document id limit.
MAX_WEBHOOK_ID = 256
# How long a processed_events record is kept: Firestore's TTL policy on expires_at (Terraform,
# infra/modules/firestore) deletes it afterwards. Shopify retries a delivery for hours, so a week
# still deduplicates every retry while the collection stops growing by a document per delivery.
PROCESSED_EVENT_RETENTION = timedelta(days=7)
_EVENT_PREFIX = "shopify-"


def event_doc_id(webhook_id: str) -> str:
    """The ``processed_events`` document id of a delivery: the webhook id percent-encoded.

    A document id cannot hold ``/``; percent-encoding (``%`` itself included) is reversible
    (:func:`webhook_id_of`), so two different ids never share a document — ``dup/x`` is
    ``shopify-dup%2Fx`` and ``dup-x`` stays ``shopify-dup-x``. UUIDs are unchanged by it.
    """
    return _EVENT_PREFIX + quote(webhook_id, safe="")


def webhook_id_of(doc_id: str) -> str:
    """The webhook id a ``processed_events`` document id was made from (inverse of :func:`event_doc_id`)."""
    return unquote(doc_id.removeprefix(_EVENT_PREFIX))


def event_path(webhook_id: str) -> str:
    """The ``processed_events`` document of a delivery."""
    return f"processed_events/{event_doc_id(webhook_id)}"


class Ignored(Exception):
    """A signed delivery that cannot be used: acknowledged (200), recorded as ignored with a warning.

    The message says why, in words of ours: never a value from the body (it may be personal).
    """


#: What mapping a body of an unexpected shape raises (a missing key, a list where an object was
#: expected, an unparsable time or amount, a value Arrow cannot put in the column).
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, AssertionError, ArithmeticError)


@contextmanager
def _mapping(topic: str) -> Iterator[None]:
    """Turn a shape error while mapping a body into :class:`Ignored` (writes stay outside)."""
    try:
        yield
    except Ignored:
        raise
    except _SHAPE_ERRORS as e:
        key = e.args[0] if isinstance(e, KeyError) and e.args else None
        # A missing key is one of the mapper's literal field names; anything else could be data.
        named = isinstance(key, str) and key.isidentifier() and len(key) <= 40
        detail = f"no {key!r}" if named else type(e).__name__
        raise Ignored(f"the {topic} body does not have the documented shape ({detail})") from e


@dataclass
class WebhookHandler:
    """Handles deliveries for every connected shop."""

    warehouse: Warehouse
    store: DocumentStore
    secrets: Secrets
    app_secret: str = field(repr=False)
    now: Callable[[], datetime] = utc_now
    #: The Admin API's version and origin, for the topics whose body names what to read again
    #: (``orders/edited``); without them such deliveries are ignored with a warning.
    settings: Settings | None = None
    #: Forgets the people of a brand whose shop is erased (``shop/redact``): its members, invitations,
    #: keys and their sessions (:func:`tower.identity.teams.forget_brand_people`; identity sits above
    #: sync, so the caller hands it in).
    forget_people: Callable[[str], Mapping[str, int]] | None = None

    def handle(self, body: bytes, headers: Mapping[str, str]) -> WebhookResponse:
        """Verify, deduplicate and apply one delivery.

        Raises:
            PortError: The warehouse or store failed: the function answers 5xx and Shopify retries.
        """
        h = {k.lower(): v for k, v in headers.items()}
        if not verify_webhook(self.app_secret, body, h.get("x-shopify-hmac-sha256")):
            return _error(401, "invalid_hmac", "X-Shopify-Hmac-Sha256 does not match the body")
        topic = h.get("x-shopify-topic", "")
        shop = h.get("x-shopify-shop-domain", "")
        webhook_id = h.get("x-shopify-webhook-id", "")
        missing = [n for n, v in (("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", shop),
                                  ("X-Shopify-Webhook-Id", webhook_id)) if not v]
        if missing:
            return _error(400, "missing_header", f"missing header(s): {', '.join(missing)}")
        if len(webhook_id) > MAX_WEBHOOK_ID:
            return _error(400, "invalid_header", f"X-Shopify-Webhook-Id is longer than {MAX_WEBHOOK_ID} characters")
        try:
            payload = json.loads(body)
        except ValueError:
            return _error(400, "invalid_json", "the body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "invalid_json", "the body is not a JSON object")
        path = event_path(webhook_id)
        if self.store.get(path) is not None:
            return WebhookResponse(200, {"status": "duplicate", "webhook_id": webhook_id})
        brand = self._brand_for(shop)
        if brand is None:
            outcome: dict[str, Any] = {"status": "ignored", "reason": "unknown shop"}
        elif topic not in TOPICS:
            outcome = {"status": "ignored", "reason": f"topic {topic} is not handled"}
        elif brand["status"] == privacy.DISCONNECTED and topic not in PRIVACY_TOPICS:
            outcome = {"status": "ignored", "reason": "the shop was disconnected (shop/redact)"}
        else:
            try:
                outcome = self._apply(topic, payload, brand, shop, webhook_id, h)
            except Ignored as e:
                outcome = {"status": "ignored", "warning": str(e)}
        processed_at = self.now()
        record = {"webhook_id": webhook_id, "topic": topic, "shop": shop, "processed_at": processed_at,
                  "expires_at": processed_at + PROCESSED_EVENT_RETENTION, "status": outcome["status"]}
        if "warning" in outcome:
            record["warning"] = outcome["warning"]
        self.store.create(path, record)
        fields = {"platform": "shopify", "topic": topic, "brand_id": (brand or {}).get("brand_id"),
                  "status": outcome["status"]}
        if "warning" in outcome:
            log.warning("shopify webhook", extra={**fields, "warning": outcome["warning"]})
        else:
            log.info("shopify webhook", extra=fields)
        return WebhookResponse(200, {"webhook_id": webhook_id, "topic": topic, **outcome})

    # -- lookups ------------------------------------------------------------------------------------
    def _brand_for(self, shop: str) -> dict[str, Any] | None:
        rows = self.warehouse.rows(
            "SELECT i.brand_id AS brand_id, i.status AS status, b.timezone AS timezone, b.currency AS currency "
            "FROM integrations AS i JOIN brands AS b ON b.brand_id = i.brand_id "
            "WHERE i.platform = 'shopify' AND i.account_id = @shop ORDER BY i.updated_at DESC LIMIT 1",
            {"shop": shop.lower()})
        return rows[0] if rows else None

    def _context(self, brand: Mapping[str, Any]) -> records.BrandContext:
        try:
            salt = self.secrets.get(names.customer_salt_secret_id(brand["brand_id"]))
        except NotFound:
            salt = ""
        return records.BrandContext(brand["brand_id"], brand["timezone"], brand["currency"], salt)

    def _stored_updated_at(self, table: str, key: str, value: str, brand_id: str) -> datetime | None:
        rows = self.warehouse.rows(
            f"SELECT updated_at FROM {table} WHERE brand_id = @brand_id AND {key} = @value",
            {"brand_id": brand_id, "value": value})
        return rows[0]["updated_at"] if rows else None

    def _newer(self, table: str, key: str, value: str, brand_id: str, updated: datetime | None) -> bool:
        stored = self._stored_updated_at(table, key, value, brand_id)
        return stored is None or updated is None or updated >= stored

    # -- topics -------------------------------------------------------------------------------------
    def _apply(self, topic: str, payload: dict[str, Any], brand: dict[str, Any], shop: str, webhook_id: str,
               headers: Mapping[str, str]) -> dict[str, Any]:
        """Apply one delivery of a handled topic.

        Raises:
            Ignored: The body cannot be used (the reason says why).
        """
        ctx = self._context(brand)
        if topic == "orders/edited" and "order_edit" in payload:
            return self._order_edited(payload["order_edit"], ctx, shop)
        if topic in ORDER_TOPICS:
            return self._order(topic, payload, ctx, shop)
        if topic in ("products/update", "products/create"):
            return self._product(topic, payload, ctx)
        if topic == "products/delete":
            return self._product_deleted(payload, ctx, headers)
        if topic == "inventory_levels/update":
            return self._inventory_level(topic, payload, ctx, headers)
        if topic == "inventory_items/update":
            return self._unit_cost(topic, payload, ctx)
        if topic == "app/uninstalled":
            connect.mark_uninstalled(self.warehouse, self.secrets, ctx.brand_id, shop.lower(), self.now())
            return {"status": "processed"}
        if topic == "app_subscriptions/update":
            try:
                return billing.apply_webhook(self.store, ctx.brand_id, payload, self.now())
            except ValueError as e:
                raise Ignored(f"the {topic} body does not have the documented shape ({e})") from None
        return self._privacy(topic, payload, ctx, event_doc_id(webhook_id))

    def _order(self, topic: str, payload: Mapping[str, Any], ctx: records.BrandContext, shop: str) -> dict[str, Any]:
        b = ctx.brand_id
        with _mapping(topic):
            order, lines = records.order_rows_from_webhook(payload, ctx, shop_domain=shop.lower())
            lines_table = records.to_table("order_line_items", lines) if lines else None
        stored = self._stored_updated_at("orders", "order_id", order["order_id"], b)
        if stored is not None and order["updated_at"] is not None and order["updated_at"] < stored:
            return {"status": "stale"}
        if stored is not None:
            # REST bodies carry the landing page as a path on the shop's domain; the poller
            # stored the visit's full URL (and its UTM values): keep those.
            for col in records.JOURNEY_COLUMNS:
                order.pop(col, None)  # type: ignore[misc]
        keys, whole_shop = privacy.load_suppressions(self.store, b)
        privacy.suppress_rows([order], keys, whole_shop)  # type: ignore[list-item]
        with _mapping(topic):
            order_table = records.to_table("orders", [order])
        self.warehouse.merge("orders", order_table, ["brand_id", "order_id"])
        if lines_table is not None:
            self.warehouse.merge("order_line_items", lines_table, ["brand_id", "line_item_id"])
        return {"status": "processed", "rows": 1 + len(lines)}

    def _order_edited(self, edit: Any, ctx: records.BrandContext, shop: str) -> dict[str, Any]:
        """``orders/edited`` sends ``{"order_edit": {"order_id", "line_items": {"additions",
        "removals"}, ...}}`` — what changed, not the order — so the order is read again by id."""
        number = numeric_id(edit.get("order_id")) if isinstance(edit, Mapping) else None
        if number is None:
            raise Ignored("the orders/edited body has no order_edit.order_id")
        if self.settings is None:
            raise Ignored("orders/edited names the order but no Admin API is configured to read it "
                          "(the next sync reads it)")
        try:
            sync = ShopifySync(Ports(self.settings, self.warehouse, self.secrets, self.store), ctx.brand_id,
                               RunOptions(now=self.now))
            if sync.connect() != shop.lower():
                raise Ignored("the brand's connected store is not the shop that sent orders/edited")
            rows = sync.refresh_order(f"gid://shopify/Order/{number}", ctx)
        except connect.NotConnected as e:
            raise Ignored(f"the order could not be read again: {e}") from e
        except NeedsReauth as e:
            raise Ignored("the order could not be read again: the shop's token was rejected "
                          "(the brand must reconnect)") from e
        except RetriesExhausted:
            raise  # the Admin API is unavailable for now: a 5xx makes Shopify deliver again later
        except FatalError as e:
            raise Ignored(f"the order could not be read again: Shopify refused the read ({e.code})") from e
        if rows == 0:
            raise Ignored("the edited order is no longer visible to the app")
        return {"status": "processed", "rows": rows, "refetched": True}

    def _product(self, topic: str, payload: Mapping[str, Any], ctx: records.BrandContext) -> dict[str, Any]:
        b = ctx.brand_id
        with _mapping(topic):
            product, variants = records.product_rows_from_webhook(payload, ctx)
            products = [records.to_table("products", g) for g in records.group_by_columns([product]).values()]
            variants_table = records.to_table("variants", variants) if variants else None
        if not self._newer("products", "product_id", product["product_id"], b, product.get("updated_at")):
            return {"status": "stale"}
        for table in products:
            self.warehouse.merge("products", table, ["brand_id", "product_id"])
        if variants_table is not None:
            self.warehouse.merge("variants", variants_table, ["brand_id", "variant_id"])
        return {"status": "processed", "rows": 1 + len(variants)}

    def _product_deleted(self, payload: Mapping[str, Any], ctx: records.BrandContext,
                         headers: Mapping[str, str]) -> dict[str, Any]:
        number = numeric_id(payload.get("id")) or numeric_id(payload.get("admin_graphql_api_id"))
        if number is None:
            raise Ignored("the products/delete body has no product id")
        product_id = f"gid://shopify/Product/{number}"
        with _mapping("products/delete"):
            deleted_at = records.parse_time(headers.get("x-shopify-triggered-at")) or self.now()
        b = ctx.brand_id
        self.warehouse.merge("products", records.to_table("products", [
            {"brand_id": b, "product_id": product_id, "is_active": False, "deleted_at": deleted_at}]),
            ["brand_id", "product_id"])
        self.warehouse.execute(
            "UPDATE variants SET is_active = FALSE WHERE brand_id = @brand_id AND product_id = @product_id",
            {"brand_id": b, "product_id": product_id})
        return {"status": "processed", "rows": 1}

    def _inventory_level(self, topic: str, payload: Mapping[str, Any], ctx: records.BrandContext,
                         headers: Mapping[str, str]) -> dict[str, Any]:
        # Shopify's own samples of this topic vary by version: the full level, ``available: null``
        # (2023-07, 2024-01) and an empty object (2024-07 to 2026-04). Only a level with its ids and
        # an integer quantity says something; the daily snapshot of the next sync covers the rest.
        item, location = numeric_id(payload.get("inventory_item_id")), numeric_id(payload.get("location_id"))
        available = payload.get("available")
        missing = [name for name, ok in (("inventory_item_id", item), ("location_id", location),
                                         ("available", isinstance(available, int) and not isinstance(available, bool)))
                   if not ok]
        if missing:
            raise Ignored(f"the {topic} body has no usable {', '.join(missing)}")
        with _mapping(topic):
            body = {**payload, "inventory_item_id": item, "location_id": location}
            if not body.get("updated_at"):
                body["updated_at"] = headers.get("x-shopify-triggered-at")
            row = records.inventory_row_from_webhook(body, ctx)
            table = records.to_table("inventory_levels", [row])
        self.warehouse.merge("inventory_levels", table,
                             ["brand_id", "snapshot_date", "inventory_item_id", "location_id"])
        return {"status": "processed", "rows": 1}

    def _unit_cost(self, topic: str, payload: Mapping[str, Any], ctx: records.BrandContext) -> dict[str, Any]:
        number = numeric_id(payload.get("id")) or numeric_id(payload.get("admin_graphql_api_id"))
        if number is None:
            raise Ignored(f"the {topic} body has no inventory item id")
        with _mapping(topic):
            _, cost, _ = records.unit_cost_from_webhook({**payload, "id": number, "admin_graphql_api_id": None})
        self.warehouse.execute(
            "UPDATE variants SET unit_cost_amount = @cost WHERE brand_id = @brand_id "
            "AND inventory_item_id = @item_id",
            {"cost": cost, "brand_id": ctx.brand_id, "item_id": f"gid://shopify/InventoryItem/{number}"})
        return {"status": "processed"}

    def _privacy(self, topic: str, payload: Mapping[str, Any], ctx: records.BrandContext,
                 request_id: str) -> dict[str, Any]:
        b = ctx.brand_id
        if topic == "shop/redact":
            record = privacy.redact_shop(self.warehouse, self.store, self.secrets, b, request_id=request_id,
                                         now=self.now())
            people = dict(self.forget_people(b)) if self.forget_people is not None else {}
            if people:
                self.store.merge(f"brands/{b}/privacy_requests/{request_id}", {"people_forgotten": people})
            return {"status": "processed", "orders_redacted": record["orders_redacted"],
                    "integrations_disconnected": len(record["integrations_disconnected"]),
                    "members_forgotten": people.get("members", 0)}
        with _mapping(topic):
            customer = payload.get("customer") or {}
            customer_id = numeric_id(customer.get("id"))
            customer_hash = ctx.customer_hash(customer_id) if ctx.customer_salt and customer_id else None
            listed = payload.get("orders_to_redact" if topic == "customers/redact" else "orders_requested") or []
            order_ids = privacy.order_gids(n for n in map(numeric_id, listed) if n)
            data_request_id = (payload.get("data_request") or {}).get("id")
        request = privacy.CustomerRequest(b, customer_hash, order_ids, request_id, self.now(), data_request_id)
        if topic == "customers/redact":
            record = privacy.redact_customer(self.warehouse, self.store, request)
            return {"status": "processed", "orders_redacted": record["orders_redacted"]}
        record = privacy.data_request(self.warehouse, self.store, request)
        return {"status": "processed", "orders_found": len(record["orders"])}
