"""Every GraphQL document the connector can send validates against Shopify's real 2026-04 schema."""

from __future__ import annotations

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from tower.connectors.shopify import streams as st
from tower.connectors.shopify.schema import (
    SchemaMissing,
    deprecated_fields_used,
    load_schema,
    schema_path,
    validate_document,
)
from tower_dev.sandboxes.shopify_store.bulk import check_bulk_query
from tower_dev.sandboxes.shopify_store.cost import MAX_QUERY_COST, CostCalculator


@pytest.fixture(scope="module")
def schema():
    return load_schema(schema_path("2026-04"))


def every_document() -> list[tuple[str, str]]:
    docs = [(name, st.load_document(name)) for name in st.document_names()]
    docs.append(("bulk_orders (as sent)", st.bulk_orders_query()))
    docs.append(("bulk_orders (with a filter)", st.bulk_orders_query("updated_at:<='2026-11-01T00:00:00Z'")))
    return docs


def test_the_connector_has_the_documents_it_needs():
    assert {"shop", "products", "variants", "product_deletions", "locations", "inventory_levels", "orders",
            "order_line_items", "order_fulfillment_orders", "fulfillment_order_line_items", "orders_count",
            "bulk_orders", "bulk_run", "bulk_poll"} <= set(st.document_names())


@pytest.mark.parametrize("name,document", every_document(), ids=lambda v: v if len(v) < 40 else None)
def test_every_document_is_valid_against_the_real_admin_schema(schema, name, document):
    assert validate_document(schema, document) == [], name


@pytest.mark.parametrize("name,document", every_document(), ids=lambda v: v if len(v) < 40 else None)
def test_no_document_uses_a_deprecated_field(schema, name, document):
    assert deprecated_fields_used(schema, document) == []


def test_a_document_real_shopify_would_reject_is_rejected(schema):
    errors = validate_document(schema, "{ orders(first: 5) { nodes { id landingSite } } }")
    assert errors and "landingSite" in errors[0].message
    assert validate_document(schema, "{ inventoryItem(id: \"x\") { inventoryLevels(first: 1) { nodes { available } } } }")


def _requested(schema, stream, first: int, **variables) -> int:
    doc = parse(st.load_document(stream.document))
    op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    return CostCalculator(schema, op, frags, {**stream.extra_variables, "first": first, **variables}).requested()


@pytest.mark.parametrize("stream", st.STREAMS, ids=lambda s: s.name)
def test_each_streams_declared_costs_are_what_shopify_charges(schema, stream):
    """requested = fixed + first × node, by Shopify's rules (the sandbox's calculator)."""
    assert _requested(schema, stream, 1) == stream.fixed_cost + stream.node_cost
    assert _requested(schema, stream, 7) == stream.fixed_cost + 7 * stream.node_cost


@pytest.mark.parametrize("bucket", [None, 1000.0, 2000.0, 500.0, 100.0])
@pytest.mark.parametrize("stream", st.STREAMS, ids=lambda s: s.name)
def test_pages_are_the_largest_the_limit_and_the_bucket_allow(schema, stream, bucket):
    size = stream.page_size(bucket)
    budget = min(MAX_QUERY_COST, bucket or MAX_QUERY_COST)
    assert _requested(schema, stream, size) <= budget
    # ...and use the room: one more node would not fit, or the page is at Shopify's 250 maximum.
    assert size == st.MAX_PAGE or _requested(schema, stream, size + 1) > budget


def test_the_next_page_follows_what_shopify_charged_for_this_one():
    from tower.connectors.shopify.client import QueryCost, ThrottleStatus

    # Shopify priced 10 orders at 2 + 10 × 120 (more than declared): the next page shrinks to fit.
    charged = QueryCost(1202.0, 400.0, ThrottleStatus(2000.0, 800.0, 100.0))
    assert st.next_page_size(st.ORDERS, 10, charged) == (1000 - 2) // 120
    # A Plus shop's larger bucket still stops at the single-query limit; a small one bounds the page.
    assert st.next_page_size(st.ORDERS, 5, QueryCost(447.0, 100.0, ThrottleStatus(10000.0, 9000.0, 1000.0))) == 11
    assert st.next_page_size(st.ORDERS, 5, QueryCost(447.0, 100.0, ThrottleStatus(300.0, 300.0, 15.0))) == 3
    assert st.next_page_size(st.ORDERS, 5, None) == 5


def test_the_bulk_query_keeps_to_shopifys_bulk_rules(schema):
    document = parse(st.bulk_orders_query())
    assert check_bulk_query(schema, document) is None
    assert "first:" not in st.bulk_orders_query() and "fragment" not in st.bulk_orders_query()


def test_the_bulk_filter_is_quoted_on_the_syntax_tree():
    text = st.bulk_orders_query('name:"#1001" OR updated_at:>\'2026\'')
    assert validate_document(load_schema(schema_path("2026-04")), text) == []
    assert '\\"#1001\\"' in text


def test_windows_are_read_inclusively_from_the_cursor():
    assert st.ORDERS.search("2026-11-01T00:00:00Z") == "updated_at:>='2026-11-01T00:00:00Z'"
    assert st.PRODUCTS.search(None) == "status:active,archived,draft,unlisted"
    assert st.PRODUCT_DELETIONS.search("2026-11-01T00:00:00Z") == (
        "subject_type:PRODUCT AND action:destroy AND created_at:>='2026-11-01T00:00:00Z'")


def test_a_missing_schema_fails_clearly(tmp_path):
    with pytest.raises(SchemaMissing, match="TOWER_SHOPIFY_ADMIN_SCHEMA"):
        load_schema(tmp_path / "admin-2026-04.graphql")


def test_the_schema_is_found_beside_the_repository():
    path = schema_path("2026-04")
    assert path.name == "admin-2026-04.graphql" and path.parent.name == "shopify"
    assert schema_path("2026-04", "/elsewhere/x.graphql").as_posix() == "/elsewhere/x.graphql"
