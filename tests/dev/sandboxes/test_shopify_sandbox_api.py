"""The sandbox store on the wire: Shopify's real schema, response shapes, cursors, cost and faults."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
import requests

from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.cost import LeakyBucket
from tower_dev.sandboxes.shopify_store.faults import Fault, FaultPlan
from tower_dev.sandboxes.shopify_store.server import serve_world


@pytest.fixture(scope="module")
def world() -> Any:
    return testing.small_world()


@pytest.fixture
def clock(world):
    return testing.clock_after(world)


@pytest.fixture
def handle(world, clock):
    h = serve_world(world, clock=clock)
    yield h
    h.stop()


@pytest.fixture
def brand(world) -> str:
    return world.brands[0].brand["brand_id"]


def post(handle: Any, brand: str, query: str, variables: dict | None = None, *, token: str | None = None,
         version: str = "2026-04") -> requests.Response:
    return requests.post(f"{handle.origin}/admin/api/{version}/graphql.json",
                         json={"query": query, "variables": variables},
                         headers={"X-Shopify-Access-Token": token or handle.tokens[brand]}, timeout=10)


def test_every_error_answers_http_200_with_shopifys_codes(handle, brand):
    r = post(handle, brand, "{ shop { name ")
    assert r.status_code == 200
    body = r.json()
    assert body["errors"][0]["extensions"]["code"] == "PARSE_ERROR" and "data" not in body
    assert body["errors"][0]["message"].startswith("syntax error")
    r = post(handle, brand, "{ shop { nameTypo } }")
    assert r.status_code == 200 and r.json()["errors"][0]["extensions"]["code"] == "undefinedField"


def test_the_schema_is_shopifys_real_one(handle, brand):
    """A field real Shopify removed is rejected; one it has is served."""
    r = post(handle, brand, "{ location { inventoryLevels(first: 1) { nodes { available } } } }")
    assert "available" in r.json()["errors"][0]["message"]
    r = post(handle, brand, "{ shop { ianaTimezone currencyCode myshopifyDomain } }")
    assert r.json()["data"]["shop"]["myshopifyDomain"].endswith(".myshopify.com")


def test_responses_carry_the_cost_and_the_bucket(handle, brand):
    body = post(handle, brand, "{ products(first: 5) { nodes { id title } } }").json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 7 and 2 <= cost["actualQueryCost"] <= 7
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0 and status["restoreRate"] == 100.0
    assert isinstance(status["currentlyAvailable"], float)


def test_an_empty_bucket_throttles_for_real_and_refills_with_time(handle, brand, clock):
    shop = handle.shop(brand)
    shop.bucket = LeakyBucket(100, 10, clock.monotonic)
    shop.bucket.drain()
    body = post(handle, brand, "{ products(first: 5) { nodes { id } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    clock.advance(1.0)  # 10 points back: enough for a 7-point query
    assert "data" in post(handle, brand, "{ products(first: 5) { nodes { id } } }").json()


def test_a_query_over_1000_points_is_refused(handle, brand):
    body = post(handle, brand, "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_cursors_are_opaque_and_page_every_product_exactly_once(handle, brand):
    seen, after = [], None
    while True:
        q = "query($after: String) { products(first: 3, after: $after) { edges { cursor node { id } } " \
            "pageInfo { hasNextPage endCursor } } }"
        conn = post(handle, brand, q, {"after": after}).json()["data"]["products"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        decoded = json.loads(base64.b64decode(conn["pageInfo"]["endCursor"]))
        assert set(decoded) == {"last_id", "last_value"}
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    live = handle.shop(brand).state.live_products()
    assert sorted(seen) == sorted(f"gid://shopify/Product/{p.id}" for p in live)
    bad = post(handle, brand, '{ products(first: 3, after: "bm90LWEtY3Vyc29y") { nodes { id } } }').json()
    assert "Invalid cursor" in bad["errors"][0]["message"]


def test_keyset_paging_moves_a_record_updated_meanwhile_to_the_end(handle, brand, clock):
    q = "query($after: String) { orders(first: 5, after: $after, sortKey: UPDATED_AT) { nodes { id } " \
        "pageInfo { hasNextPage endCursor } } }"
    first = post(handle, brand, q).json()["data"]["orders"]
    moved = first["nodes"][0]["id"]
    clock.advance(60)
    handle.shop(brand).state.update_order_address(int(moved.rsplit("/", 1)[1]), zip_code="10001", province_code="NY")
    ids, after = [n["id"] for n in first["nodes"]], first["pageInfo"]["endCursor"]
    while after:
        page = post(handle, brand, q, {"after": after}).json()["data"]["orders"]
        ids += [n["id"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert ids.count(moved) == 2 and ids[-1] == moved
    assert len(set(ids)) == len(handle.shop(brand).state.orders)


def test_connections_need_a_page_size_of_at_most_250(handle, brand):
    assert "first or last" in post(handle, brand, "{ products { nodes { id } } }").json()["errors"][0]["message"]
    body = post(handle, brand, "{ products(first: 251) { nodes { id } } }").json()
    assert "between 0 and 250" in body["errors"][0]["message"]


def test_search_filters_and_warnings(handle, brand):
    state = handle.shop(brand).state
    cut = sorted(o.updated_at for o in state.orders.values())[len(state.orders) // 2]
    q = "query($q: String) { ordersCount(query: $q) { count precision } }"
    stamp = cut.strftime("%Y-%m-%dT%H:%M:%SZ")
    count = post(handle, brand, q, {"q": f"updated_at:>='{stamp}'"}).json()["data"]["ordersCount"]
    assert count == {"count": sum(1 for o in state.orders.values() if o.updated_at >= cut), "precision": "EXACT"}
    body = post(handle, brand, '{ orders(first: 1, query: "colour:red") { nodes { id } } }').json()
    assert body["data"]["orders"]["nodes"]
    assert "colour" in json.dumps(body["extensions"]["search"])


def test_without_a_scope_the_field_is_access_denied(handle, brand):
    shop = handle.shop(brand)
    shop.scopes = frozenset(shop.scopes - {"read_products"})
    body = post(handle, brand, '{ product(id: "gid://shopify/Product/1") { id } }').json()
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert body["data"] == {"product": None}


def test_without_read_all_orders_only_60_days_of_orders_are_visible(handle, brand, clock):
    shop = handle.shop(brand)
    shop.scopes = frozenset(shop.scopes - {"read_all_orders"})
    clock.advance(timedelta(days=50).total_seconds())
    now = shop.state.now()
    visible = sum(1 for o in shop.state.orders.values() if o.created_at >= now - timedelta(days=60))
    assert 0 < visible < len(shop.state.orders)
    body = post(handle, brand, "{ ordersCount { count } }").json()
    assert body["data"]["ordersCount"]["count"] == visible


def test_a_bad_token_or_an_unserved_version_is_refused(handle, brand):
    r = post(handle, brand, "{ shop { name } }", token="shpat_wrong")
    assert r.status_code == 401 and "Invalid API key or access token" in r.json()["errors"]
    assert post(handle, brand, "{ shop { name } }", version="2024-01").status_code == 404


@pytest.mark.parametrize("kind,status", [("http_500", 500), ("http_502", 502), ("http_503", 503)])
def test_a_5xx_fault_hits_exactly_the_chosen_request(handle, brand, kind, status):
    handle.shop(brand).faults = FaultPlan.of([Fault(kind, 2)])
    codes = [post(handle, brand, "{ shop { name } }").status_code for _ in range(3)]
    assert codes == [200, status, 200]


def test_a_dropped_connection_cuts_the_page_mid_body(handle, brand):
    handle.shop(brand).faults = FaultPlan.of([Fault("drop", 1)])
    with pytest.raises(requests.exceptions.RequestException):
        post(handle, brand, "{ products(first: 5) { nodes { id title } } }").json()
    assert post(handle, brand, "{ shop { name } }").status_code == 200


def test_an_expired_token_stays_expired(handle, brand):
    handle.shop(brand).faults = FaultPlan.of([Fault("expired_token", 2)])
    codes = [post(handle, brand, "{ shop { name } }").status_code for _ in range(3)]
    assert codes == [200, 401, 401]


def test_an_internal_error_fault_answers_200_like_the_live_capture(handle, brand):
    handle.shop(brand).faults = FaultPlan.of([Fault("internal_error", 1)])
    r = post(handle, brand, "{ shop { name } }")
    assert r.status_code == 200
    err = r.json()["errors"][0]
    assert err["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and "Request ID" in err["message"]
