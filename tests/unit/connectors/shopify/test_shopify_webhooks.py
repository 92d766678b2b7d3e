"""Webhook deliveries signed by the sandbox: verified, deduplicated, merged like the poller's rows,
and the privacy topics carried out for real."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tower.connectors.shopify import privacy
from tower.connectors.shopify.sync import NotConnected
from tower.connectors.shopify.webhooks import WebhookHandler, event_path, verify_webhook, webhook_hmac
from tower.ports import DocQuery
from tower.sandbox.shopify import testing
from tower.sandbox.shopify.state import gid
from tower.sandbox.shopify.webhooks import WebhookSender

APP_SECRET = "hush-app-secret"


@pytest.fixture
def handler(warehouse, store, secrets, clock) -> WebhookHandler:
    return WebhookHandler(warehouse=warehouse, store=store, secrets=secrets, app_secret=APP_SECRET, now=clock.now)


@pytest.fixture
def synced(brands, run_sync) -> str:
    """The first brand, fully synced."""
    assert run_sync(brands[0]).status == "ok"
    return brands[0]


@pytest.fixture
def sender(sandbox, synced) -> WebhookSender:
    return WebhookSender(sandbox.shop(synced).state, APP_SECRET).attach()


def deliver(handler: WebhookHandler, delivery: Any) -> Any:
    return handler.handle(delivery.body, delivery.headers)


def test_the_signature_is_checked_in_constant_time_over_the_raw_body():
    body = b'{"id":1}'
    assert verify_webhook("k", body, webhook_hmac("k", body))
    assert not verify_webhook("k", body + b" ", webhook_hmac("k", body))
    assert not verify_webhook("other", body, webhook_hmac("k", body))
    assert not verify_webhook("k", body, None) and not verify_webhook("", body, webhook_hmac("", body))


def test_a_valid_delivery_is_merged_into_the_same_rows_as_the_poller(handler, sender, sandbox, synced, warehouse,
                                                                    clock):
    state = sandbox.shop(synced).state
    clock.advance(60)
    new = state.add_order(quantity=2)
    clock.advance(60)
    target = next(o for o in state.orders.values() if o.cancelled_at is None and o.id != new.id)
    state.refund_line(target.id, target.line_items[0].id, 1)
    clock.advance(60)
    state.cancel_order(next(o for o in state.orders.values() if o.cancelled_at is None and o.id not in (new.id, target.id)).id)
    clock.advance(60)
    product = next(p for p in state.live_products() if p.id not in state.deleted_before_open)
    state.delete_product(product.id)
    clock.advance(60)
    item, location = next(iter(state.levels))
    state.move_stock(item, location, available=-2)
    assert [d.topic for d in sender.outbox] == ["orders/create", "orders/updated", "orders/cancelled",
                                                 "products/delete", "inventory_levels/update"]
    for d in sender.outbox:
        response = deliver(handler, d)
        assert response.status == 200 and response.body["status"] == "processed", response.body
    truth = state.truth()
    diffs = testing.differences(warehouse, truth, synced, ("orders", "order_line_items", "products"))
    assert all(not d for d in diffs.values()), {t: d[:3] for t, d in diffs.items() if d}
    level = warehouse.rows(
        "SELECT available FROM inventory_levels WHERE inventory_item_id = @i AND location_id = @l "
        "AND snapshot_date = @d", {"i": gid("InventoryItem", item), "l": gid("Location", location),
                                   "d": state.local_date(state.now())})
    assert level == [{"available": state.levels[(item, location)].available}]


def test_a_tampered_or_unsigned_delivery_is_refused(handler, sender, sandbox, synced, warehouse):
    state = sandbox.shop(synced).state
    d = sender.build("orders/updated", {"id": 1, "admin_graphql_api_id": "gid://shopify/Order/1"})
    tampered = d.body.replace(b'"id":1', b'"id":2')
    assert handler.handle(tampered, d.headers).status == 401
    unsigned = {k: v for k, v in d.headers.items() if k != "X-Shopify-Hmac-Sha256"}
    r = handler.handle(d.body, unsigned)
    assert r.status == 401 and r.body["error"] == "invalid_hmac"
    forged = WebhookSender(state, "not-the-app-secret").build("orders/updated", {"id": 1})
    assert deliver(handler, forged).status == 401


def test_a_malformed_signed_delivery_is_a_400_naming_the_problem(handler, sender):
    d = sender.build("orders/updated", {"id": 1})
    missing = {k: v for k, v in d.headers.items() if k != "X-Shopify-Webhook-Id"}
    r = handler.handle(d.body, missing)
    assert r.status == 400 and "X-Shopify-Webhook-Id" in r.body["message"]
    body = b"not json"
    r = handler.handle(body, {**d.headers, "X-Shopify-Hmac-Sha256": webhook_hmac(APP_SECRET, body)})
    assert r.status == 400 and r.body["error"] == "invalid_json"


def test_a_replayed_delivery_is_acknowledged_without_being_applied_again(handler, sender, sandbox, synced,
                                                                         warehouse, store, clock):
    state = sandbox.shop(synced).state
    clock.advance(60)
    order = state.add_order()
    first = sender.outbox[-1]
    assert deliver(handler, first).body["status"] == "processed"
    # Someone fixes the row meanwhile; a redelivery of the old event must not undo it.
    warehouse.execute("UPDATE orders SET order_name = 'edited' WHERE order_id = @o", {"o": gid("Order", order.id)})
    again = deliver(handler, first)
    assert again.status == 200 and again.body["status"] == "duplicate"
    assert warehouse.rows("SELECT order_name FROM orders WHERE order_id = @o",
                          {"o": gid("Order", order.id)}) == [{"order_name": "edited"}]
    assert store.get(event_path(first.webhook_id))["topic"] == "orders/create"


def test_an_older_delivery_arriving_late_does_not_overwrite_a_newer_row(handler, sender, sandbox, synced,
                                                                        warehouse, clock):
    state = sandbox.shop(synced).state
    target = next(o for o in state.orders.values() if o.cancelled_at is None)
    clock.advance(60)
    state.update_order_address(target.id, zip_code="10001", province_code="NY")
    older = sender.outbox[-1]
    clock.advance(60)
    state.update_order_address(target.id, zip_code="94105", province_code="CA")
    newer = sender.outbox[-1]
    assert deliver(handler, newer).body["status"] == "processed"
    assert deliver(handler, older).body["status"] == "stale"
    row = warehouse.rows("SELECT shipping_region_code FROM orders WHERE order_id = @o", {"o": gid("Order", target.id)})
    assert row == [{"shipping_region_code": "US-CA"}]


def customer_with_orders(state: Any) -> tuple[int, list[int]]:
    counts: dict[int, list[int]] = {}
    for o in state.orders.values():
        if o.customer_id:
            counts.setdefault(o.customer_id, []).append(o.id)
    customer = max(counts, key=lambda c: len(counts[c]))
    return customer, counts[customer]


def test_customers_redact_erases_that_customers_personal_fields_and_records_it(handler, sender, sandbox, synced,
                                                                              warehouse, store, run_sync, clock):
    state = sandbox.shop(synced).state
    customer, order_ids = customer_with_orders(state)
    d = sender.customers_redact(customer, order_ids[:1])
    r = deliver(handler, d)
    assert r.status == 200 and r.body["orders_redacted"] == len(order_ids)
    rows = warehouse.rows("SELECT customer_hash, shipping_zip_prefix FROM orders WHERE order_id IN UNNEST(@ids)",
                          {"ids": [gid("Order", i) for i in order_ids]})
    assert rows and all(r["customer_hash"] is None and r["shipping_zip_prefix"] is None for r in rows)
    others = warehouse.rows("SELECT COUNT(*) AS n FROM orders WHERE customer_hash IS NOT NULL AND brand_id = @b",
                            {"b": synced})[0]["n"]
    assert others > 0
    record = store.get(f"brands/{synced}/privacy_requests/{event_path(d.webhook_id).rsplit('/', 1)[-1]}")
    assert record["topic"] == "customers/redact" and record["orders_redacted"] == len(order_ids)
    # A later sync re-reads those orders (one changes) but does not write the fields back.
    clock.advance(60)
    state.update_order_address(order_ids[0], zip_code="60601", province_code="IL")
    assert run_sync(synced, full=True).status == "ok"
    rows = warehouse.rows("SELECT customer_hash, shipping_zip_prefix FROM orders WHERE order_id IN UNNEST(@ids)",
                          {"ids": [gid("Order", i) for i in order_ids]})
    assert all(r["customer_hash"] is None and r["shipping_zip_prefix"] is None for r in rows)


def test_customers_data_request_records_what_we_hold(handler, sender, sandbox, synced, store):
    customer, order_ids = customer_with_orders(sandbox.shop(synced).state)
    d = sender.customers_data_request(customer, order_ids, request_id=9999)
    r = deliver(handler, d)
    assert r.body["orders_found"] == len(order_ids)
    docs = store.query(DocQuery(f"brands/{synced}/privacy_requests"))
    record = next(data for _, data in docs if data["topic"] == "customers/data_request")
    assert record["data_request_id"] == "9999"
    assert {o["order_id"] for o in record["orders"]} == {gid("Order", i) for i in order_ids}
    assert "email" not in json.dumps(record, default=str)


def test_shop_redact_erases_every_orders_personal_fields(handler, sender, synced, warehouse, store):
    r = deliver(handler, sender.shop_redact())
    assert r.status == 200 and r.body["orders_redacted"] > 0
    left = warehouse.rows("SELECT COUNT(*) AS n FROM orders WHERE brand_id = @b AND (customer_hash IS NOT NULL "
                          "OR shipping_zip_prefix IS NOT NULL)", {"b": synced})[0]["n"]
    assert left == 0
    assert privacy.load_suppressions(store, synced)[1] is True


def test_app_uninstalled_stops_the_brands_syncs(handler, sender, synced, warehouse, run_sync):
    assert deliver(handler, sender.app_uninstalled()).status == 200
    status = warehouse.rows("SELECT status FROM integrations WHERE brand_id = @b", {"b": synced})[0]["status"]
    assert status == "uninstalled"
    with pytest.raises(NotConnected, match="uninstalled"):
        run_sync(synced)


def test_unit_cost_changes_arrive_on_inventory_items_update(handler, sender, sandbox, synced, warehouse):
    state = sandbox.shop(synced).state
    v = next(x for x in state.live_variants())
    d = sender.build("inventory_items/update", {"id": v.inventory_item_id, "cost": "3.33",
                                                "admin_graphql_api_id": gid("InventoryItem", v.inventory_item_id),
                                                "updated_at": "2026-11-23T10:00:00-05:00"})
    assert deliver(handler, d).body["status"] == "processed"
    row = warehouse.rows("SELECT unit_cost_amount FROM variants WHERE variant_id = @v", {"v": gid("ProductVariant", v.id)})
    assert str(row[0]["unit_cost_amount"]).startswith("3.33")


def test_a_delivery_for_a_shop_we_do_not_know_is_acknowledged_and_ignored(handler, sender):
    d = sender.build("orders/create", {"id": 1})
    headers = {**d.headers, "X-Shopify-Shop-Domain": "stranger.myshopify.com"}
    r = handler.handle(d.body, headers)
    assert r.status == 200 and r.body["status"] == "ignored"
