"""The client over the real ShopifyAPI SDK: pacing by the cost bucket, retries sorted once."""

from __future__ import annotations

from typing import Any

import pytest

from tower.connectors.retry import FatalError, NeedsReauth, RetriableError, RetryPolicy
from tower.connectors.shopify import streams as st
from tower.connectors.shopify.client import QueryCost, ShopifyClient, classify_response, throttle_wait
from tower_dev.sandboxes.shopify_store.cost import LeakyBucket
from tower_dev.sandboxes.shopify_store.faults import Fault, FaultPlan


@pytest.fixture
def shop(world, sandbox) -> Any:
    return sandbox.shop(world.brands[0].brand["brand_id"])


@pytest.fixture
def client(world, sandbox, clock) -> ShopifyClient:
    bw = world.brands[0]
    return ShopifyClient(bw.brand["shop_domain"], sandbox.tokens[bw.brand["brand_id"]], api_version="2026-04",
                         origin=sandbox.origin, policy=RetryPolicy(sleep=clock.sleep), clock=clock.monotonic)


def all_orders(client: ShopifyClient) -> list[str]:
    return [n["id"] for page in st.iter_pages(client, st.ORDERS) for n in page.nodes]


def test_the_site_is_the_shop_unless_an_origin_is_set():
    c = ShopifyClient("acme.myshopify.com", "t", api_version="2026-04")
    assert c.site == "https://acme.myshopify.com/admin/api/2026-04"
    c = ShopifyClient("acme.myshopify.com", "t", api_version="2026-04", origin="http://127.0.0.1:9/")
    assert c.site == "http://127.0.0.1:9/admin/api/2026-04"


def test_paging_through_the_sdk_reads_every_order_once(client, shop):
    ids = all_orders(client)
    assert len(ids) == len(set(ids)) == len(shop.state.orders)
    assert client.requests == -(-len(ids) // st.ORDERS.page_size(shop.bucket.maximum))


def test_requests_are_paced_to_the_restore_rate_instead_of_being_throttled(client, shop, clock):
    shop.bucket = LeakyBucket(1000, 50, clock.monotonic)  # a small bucket: ~one orders page
    all_orders(client)
    assert client.throttled == 0
    assert client.paced_seconds > 0
    assert sum(clock.sleeps) == pytest.approx(client.paced_seconds)


def test_a_throttled_request_waits_what_the_bucket_implies_and_succeeds(client, shop, clock):
    shop.faults = FaultPlan.of([Fault("throttle", 2)])
    ids = all_orders(client)
    assert len(ids) == len(shop.state.orders)
    assert client.throttled == 1
    # The orders page asks ~980 points and the bucket was drained: ~9.8 s at 100 points/s.
    page = st.ORDERS.page_size(shop.bucket.maximum)
    requested = st.ORDERS.fixed_cost + page * st.ORDERS.node_cost
    assert max(client.policy.waits) == pytest.approx(requested / 100, abs=0.5)


@pytest.mark.parametrize("kind", ["http_500", "http_502", "http_503", "internal_error", "drop", "reset"])
def test_transient_failures_on_a_page_are_retried_with_backoff(client, shop, kind):
    shop.faults = FaultPlan.of([Fault(kind, 3)])
    ids = all_orders(client)
    assert len(ids) == len(set(ids)) == len(shop.state.orders)
    # One backoff (a dropped answer still spent its cost, so a throttle may follow: that waits too).
    assert 1 <= len(client.policy.waits) <= 2
    assert 0 <= client.policy.waits[0] <= client.policy.base_seconds


def test_an_expired_token_is_not_retried(client, shop):
    shop.faults = FaultPlan.of([Fault("expired_token", 1)])
    with pytest.raises(NeedsReauth):
        all_orders(client)
    assert shop.faults.requests == 1


def test_a_missing_scope_asks_for_reauthorisation(client, shop):
    shop.scopes = frozenset(shop.scopes - {"read_orders"})
    with pytest.raises(NeedsReauth, match="read_orders"):
        all_orders(client)


def test_a_document_shopify_rejects_is_fatal_without_retry(client, shop):
    with pytest.raises(FatalError):
        client.execute("{ shop { name ")  # PARSE_ERROR
    with pytest.raises(FatalError, match="exceeds the single query max cost"):
        client.execute("{ orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id } } } } }")
    assert client.policy.waits == []


def test_classify_sorts_errors_by_their_code_not_by_a_null_actual_cost():
    cost = {"requestedQueryCost": 10, "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0, "restoreRate": 100.0}}
    with pytest.raises(FatalError) as e:
        classify_response({"errors": [{"message": "too big", "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"}}],
                           "extensions": {"cost": cost}})
    assert not isinstance(e.value, RetriableError)
    throttled = {"requestedQueryCost": 500, "actualQueryCost": None,
                 "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 100.0, "restoreRate": 100.0}}
    with pytest.raises(RetriableError) as t:
        classify_response({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                           "extensions": {"cost": throttled}})
    assert t.value.retry_after == pytest.approx(4.0)
    assert throttle_wait(QueryCost.from_extensions({"cost": throttled})) == pytest.approx(4.0)
