"""Shopify's webhook and app request formats: the topics we take, the signatures, ids in bodies.

A delivery is trusted only if ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the *raw*
body under the app's client secret, checked by Shopify's ``shopifyapp`` (:func:`verify_webhook`). An OAuth
callback and an app proxy request carry their own hex signatures over their query parameters.
What a delivery does to the warehouse is :mod:`tower.sync.webhooks`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:  # pragma: no cover
    from shopify_app.types import RequestInput

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled", "orders/paid", "orders/edited"})
PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
TOPICS = ORDER_TOPICS | PRIVACY_TOPICS | {"products/create", "products/update", "products/delete",
                                          "inventory_levels/update", "inventory_items/update",
                                          "app/uninstalled", "app_subscriptions/update"}


def webhook_hmac(secret: str, body: bytes) -> str:
    """The base64 HMAC-SHA256 Shopify sends in ``X-Shopify-Hmac-Sha256``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook(secret: str, body: bytes, header: str | None) -> bool:
    """Whether the header is the body's signature under secret, checked by Shopify's ``shopifyapp``
    (``verify_webhook_req``: base64 HMAC-SHA256, constant-time compare).

    An empty secret or header is refused here first: under an empty key anyone could sign. A body that
    is not UTF-8 is refused too: shopifyapp takes the body as text, and Shopify sends JSON.
    """
    if not secret or not header:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    from shopify_app.verify.webhook import verify_webhook_req  # lazy: httpx loads with shopifyapp

    req: RequestInput = {"method": "POST", "headers": {"X-Shopify-Hmac-Sha256": header.strip()}, "url": "",
                         "body": text}
    return bool(verify_webhook_req(req, {"client_id": "", "client_secret": secret, "old_client_secret": None}).ok)


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


def numeric_id(value: Any) -> str | None:
    """A webhook's numeric id (an int, digits, or the number at the end of a gid), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str):
        tail = value.rsplit("/", 1)[-1] if value.startswith("gid://") else value
        return tail if tail.isdigit() else None
    return None
