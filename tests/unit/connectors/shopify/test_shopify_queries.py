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
            "order_line_items", "bulk_orders", "bulk_run", "bulk_poll"} <= set(st.document_names())


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


@pytest.mark.parametrize("stream", st.STREAMS, ids=lambda s: s.name)
def test_every_page_stays_under_the_single_query_cost_limit(schema, stream):
    doc = parse(st.load_document(stream.document))
    op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    variables = {"first": stream.page_size, **stream.extra_variables}
    cost = CostCalculator(schema, op, frags, variables).requested()
    assert cost <= MAX_QUERY_COST
    # ...and uses the room: a page a third bigger would not fit or is already the 250 maximum.
    bigger = {**variables, "first": int(stream.page_size * 1.34) + 1}
    assert stream.page_size >= 150 or CostCalculator(schema, op, frags, bigger).requested() > MAX_QUERY_COST


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
