"""Webhook deliveries from the sandbox are signed like Shopify's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.state import ShopState
from tower_dev.sandboxes.shopify_store.webhooks import WebhookSender


def shop_state() -> ShopState:
    world = testing.small_world()
    clock = testing.clock_after(world)
    return ShopState.from_brand_world(world.brands[0], clock=clock.now)


def test_deliveries_carry_shopifys_headers_and_a_signature_over_the_raw_body():
    state = shop_state()
    sender = WebhookSender(state, "app-secret").attach()
    order = state.add_order()
    d = sender.outbox[-1]
    assert d.topic == "orders/create"
    expected = base64.b64encode(hmac.new(b"app-secret", d.body, hashlib.sha256).digest()).decode()
    assert d.headers["X-Shopify-Hmac-Sha256"] == expected
    assert d.headers["X-Shopify-Shop-Domain"] == state.shop_domain
    assert d.headers["X-Shopify-API-Version"] == "2026-04"
    assert d.headers["X-Shopify-Webhook-Id"] and d.headers["X-Shopify-Triggered-At"].endswith("Z")
    body = json.loads(d.body)
    assert body["admin_graphql_api_id"] == f"gid://shopify/Order/{order.id}" and body["id"] == order.id
    assert body["total_price_set"]["shop_money"]["amount"] == f"{order.total:.2f}"


def test_every_change_is_delivered_under_its_topic():
    state = shop_state()
    sender = WebhookSender(state, "s").attach()
    o = next(x for x in state.orders.values() if x.cancelled_at is None)
    state.cancel_order(o.id)
    p = next(x for x in state.live_products() if x.id not in state.deleted_before_open)
    state.delete_product(p.id)
    item, loc = next(iter(state.levels))
    state.move_stock(item, loc, available=1)
    assert [d.topic for d in sender.outbox] == ["orders/cancelled", "products/delete", "inventory_levels/update"]
    assert json.loads(sender.outbox[1].body) == {"id": p.id}
    assert json.loads(sender.outbox[2].body)["available"] == state.levels[(item, loc)].available
