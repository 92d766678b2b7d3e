"""Bulk operations in the sandbox store: Shopify's flow, rules and JSONL format."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests
from graphql import parse

from tower.connectors.shopify.streams import bulk_orders_query
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.bulk_render import objects_of, write_orders_jsonl
from tower_dev.sandboxes.shopify_store.server import serve_world

RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) {
  bulkOperation { id status type objectCount rootObjectCount fileSize url query }
  userErrors { field message code } } }"""
POLL = """query($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount fileSize url
  partialDataUrl completedAt } }"""


@pytest.fixture(scope="module")
def world() -> Any:
    return testing.small_world()


@pytest.fixture
def handle(world):
    h = serve_world(world, clock=testing.clock_after(world))
    yield h
    h.stop()


@pytest.fixture
def brand(world) -> str:
    return world.brands[0].brand["brand_id"]


def gql(handle: Any, brand: str, query: str, variables: dict) -> dict:
    r = requests.post(f"{handle.origin}/admin/api/2026-04/graphql.json", json={"query": query, "variables": variables},
                      headers={"X-Shopify-Access-Token": handle.tokens[brand]}, timeout=10)
    assert r.status_code == 200
    return r.json()


def run_to_completion(handle: Any, brand: str, query: str) -> dict:
    created = gql(handle, brand, RUN, {"q": query})["data"]["bulkOperationRunQuery"]
    assert created["userErrors"] == []
    op = created["bulkOperation"]
    assert op["status"] == "CREATED" and op["objectCount"] == "0" and op["url"] is None
    statuses = []
    while True:
        polled = gql(handle, brand, POLL, {"id": op["id"]})["data"]["bulkOperation"]
        statuses.append(polled["status"])
        if polled["status"] == "COMPLETED":
            return {**polled, "statuses": statuses}


def test_run_poll_download_like_shopify(handle, brand):
    done = run_to_completion(handle, brand, bulk_orders_query())
    assert done["statuses"] == ["RUNNING", "COMPLETED"]
    body = requests.get(done["url"], timeout=10).content
    assert isinstance(done["objectCount"], str) and int(done["objectCount"]) == body.count(b"\n")
    assert int(done["fileSize"]) == len(body)
    assert b'"gid:\\/\\/shopify\\/Order\\/' in body and b"gid://" not in body  # "/" written as "\/"
    objs = objects_of(body)
    roots = [o for o in objs if "__parentId" not in o]
    assert int(done["rootObjectCount"]) == len(roots) == len(handle.shop(brand).state.orders)
    # A line item's or a fulfillment order's parent is an order; a fulfillment order line's, its
    # fulfillment order (two levels of nesting).
    parents = {o["id"]: o.get("__parentId") for o in objs}
    assert {o["__parentId"] for o in objs if "/LineItem/" in o["id"] or "/FulfillmentOrder/" in o["id"]} <= {
        o["id"] for o in roots}
    fo_lines = [o for o in objs if "/FulfillmentOrderLineItem/" in o["id"]]
    assert fo_lines and all(parents[parents[o["__parentId"]]] is None for o in fo_lines)
    assert all("lineItems" not in o and "fulfillmentOrders" not in o for o in objs)  # nested nodes: own lines


def test_children_follow_no_guaranteed_order(handle, brand):
    done = run_to_completion(handle, brand, bulk_orders_query())
    seen: set[str] = set()
    early = 0
    for o in objects_of(requests.get(done["url"], timeout=10).content):
        if "__parentId" in o and o["__parentId"] not in seen:
            early += 1
        seen.add(o["id"])
    assert early > 0


def test_the_file_can_be_resumed_with_a_range_request(handle, brand):
    done = run_to_completion(handle, brand, bulk_orders_query())
    whole = requests.get(done["url"], timeout=10).content
    tail = requests.get(done["url"], headers={"Range": "bytes=100-"}, timeout=10)
    assert tail.status_code == 206 and tail.content == whole[100:]
    assert tail.headers["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"


@pytest.mark.parametrize("query,problem", [
    ("{ orders { edges { node { id } } } products { edges { node { id } } } }", "exactly one top-level field"),
    ("{ shop { name } }", "connection field at the top level"),
    ("query($q: String) { orders(query: $q) { edges { node { id } } } }", "variables"),
    (("{ products { edges { node { id variants { edges { node { id inventoryItem { inventoryLevels { edges { node"
      " { id location { inventoryLevels { edges { node { id } } } } } } } } } } } } } } }"), "nesting depth"),
    ("{ orders { edges { node { idd } } } }", "Invalid bulk query"),
])
def test_queries_shopify_refuses_in_bulk_are_user_errors(handle, brand, query, problem):
    payload = gql(handle, brand, RUN, {"q": query})["data"]["bulkOperationRunQuery"]
    assert payload["bulkOperation"] is None
    assert payload["userErrors"][0]["code"] == "INVALID" and problem in payload["userErrors"][0]["message"]


def test_concurrency_limits_answer_like_the_api_version(handle, brand):
    shop = handle.shop(brand)
    for _ in range(5):
        assert gql(handle, brand, RUN, {"q": bulk_orders_query()})["data"]["bulkOperationRunQuery"]["userErrors"] == []
    sixth = gql(handle, brand, RUN, {"q": bulk_orders_query()})["data"]["bulkOperationRunQuery"]
    assert sixth["userErrors"][0]["code"] == "LIMIT_REACHED"  # 2026-01 on: five at a time
    for op in list(shop.bulk.ops.values()):
        shop.bulk.cancel(op.id)
    shop.bulk.concurrent_limit = 1  # before 2026-01: one at a time
    gql(handle, brand, RUN, {"q": bulk_orders_query()})
    second = gql(handle, brand, RUN, {"q": bulk_orders_query()})["data"]["bulkOperationRunQuery"]
    assert second["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    assert "already in progress" in second["userErrors"][0]["message"]


@pytest.mark.parametrize("search", [None, "updated_at:>='2026-11-10T00:00:00Z'"])
def test_the_fast_writer_produces_exactly_what_the_graphql_path_does(handle, brand, search):
    """The connector's own bulk query is written directly (graphql-core is too slow at a million
    orders); both paths must give the same objects."""
    shop = handle.shop(brand)
    document = parse(bulk_orders_query(search))
    generic = shop.bulk.execute_generic(document, shop.scopes)
    fast = shop.bulk.fast_orders_export(document, shop.scopes, seed=1)
    assert generic is not None and fast is not None
    via_graphql = sorted(json.dumps(json.loads(line), sort_keys=True) for line, _ in generic)
    written = sorted(json.dumps(o, sort_keys=True) for o in objects_of(fast[0]))
    assert written == via_graphql and fast[1] == len(generic)
    if search:
        assert 0 < fast[2] < len(shop.state.orders)
    buf = io.BytesIO()
    assert write_orders_jsonl(shop.state, buf)[1] == len(shop.state.orders)


def test_any_other_bulk_query_runs_through_graphql_core(handle, brand):
    done = run_to_completion(handle, brand, "{ products { edges { node { id title variants { edges { node { id sku }"
                                            " } } } } } }")
    objs = objects_of(requests.get(done["url"], timeout=10).content)
    products = [o for o in objs if "__parentId" not in o]
    assert len(products) == len(handle.shop(brand).state.live_products())
    assert all(set(o) == {"id", "sku", "__parentId"} for o in objs if "__parentId" in o)
