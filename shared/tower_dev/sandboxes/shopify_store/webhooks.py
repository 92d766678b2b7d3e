"""Webhook deliveries from the sandbox store, signed like Shopify's.

Each delivery is a POST of the JSON body with ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256``
(base64 HMAC-SHA256 of the raw body with the app's client secret), ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``, ``X-Shopify-Event-Id`` and
``X-Shopify-Triggered-At``. Without a target URL, deliveries wait in ``outbox`` (tests post them
through the function's test client).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tower_dev.sandboxes.shopify_store.render import webhook_body
from tower_dev.sandboxes.shopify_store.state import ShopState

DEFAULT_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/edited",
        "products/update",
        "products/delete",
        "inventory_levels/update",
    }
)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value for a body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Delivery:
    topic: str
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["X-Shopify-Webhook-Id"]


@dataclass
class WebhookSender:
    """Turns a shop's changes into signed deliveries."""

    state: ShopState
    secret: str
    api_version: str = "2026-04"
    url: str | None = None
    topics: frozenset[str] = DEFAULT_TOPICS
    outbox: list[Delivery] = field(default_factory=list)
    post: Callable[[str, Mapping[str, str], bytes], int] | None = None

    def attach(self) -> WebhookSender:
        """Deliver every change of the shop from now on."""
        self.state.subscribe(self.on_change)
        return self

    def on_change(self, topic: str, subject: dict[str, Any]) -> None:
        if topic not in self.topics:
            return
        payload = webhook_body(self.state, topic, subject)
        if payload is not None:
            self.send(topic, payload)

    def build(self, topic: str, payload: Mapping[str, Any], *, webhook_id: str | None = None) -> Delivery:
        """A signed delivery of payload under topic."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(self.secret, body),
            "X-Shopify-Shop-Domain": self.state.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": self.state.now().isoformat().replace("+00:00", "Z"),
        }
        return Delivery(topic, headers, body)

    def send(self, topic: str, payload: Mapping[str, Any]) -> Delivery:
        """Build and deliver (POST to ``url``) or queue in ``outbox``."""
        delivery = self.build(topic, payload)
        if self.url:
            self._post(delivery)
        else:
            self.outbox.append(delivery)
        return delivery

    def _post(self, delivery: Delivery) -> int:
        if self.post is not None:
            return self.post(self.url or "", delivery.headers, delivery.body)
        import requests

        return requests.post(
            self.url or "", data=delivery.body, headers=delivery.headers, timeout=10
        ).status_code

    # -- the mandatory privacy topics -------------------------------------------------------------
    def customers_redact(self, customer_id: int, order_ids: list[int]) -> Delivery:
        return self.send(
            "customers/redact",
            {
                "shop_id": self.state.shop_id,
                "shop_domain": self.state.shop_domain,
                "customer": {"id": customer_id, "email": None, "phone": None},
                "orders_to_redact": order_ids,
            },
        )

    def customers_data_request(self, customer_id: int, order_ids: list[int], request_id: int) -> Delivery:
        return self.send(
            "customers/data_request",
            {
                "shop_id": self.state.shop_id,
                "shop_domain": self.state.shop_domain,
                "customer": {"id": customer_id, "email": None, "phone": None},
                "orders_requested": order_ids,
                "data_request": {"id": request_id},
            },
        )

    def shop_redact(self) -> Delivery:
        return self.send(
            "shop/redact", {"shop_id": self.state.shop_id, "shop_domain": self.state.shop_domain}
        )

    def app_uninstalled(self) -> Delivery:
        return self.send(
            "app/uninstalled",
            {
                "id": self.state.shop_id,
                "name": self.state.name,
                "domain": self.state.shop_domain,
                "myshopify_domain": self.state.shop_domain,
            },
        )
