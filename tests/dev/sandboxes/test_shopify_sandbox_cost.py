"""Calculated query cost and the leaky bucket, on literal documents."""

from __future__ import annotations

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from tower.connectors.shopify.schema import load_schema, schema_path
from tower_dev.sandboxes.shopify_store.clock import FakeClock
from tower_dev.sandboxes.shopify_store.connections import SortedIndex, decode_cursor, encode_cursor, page
from tower_dev.sandboxes.shopify_store.cost import CostCalculator, LeakyBucket
from tower_dev.sandboxes.shopify_store.search import parse_search


@pytest.fixture(scope="module")
def schema():
    return load_schema(schema_path("2026-04"))


def cost(schema, text: str, variables: dict | None = None, data: dict | None = None) -> tuple[int, int]:
    doc = parse(text)
    op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    calc = CostCalculator(schema, op, frags, variables or {})
    return calc.requested(), calc.actual(data)


@pytest.mark.parametrize("text,expected", [
    ("{ shop { name } }", 1),                                          # object 1, scalar 0
    ("{ shop { name billingAddress { city } } }", 2),                  # nested object
    ("{ products(first: 10) { nodes { id } } }", 2 + 10 * 1),           # connection: 2 + n × node
    ("{ products(first: 10) { edges { node { id variants(first: 5) { nodes { id } } } } } }", 2 + 10 * (1 + 2 + 5)),
    ("query($n: Int) { orders(first: $n) { nodes { id totalPriceSet { shopMoney { amount } } } } }", 2 + 7 * 3),
    ("mutation { bulkOperationCancel(id: \"x\") { userErrors { message } } }", 10),
])
def test_requested_cost_follows_shopifys_rules(schema, text, expected):
    assert cost(schema, text, {"n": 7})[0] == expected


def test_actual_cost_counts_what_came_back(schema):
    text = "{ products(first: 10) { nodes { id } pageInfo { hasNextPage } } }"
    data = {"products": {"nodes": [{"id": "a"}, {"id": "b"}], "pageInfo": {"hasNextPage": False}}}
    assert cost(schema, text, data=data) == (12, 4)


def test_the_bucket_restores_at_its_rate_by_the_clock_given():
    clock = FakeClock()
    bucket = LeakyBucket(100, 10, clock.monotonic)
    assert bucket.try_take(90)
    assert not bucket.try_take(20)
    clock.advance(1.0)
    assert bucket.try_take(20)
    bucket.refund(500)
    assert bucket.status().currently_available == 100
    assert bucket.status().as_json()["maximumAvailable"] == 100.0


def test_cursors_round_trip_and_pages_resume_after_them():
    items = [{"id": i, "v": 10 - i % 3} for i in range(1, 11)]

    class Item(dict):
        id = property(lambda self: self["id"])

    idx = SortedIndex([Item(x) for x in items], lambda x: x["v"], lambda x: x["id"])
    first = page(idx, first=4, after=None)
    second = page(idx, first=4, after=first["pageInfo"]["endCursor"])
    rest = page(idx, first=4, after=second["pageInfo"]["endCursor"])
    got = [n["id"] for p in (first, second, rest) for n in p["nodes"]]
    assert sorted(got) == list(range(1, 11)) and len(got) == 10
    assert rest["pageInfo"]["hasNextPage"] is False and first["pageInfo"]["hasNextPage"] is True
    assert decode_cursor(encode_cursor(5, 7)) == (7, 5)
    backwards = page(idx, first=10, after=None, reverse=True)
    assert [n["id"] for n in backwards["nodes"]] == list(reversed([n["id"] for p in (first, second, rest)
                                                                  for n in p["nodes"]]))


def test_search_syntax_terms():
    terms = parse_search("status:active,draft AND updated_at:>='2026-11-01T00:00:00Z' -vendor:acme")
    assert [(t.field, t.op, t.value, t.negated) for t in terms] == [
        ("status", "=", "active,draft", False), ("updated_at", ">=", "2026-11-01T00:00:00Z", False),
        ("vendor", "=", "acme", True)]
