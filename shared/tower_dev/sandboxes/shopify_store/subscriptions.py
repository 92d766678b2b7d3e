"""Webhook subscriptions in the sandbox shop: ``webhookSubscriptionCreate`` and ``webhookSubscriptions``.

What Shopify does and this keeps: a subscription is a topic and a URI, listed newest last
(``sortKey: CREATED_AT``) as a connection with ``nodes``/``edges``/``pageInfo``; a topic needs the read
scope of what it carries (``ORDERS_*`` ``read_orders``, ``PRODUCTS_*`` ``read_products``,
``INVENTORY_*`` ``read_inventory``), else a user error; the same topic at the same URI twice is a
user error ("Address for this topic has already been taken"); the URI must be HTTPS (the sandbox
also takes ``http://`` to 127.0.0.1 and localhost, where the product's tests run). The privacy
topics are not in the API's topic enum, so the schema itself refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tower_dev.sandboxes.shopify_store.state import gid, gid_number

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.api import RequestContext

_TOPIC_SCOPES = {"ORDERS_": "read_orders", "PRODUCTS_": "read_products", "INVENTORY_": "read_inventory"}
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Subscription:
    """One webhook subscription."""

    id: int
    topic: str
    uri: str
    created_at: datetime


@dataclass
class Subscriptions:
    """The shop's webhook subscriptions for the app, by number."""

    items: dict[int, Subscription] = field(default_factory=dict)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _node(s: Subscription, api_version: str) -> dict[str, Any]:
    return {"__typename": "WebhookSubscription", "id": gid("WebhookSubscription", s.id), "topic": s.topic,
            "uri": s.uri, "callbackUrl": s.uri, "format": "JSON", "filter": None, "includeFields": [],
            "metafieldNamespaces": [], "metafields": [], "name": None, "legacyResourceId": str(s.id),
            "apiVersion": {"handle": api_version, "displayName": api_version, "supported": True},
            "createdAt": _iso(s.created_at), "updatedAt": _iso(s.created_at),
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": s.uri}}


def _uri_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS:
        return None
    return "Address protocol must be https"


def book_of(ctx: RequestContext) -> Subscriptions:
    """The shop's subscriptions (made on first use, so a shop built elsewhere needs no field for them)."""
    book = ctx.shop.__dict__.get("_webhook_subscriptions")
    if book is None:
        book = ctx.shop.__dict__["_webhook_subscriptions"] = Subscriptions()
    return book


def fields(ctx: RequestContext) -> dict[str, Any]:
    """The root resolvers for webhook subscriptions over one shop."""
    # the one version the sandbox serves (imported here: the server module imports this one's caller)
    from tower_dev.sandboxes.shopify_store.server import API_VERSION as api_version

    state = ctx.state

    def create(info: Any, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        book = book_of(ctx)
        uri = str(webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl") or "")
        needed = next((scope for prefix, scope in _TOPIC_SCOPES.items() if topic.startswith(prefix)), None)
        problem = _uri_problem(uri)
        if needed and needed not in ctx.scopes:
            problem = f"You do not have permission to create webhooks with {topic} topic (needs {needed})"
        elif problem is None and any(s.topic == topic and s.uri == uri for s in book.items.values()):
            problem = "Address for this topic has already been taken"
        if problem:
            return {"webhookSubscription": None,
                    "userErrors": [{"field": ["webhookSubscription", "callbackUrl"], "message": problem}]}
        s = Subscription(state.new_id(), topic, uri, state.now())
        book.items[s.id] = s
        return {"webhookSubscription": _node(s, api_version), "userErrors": []}

    def listing(info: Any, **args: Any) -> dict[str, Any]:
        items = sorted(book_of(ctx).items.values(), key=lambda s: s.id)
        if args.get("topics"):
            items = [s for s in items if s.topic in set(args["topics"])]
        if args.get("uri"):
            items = [s for s in items if s.uri == args["uri"]]
        if args.get("after"):
            after = gid_number(str(args["after"]))
            items = [s for s in items if s.id > after]
        first = int(args.get("first") or 50)
        page, more = items[:first], len(items) > first
        nodes = [_node(s, api_version) for s in page]
        cursors = [str(s.id) for s in page]
        return {"nodes": nodes, "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
                "pageInfo": {"hasNextPage": more, "hasPreviousPage": bool(args.get("after")),
                             "startCursor": cursors[0] if cursors else None,
                             "endCursor": cursors[-1] if cursors else None}}

    return {"webhookSubscriptionCreate": create, "webhookSubscriptions": listing}
