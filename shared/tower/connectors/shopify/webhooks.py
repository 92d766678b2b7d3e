"""Shopify webhook deliveries: verify, deduplicate, and MERGE into the same tables as the poller.

A delivery is trusted only if ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the *raw*
body under the app's client secret (compared in constant time); anything else is a 401. Shopify
delivers at least once, so ``X-Shopify-Webhook-Id`` is recorded in ``processed_events`` and a
repeat is acknowledged without work; the MERGEs are idempotent anyway, and a delivery older than
the row already stored (deliveries can arrive out of order) does not overwrite it.

Topics: ``orders/create|updated|cancelled``, ``products/update|delete``,
``inventory_levels/update``, ``inventory_items/update`` (unit cost), ``app/uninstalled`` and the three mandatory privacy topics
(``customers/data_request``, ``customers/redact``, ``shop/redact``), handled for real in
:mod:`tower.connectors.shopify.privacy`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from tower import names
from tower.connectors.shopify import connect, privacy, records
from tower.ports import DocumentStore, NotFound, Secrets, Warehouse

log = logging.getLogger(__name__)

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled", "orders/paid", "orders/edited"})
PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
TOPICS = ORDER_TOPICS | PRIVACY_TOPICS | {"products/create", "products/update", "products/delete",
                                          "inventory_levels/update", "inventory_items/update",
                                          "app/uninstalled"}


# -- signatures ---------------------------------------------------------------------------------------
def webhook_hmac(secret: str, body: bytes) -> str:
    """The base64 HMAC-SHA256 Shopify sends in ``X-Shopify-Hmac-Sha256``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook(secret: str, body: bytes, header: str | None) -> bool:
    """Whether the header is the body's signature under secret (constant-time compare)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(webhook_hmac(secret, body).encode(), header.strip().encode())


def verify_oauth_query(secret: str, params: Mapping[str, str]) -> bool:
    """An OAuth callback's ``hmac``: hex HMAC-SHA256 over the other parameters, sorted, ``k=v&k=v``."""
    given = params.get("hmac")
    if not secret or not given:
        return False
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.encode())


def verify_app_proxy(secret: str, query_string: str) -> bool:
    """An app proxy request's ``signature``: hex HMAC-SHA256 over ``k=v`` pairs sorted, no separator,
    repeated keys joined with ``,``."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    given = next((v for k, v in pairs if k == "signature"), None)
    if not secret or not given:
        return False
    grouped: dict[str, list[str]] = {}
    for k, v in pairs:
        if k != "signature":
            grouped.setdefault(k, []).append(v)
    message = "".join(f"{k}={','.join(v)}" for k, v in sorted(grouped.items()))
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.encode())


# -- the handler --------------------------------------------------------------------------------------
@dataclass
class WebhookResponse:
    """What the HTTP function answers: a status and a JSON body (errors name the problem)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _error(status: int, code: str, message: str) -> WebhookResponse:
    return WebhookResponse(status, {"error": code, "message": message})


_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


def event_path(webhook_id: str) -> str:
    """The ``processed_events`` document of a delivery (ids are made path-safe)."""
    return f"processed_events/shopify-{_SAFE_ID.sub('-', webhook_id)[:200]}"


@dataclass
class WebhookHandler:
    """Handles deliveries for every connected shop."""

    warehouse: Warehouse
    store: DocumentStore
    secrets: Secrets
    app_secret: str = field(repr=False)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

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
        else:
            outcome = self._apply(topic, payload, brand, shop, webhook_id, h)
        self.store.create(path, {"topic": topic, "shop": shop, "processed_at": self.now(),
                                 "status": outcome["status"]})
        log.info(json.dumps({"msg": "shopify webhook", "platform": "shopify", "severity": "INFO", "topic": topic,
                             "brand_id": (brand or {}).get("brand_id"), "status": outcome["status"]}))
        return WebhookResponse(200, {"webhook_id": webhook_id, "topic": topic, **outcome})

    # -- lookups ------------------------------------------------------------------------------------
    def _brand_for(self, shop: str) -> dict[str, Any] | None:
        rows = self.warehouse.rows(
            "SELECT i.brand_id AS brand_id, b.timezone AS timezone, b.currency AS currency "
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
        ctx = self._context(brand)
        b = ctx.brand_id
        if topic in ORDER_TOPICS:
            order, lines = records.order_rows_from_webhook(payload, ctx, shop_domain=shop.lower())
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
            self.warehouse.merge("orders", records.to_table("orders", [order]), ["brand_id", "order_id"])
            if lines:
                self.warehouse.merge("order_line_items", records.to_table("order_line_items", lines),
                                     ["brand_id", "line_item_id"])
            return {"status": "processed", "rows": 1 + len(lines)}
        if topic in ("products/update", "products/create"):
            product, variants = records.product_rows_from_webhook(payload, ctx)
            if not self._newer("products", "product_id", product["product_id"], b, product.get("updated_at")):
                return {"status": "stale"}
            for group in records.group_by_columns([product]).values():
                self.warehouse.merge("products", records.to_table("products", group), ["brand_id", "product_id"])
            if variants:
                self.warehouse.merge("variants", records.to_table("variants", variants), ["brand_id", "variant_id"])
            return {"status": "processed", "rows": 1 + len(variants)}
        if topic == "products/delete":
            product_id = records.gid_of("Product", payload)
            deleted_at = records.parse_time(headers.get("x-shopify-triggered-at")) or self.now()
            self.warehouse.merge("products", records.to_table("products", [
                {"brand_id": b, "product_id": product_id, "is_active": False, "deleted_at": deleted_at}]),
                ["brand_id", "product_id"])
            self.warehouse.execute(
                "UPDATE variants SET is_active = FALSE WHERE brand_id = @brand_id AND product_id = @product_id",
                {"brand_id": b, "product_id": product_id})
            return {"status": "processed", "rows": 1}
        if topic == "inventory_levels/update":
            row = records.inventory_row_from_webhook(payload, ctx)
            self.warehouse.merge("inventory_levels", records.to_table("inventory_levels", [row]),
                                 ["brand_id", "snapshot_date", "inventory_item_id", "location_id"])
            return {"status": "processed", "rows": 1}
        if topic == "inventory_items/update":
            item_id, cost, _ = records.unit_cost_from_webhook(payload)
            self.warehouse.execute(
                "UPDATE variants SET unit_cost_amount = @cost WHERE brand_id = @brand_id "
                "AND inventory_item_id = @item_id", {"cost": cost, "brand_id": b, "item_id": item_id})
            return {"status": "processed"}
        if topic == "app/uninstalled":
            connect.mark_uninstalled(self.warehouse, b, shop.lower(), self.now())
            return {"status": "processed"}
        customer = payload.get("customer") or {}
        customer_hash = ctx.customer_hash(customer.get("id")) if ctx.customer_salt and customer.get("id") else None
        request_id = event_path(webhook_id).rsplit("/", 1)[-1]
        if topic == "customers/redact":
            record = privacy.redact_customer(self.warehouse, self.store, b, customer_hash,
                                             privacy.order_gids(payload.get("orders_to_redact") or []),
                                             request_id=request_id, now=self.now())
            return {"status": "processed", "orders_redacted": record["orders_redacted"]}
        if topic == "customers/data_request":
            record = privacy.data_request(self.warehouse, self.store, b, customer_hash,
                                          privacy.order_gids(payload.get("orders_requested") or []),
                                          request_id=request_id,
                                          data_request_id=(payload.get("data_request") or {}).get("id"),
                                          now=self.now())
            return {"status": "processed", "orders_found": len(record["orders"])}
        record = privacy.redact_shop(self.warehouse, self.store, b, request_id=request_id, now=self.now())
        return {"status": "processed", "orders_redacted": record["orders_redacted"]}


def app_secret(settings: Any, secrets: Secrets) -> str:
    """The app's client secret: the setting if given, else the deployment's secret."""
    if getattr(settings, "shopify_api_secret", ""):
        return str(settings.shopify_api_secret)
    try:
        return secrets.get(names.SECRET_SHOPIFY_API_SECRET)
    except NotFound:
        return ""
