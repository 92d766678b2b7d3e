"""Webhook deliveries signed by the sandbox: verified, deduplicated, merged like the poller's rows,
and the privacy topics carried out for real."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tower import names
from tower.connectors.shopify.webhooks import verify_webhook, webhook_hmac
from tower.ports import DocQuery
from tower.sync import privacy
from tower.sync.connect import NotConnected
from tower.sync.webhooks import WebhookHandler, event_doc_id, event_path, webhook_id_of
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.state import gid
from tower_dev.sandboxes.shopify_store.webhooks import WebhookSender

APP_SECRET = "hush-app-secret"


@pytest.fixture
def handler(warehouse, store, secrets, clock) -> WebhookHandler:
    return WebhookHandler(warehouse=warehouse, store=store, secrets=secrets, app_secret=APP_SECRET, now=clock.now)


@pytest.fixture
def api_handler(warehouse, store, secrets, clock, settings) -> WebhookHandler:
    """A handler that can read the Admin API (the sandbox), as the deployed function's can."""
    return WebhookHandler(warehouse=warehouse, store=store, secrets=secrets, app_secret=APP_SECRET, now=clock.now,
                          settings=settings)


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
                                                                    clock, run_sync):
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
    # A REST body carries no customerJourneySummary: a new order's journey source waits for the poller.
    new_id = gid("Order", new.id)
    assert warehouse.rows("SELECT journey_source, journey_source_type FROM orders WHERE order_id = @o",
                          {"o": new_id}) == [{"journey_source": None, "journey_source_type": None}]
    for r in truth["orders"]:
        if r["order_id"] == new_id:
            r["journey_source"] = r["journey_source_type"] = None
    diffs = testing.differences(warehouse, truth, synced, ("orders", "order_line_items", "products"))
    assert all(not d for d in diffs.values()), {t: d[:3] for t, d in diffs.items() if d}
    level = warehouse.rows(
        "SELECT available FROM inventory_levels WHERE inventory_item_id = @i AND location_id = @l "
        "AND snapshot_date = @d", {"i": gid("InventoryItem", item), "l": gid("Location", location),
                                   "d": state.local_date(state.now())})
    assert level == [{"available": state.levels[(item, location)].available}]
    # the next poll reads the order's journey summary, and a later update's body keeps it
    assert run_sync(synced).status == "ok"
    assert not testing.differences(warehouse, state.truth(), synced, ("orders",))["orders"]


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
    """The customer with the most orders, among those who arrived through an ad click."""
    counts: dict[int, list[int]] = {}
    clicked = set()
    for o in state.orders.values():
        if o.customer_id:
            counts.setdefault(o.customer_id, []).append(o.id)
            if o.landing_page_url and any(f"{k}=" in o.landing_page_url for k in ("fbclid", "ttclid", "gclid")):
                clicked.add(o.customer_id)
    customer = max(clicked, key=lambda c: len(counts[c]))
    return customer, counts[customer]


PERSONAL = ", ".join(privacy.PERSONAL_ORDER_FIELDS)


def held(warehouse: Any, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The personal columns of the orders matching where."""
    return warehouse.rows(f"SELECT order_id, {PERSONAL} FROM orders WHERE {where} ORDER BY order_id", params)


def test_the_personal_order_columns_are_the_hash_the_zip_and_the_visit():
    assert set(privacy.PERSONAL_ORDER_FIELDS) == {"customer_hash", "shipping_zip_prefix", "landing_site",
                                                  "referrer_url", "fbclid", "ttclid", "gclid"}


def test_customers_redact_erases_that_customers_personal_fields_and_records_it(handler, sender, sandbox, synced,
                                                                              warehouse, store, run_sync, clock):
    state = sandbox.shop(synced).state
    customer, order_ids = customer_with_orders(state)
    theirs = {"ids": [gid("Order", i) for i in order_ids]}
    before = held(warehouse, "order_id IN UNNEST(@ids)", theirs)
    # The sync stored the visit: landing pages carrying click ids, and the click ids themselves.
    assert any(r["landing_site"] for r in before) and any(r[k] for r in before for k in ("fbclid", "ttclid", "gclid"))
    # Google's click_view rows: a click of theirs and someone else's
    other_order = held(warehouse, "brand_id = @b AND NOT order_id IN UNNEST(@ids)", {**theirs, "b": synced})[0]
    for order_id, gclid in ((theirs["ids"][0], "G-theirs"), (other_order["order_id"], "G-other")):
        warehouse.execute("UPDATE orders SET gclid = @g WHERE order_id = @o", {"g": gclid, "o": order_id})
        warehouse.insert("google_click_views", [{
            "brand_id": synced, "gclid": gclid, "account_id": "1", "campaign_id": "2", "ad_group_id": None,
            "click_date": clock.now().date(), "synced_at": clock.now()}])
    d = sender.customers_redact(customer, order_ids[:1])
    r = deliver(handler, d)
    assert r.status == 200 and r.body["orders_redacted"] == len(order_ids)
    rows = held(warehouse, "order_id IN UNNEST(@ids)", theirs)
    assert len(rows) == len(order_ids)
    assert all(v is None for row in rows for k, v in row.items() if k != "order_id"), rows
    assert [r["gclid"] for r in warehouse.rows("SELECT gclid FROM google_click_views")] == ["G-other"]
    others = held(warehouse, "brand_id = @b AND NOT order_id IN UNNEST(@ids)", {**theirs, "b": synced})
    assert any(r["customer_hash"] for r in others) and any(r["landing_site"] for r in others)
    record = store.get(f"brands/{synced}/privacy_requests/{event_path(d.webhook_id).rsplit('/', 1)[-1]}")
    assert record["topic"] == "customers/redact" and record["orders_redacted"] == len(order_ids)
    # A later sync re-reads those orders (one changes) but does not write the fields back.
    clock.advance(60)
    state.update_order_address(order_ids[0], zip_code="60601", province_code="IL")
    assert run_sync(synced, full=True).status == "ok"
    rows = held(warehouse, "order_id IN UNNEST(@ids)", theirs)
    assert all(v is None for row in rows for k, v in row.items() if k != "order_id"), rows


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


def test_shop_redact_erases_every_orders_personal_fields_and_disconnects_the_shop(
        handler, sender, synced, warehouse, store, secrets, run_sync, clock, sandbox):
    # The brand also runs ads through us: that connection ends with the shop too.
    meta_secret = names.integration_secret_id(synced, "meta", "act_42")
    secrets.put(meta_secret, "meta-token")
    warehouse.merge("integrations", [{"brand_id": synced, "platform": "meta", "account_id": "act_42",
                                      "secret_ref": meta_secret, "status": "active", "connected_at": clock.now(),
                                      "updated_at": clock.now()}], ["brand_id", "platform", "account_id"])
    integrations = warehouse.rows("SELECT platform, secret_ref FROM integrations WHERE brand_id = @b", {"b": synced})
    refs = [i["secret_ref"] for i in integrations] + [names.customer_salt_secret_id(synced)]
    assert {i["platform"] for i in integrations} == {"shopify", "meta"} and all(secrets.exists(x) for x in refs)
    assert held(warehouse, "brand_id = @b AND landing_site IS NOT NULL", {"b": synced})
    warehouse.insert("google_click_views", [{"brand_id": synced, "gclid": "G-1", "account_id": "1", "campaign_id": "2",
                                             "ad_group_id": None, "click_date": clock.now().date(),
                                             "synced_at": clock.now()}])

    d = sender.shop_redact()
    r = deliver(handler, d)
    assert r.status == 200 and r.body["orders_redacted"] > 0 and r.body["integrations_disconnected"] == 2
    rows = held(warehouse, "brand_id = @b", {"b": synced})
    assert rows and all(v is None for row in rows for k, v in row.items() if k != "order_id")
    assert privacy.load_suppressions(store, synced)[1] is True
    assert warehouse.rows("SELECT gclid FROM google_click_views WHERE brand_id = @b", {"b": synced}) == []
    status = warehouse.rows("SELECT platform, status FROM integrations WHERE brand_id = @b ORDER BY platform",
                            {"b": synced})
    assert status == [{"platform": "meta", "status": "disconnected"}, {"platform": "shopify", "status": "disconnected"}]
    assert not any(secrets.exists(x) for x in refs)  # the tokens and the customer-hash salt
    record = store.get(f"brands/{synced}/privacy_requests/{event_doc_id(d.webhook_id)}")
    assert record["integrations_disconnected"] == ["meta:act_42", f"shopify:{sandbox.shop(synced).state.shop_domain}"]
    # Redelivered (under a new id, as Shopify may): nothing left to do, and no error.
    again = sender.build("shop/redact", json.loads(d.body))
    assert deliver(handler, again).body["status"] == "processed"
    # Syncs stop, and the shop's later deliveries change nothing.
    with pytest.raises(NotConnected, match="disconnected"):
        run_sync(synced)
    clock.advance(60)
    state = sandbox.shop(synced).state
    state.add_order()
    late = deliver(handler, sender.outbox[-1])
    assert late.status == 200 and late.body["status"] == "ignored"
    assert held(warehouse, "brand_id = @b AND customer_hash IS NOT NULL", {"b": synced}) == []


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


# -- valid deliveries of unexpected shapes: 200, recorded as ignored with a warning ---------------------
#: The keys of Shopify's documented ``orders/edited`` sample payload (webhook reference, 2026-04).
ORDER_EDIT_KEYS = {"id", "app_id", "created_at", "committed_at", "notify_customer", "order_id", "staff_note",
                   "user_id", "line_items", "discounts", "shipping_lines"}


def order_state(warehouse: Any, order_gid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    order = warehouse.rows("SELECT subtotal_amount, total_amount, updated_at FROM orders WHERE order_id = @o",
                           {"o": order_gid})
    lines = warehouse.rows("SELECT line_item_id, quantity FROM order_line_items WHERE order_id = @o "
                           "ORDER BY line_item_id", {"o": order_gid})
    return order, lines


def test_orders_edited_in_its_documented_shape_reads_the_order_again_through_the_admin_api(
        api_handler, sender, sandbox, synced, warehouse, clock):
    state = sandbox.shop(synced).state
    target = next(o for o in state.orders.values() if o.cancelled_at is None)
    before = order_state(warehouse, gid("Order", target.id))
    clock.advance(60)
    line = state.edit_order(target.id, quantity=2)
    edited = next(d for d in sender.outbox if d.topic == "orders/edited")
    body = json.loads(edited.body)
    # The body is the edit: which order, which lines were added — no totals, no line prices.
    assert set(body) == {"order_edit"} and set(body["order_edit"]) == ORDER_EDIT_KEYS
    assert body["order_edit"]["order_id"] == target.id
    assert body["order_edit"]["line_items"]["additions"] == [{"id": line.id, "delta": 2}]
    r = deliver(api_handler, edited)
    assert r.status == 200 and r.body["status"] == "processed" and r.body["refetched"] is True, r.body
    after = order_state(warehouse, gid("Order", target.id))
    assert after != before and {"line_item_id": gid("LineItem", line.id), "quantity": 2} in after[1]
    # What the warehouse holds now is the shop's order after the edit, exactly as the poller stores it.
    diffs = testing.differences(warehouse, state.truth(), synced, ("orders", "order_line_items"))
    assert all(not d for d in diffs.values()), {t: d[:3] for t, d in diffs.items() if d}


def test_orders_edited_is_ignored_with_a_warning_when_the_order_cannot_be_read_again(
        api_handler, handler, sender, sandbox, synced, warehouse, clock, caplog):
    state = sandbox.shop(synced).state
    target = next(o for o in state.orders.values() if o.cancelled_at is None)
    before = order_state(warehouse, gid("Order", target.id))
    clock.advance(60)
    state.edit_order(target.id)
    edited = next(d for d in sender.outbox if d.topic == "orders/edited")
    sandbox.shop(synced).token_expired = True  # the read goes to the Admin API, which refuses it
    caplog.set_level(logging.WARNING, logger="tower.sync.webhooks")
    r = deliver(api_handler, edited)
    assert r.status == 200 and r.body["status"] == "ignored" and "token was rejected" in r.body["warning"]
    assert any(rec.levelno == logging.WARNING and "token was rejected" in getattr(rec, "warning", "")
               for rec in caplog.records)
    assert order_state(warehouse, gid("Order", target.id)) == before
    # Without an Admin API to ask (no settings), the same delivery is acknowledged and ignored too.
    r = deliver(handler, sender.build("orders/edited", json.loads(edited.body)))
    assert r.status == 200 and r.body["status"] == "ignored" and "Admin API" in r.body["warning"]
    r = deliver(api_handler, sender.build("orders/edited", {"order_edit": {"id": 1, "order_id": None}}))
    assert r.status == 200 and r.body["status"] == "ignored" and "order_id" in r.body["warning"]


def test_products_delete_without_an_id_is_acknowledged_ignored_and_warned_about(handler, sender, synced, warehouse,
                                                                                store, caplog):
    before = testing.snapshot(warehouse, synced)
    caplog.set_level(logging.WARNING, logger="tower.sync.webhooks")
    for payload in ({}, {"id": None}, {"id": "not-a-number"}, {"id": {"nested": 1}}):
        d = sender.build("products/delete", payload)
        r = deliver(handler, d)
        assert r.status == 200 and r.body["status"] == "ignored", (payload, r.body)
        assert "no product id" in r.body["warning"]
        doc = store.get(event_path(d.webhook_id))
        assert doc["status"] == "ignored" and doc["warning"] == r.body["warning"]
    warnings = [rec for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(warnings) == 4 and all(getattr(w, "topic", None) == "products/delete" for w in warnings)
    assert testing.snapshot(warehouse, synced) == before


def test_odd_inventory_level_payloads_are_acknowledged_and_ignored(handler, sender, sandbox, synced, warehouse):
    state = sandbox.shop(synced).state
    item, location = next(iter(state.levels))
    before = testing.snapshot(warehouse, synced)
    odd = [
        {},  # Shopify's sample of this topic for 2024-07 to 2026-04
        {"inventory_item_id": item, "location_id": location, "available": None,  # 2023-07 and 2024-01
         "updated_at": "2026-11-23T10:00:00-05:00"},
        {"inventory_item_id": "x", "location_id": location, "available": 3, "updated_at": "2026-11-23T10:00:00Z"},
        {"inventory_item_id": item, "location_id": location, "available": "3", "updated_at": "2026-11-23T10:00:00Z"},
        {"inventory_item_id": item, "location_id": location, "available": 3, "updated_at": "yesterday"},
        {"inventory_item_id": [item], "location_id": {"id": location}, "available": True},
    ]
    for payload in odd:
        r = deliver(handler, sender.build("inventory_levels/update", payload))
        assert r.status == 200 and r.body["status"] == "ignored" and r.body["warning"], (payload, r.body)
    assert testing.snapshot(warehouse, synced) == before


def test_order_bodies_of_another_shape_are_ignored_not_failed(handler, sender, synced, warehouse):
    before = testing.snapshot(warehouse, synced)
    for topic, payload in (("orders/updated", {"id": 1}), ("orders/create", {"id": 1, "created_at": "soon"}),
                           ("orders/paid", {"id": 1, "created_at": "2026-11-23T10:00:00Z", "line_items": [{}]}),
                           ("products/update", {"id": 5, "variants": "none"}),
                           ("inventory_items/update", {"cost": "3.00"}),
                           ("customers/redact", {"customer": "someone", "orders_to_redact": 7})):
        r = deliver(handler, sender.build(topic, payload))
        assert r.status == 200 and r.body["status"] == "ignored" and r.body["warning"], (topic, r.body)
        assert "someone" not in r.body["warning"]  # reasons are ours, never values from the body
    assert testing.snapshot(warehouse, synced) == before


# -- webhook ids -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("webhook_id", ["dup/x", "dup-x", "dup%2Fx", "a b", "ü/…", "..", "__x__", "b9f1c0de-1"])
def test_webhook_ids_map_to_document_ids_reversibly(webhook_id):
    doc_id = event_doc_id(webhook_id)
    assert "/" not in doc_id and webhook_id_of(doc_id) == webhook_id
    assert event_path(webhook_id) == f"processed_events/{doc_id}"


def test_ids_that_differ_only_in_characters_a_path_cannot_hold_are_two_deliveries(handler, sender, sandbox, synced,
                                                                                  store, warehouse, clock):
    state = sandbox.shop(synced).state
    clock.advance(60)
    first, second = state.add_order(), state.add_order()
    bodies = [d.body for d in sender.outbox[-2:]]
    ids = ["dup/x", "dup-x"]
    assert event_path(ids[0]) != event_path(ids[1])
    for webhook_id, body in zip(ids, bodies, strict=True):
        d = sender.build("orders/create", json.loads(body), webhook_id=webhook_id)
        assert deliver(handler, d).body["status"] == "processed"
        assert store.get(event_path(webhook_id))["webhook_id"] == webhook_id  # kept verbatim
    again = sender.build("orders/create", json.loads(bodies[0]), webhook_id="dup/x")
    assert deliver(handler, again).body["status"] == "duplicate"
    stored = warehouse.rows("SELECT order_id FROM orders WHERE order_id IN UNNEST(@ids) ORDER BY order_id",
                            {"ids": [gid("Order", first.id), gid("Order", second.id)]})
    assert len(stored) == 2  # the second delivery was not taken for a repeat of the first
    docs = dict(store.query(DocQuery("processed_events")))
    assert {d["webhook_id"] for d in docs.values()} >= set(ids)


def test_an_overlong_webhook_id_is_a_400(handler, sender):
    d = sender.build("orders/create", {"id": 1}, webhook_id="x" * 257)
    r = deliver(handler, d)
    assert r.status == 400 and r.body["error"] == "invalid_header" and "X-Shopify-Webhook-Id" in r.body["message"]


def test_shop_redact_forgets_the_brands_people(warehouse, store, secrets, clock, sender, synced):
    """Through the real invitation path: an owner and a viewer who also keeps another brand, a pending
    invitation, a key for this brand only and one for two brands, sessions of each kind."""
    from tower.identity import invitations, keys, sessions, teams
    from tower.identity.firebase import FirebaseUser
    from tower.identity.memberships import Target, person_principal
    from tower.identity.roles import Principal, Role
    from tower.identity.teams import forget_brand_people

    assert (teams.INVITATIONS, teams.API_KEYS, teams.SESSIONS) == (
        invitations.COLLECTION, keys.COLLECTION, sessions.COLLECTION)

    now, brand, other = clock.now(), Target("brand", synced), Target("brand", "other-brand")

    def member(target: Target, email: str, uid: str, role: str) -> None:
        token, _ = invitations.create_invitation(store, target, email=email, role=role, invited_by="test",
                                                 now=now, hours=24)
        invitations.accept_invitation(store, token, FirebaseUser(uid, email, True), now=now)

    member(brand, "owner@fjord.example", "u-owner", "merchant_owner")
    member(brand, "viewer@fjord.example", "u-viewer", "merchant_viewer")
    member(other, "viewer@fjord.example", "u-viewer", "merchant_owner")
    invitations.create_invitation(store, brand, email="late@fjord.example", role="merchant_viewer",
                                  invited_by="test", now=now, hours=24)
    only = keys.create_api_key(store, brand_ids=[synced], name="only", now=now, role=Role.MERCHANT_OWNER)
    both = keys.create_api_key(store, brand_ids=[synced, "other-brand"], name="both", now=now,
                               role=Role.MERCHANT_OWNER)
    viewer_session, _ = sessions.create_session(store, person_principal(store, "u-viewer"), now=now, uid="u-viewer")
    shop_session, _ = sessions.create_session(
        store, Principal(name="shop", key_hash="", agency_id=None, brand_ids=frozenset({synced})), now=now)

    handler = WebhookHandler(warehouse=warehouse, store=store, secrets=secrets, app_secret=APP_SECRET, now=clock.now,
                             forget_people=lambda b: forget_brand_people(store, b))
    d = sender.shop_redact()
    r = deliver(handler, d)
    assert r.status == 200 and r.body["members_forgotten"] == 2
    record = store.get(f"brands/{synced}/privacy_requests/{event_doc_id(d.webhook_id)}")
    assert record["people_forgotten"] == {"members": 2, "invitations": 1, "api_keys_revoked": 1, "sessions_ended": 2}

    assert store.get("members/u-owner") is None and store.get(f"brand_members/{synced}") is None
    assert store.get("members/u-viewer")["brands"] == {"other-brand": "merchant_owner"}
    assert [d["email"] for _, d in store.query(DocQuery("invitations"))] == []
    assert keys.key_principal(store, only, now=now) is None
    assert keys.key_principal(store, both, now=now).brand_ids == frozenset({"other-brand"})
    assert sessions.resolve_session(store, viewer_session, now=now) is None
    assert sessions.resolve_session(store, shop_session, now=now) is None
    # Redelivered: nothing more to forget.
    again = deliver(handler, sender.build("shop/redact", json.loads(d.body)))
    assert again.status == 200 and again.body["members_forgotten"] == 0
