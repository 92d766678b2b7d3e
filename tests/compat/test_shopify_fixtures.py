"""Every real Shopify payload in ../shared/fixtures/shopify/ through the connector's and the webhook
handler's parsing code.

The fixtures are public live captures and documentation samples (sources in their SOURCES.md). They
are read from ``../shared/fixtures/shopify`` beside the repository and never copied into it; when
that folder is absent this module is skipped, and says so. A fixture added there without a check
here fails ``test_every_fixture_has_a_check``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "shopify"

pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(),
    reason=f"Shopify fixtures not found at {FIXTURES} (they live in ../shared beside the repository)",
)

from tower.connectors.retry import FatalError, NeedsReauth, RetriableError
from tower.connectors.shopify import bulk, records
from tower.connectors.shopify.client import QueryCost, classify_response
from tower.connectors.shopify.streams import connection_nodes
from tower.connectors.shopify.webhooks import (
    verify_app_proxy,
    verify_oauth_query,
    verify_webhook,
    webhook_hmac,
)
from tower.ports import DocQuery
from tower.sync.webhooks import WebhookHandler

CTX = records.BrandContext("compat", "America/New_York", "USD", "compat-salt")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def data_of(name: str) -> dict[str, Any]:
    result = classify_response(load(name))
    return result.data


# -- GraphQL Admin responses ------------------------------------------------------------------------------
def check_products_page(name: str) -> None:
    body = load(name)
    cost = QueryCost.from_extensions(body["extensions"])
    assert cost is not None and cost.throttle is not None and cost.throttle.maximum_available == 2000
    data = data_of(name)
    nodes = connection_nodes(data["products"])
    rows = [records.product_row(n, CTX) for n in nodes]
    assert rows and all(r["product_id"].startswith("gid://shopify/Product/") for r in rows)
    assert {r["status"] for r in rows} <= {"ACTIVE", "ARCHIVED", "DRAFT", "UNLISTED"}
    assert all(isinstance(r["updated_at"], datetime) and r["updated_at"].tzinfo for r in rows)
    assert data["productsCount"] == {"count": 13552, "precision": "EXACT"}  # counts are objects


def check_product_variants_levels(name: str) -> None:
    product = data_of(name)["product"]
    for v in connection_nodes(product["variants"]):
        row = records.variant_row(v, CTX, product_id=product["id"])
        assert row["product_id"] == product["id"] and isinstance(row["price_amount"], Decimal)
        assert row["unit_cost_amount"] is None  # this capture did not ask for unitCost
        item = v["inventoryItem"]
        for level in connection_nodes(item["inventoryLevels"]):
            node = {**level, "item": {"id": item["id"]}}
            lr = records.inventory_level_row(node, level["location"]["id"], date(2026, 1, 1), CTX)
            assert lr["available"] is not None and lr["on_hand"] is not None
            assert lr["committed"] is None  # not asked: stays unknown, never 0 by accident


def check_inventory_item_levels(name: str) -> None:
    item = data_of(name)["inventoryItem"]
    levels = connection_nodes(item["inventoryLevels"])
    assert len(levels) == 3
    for level in levels:
        row = records.inventory_level_row({**level, "item": {"id": item["id"]}}, level["location"]["id"],
                                          date(2026, 7, 19), CTX)
        assert row["inventory_item_id"] == item["id"] and isinstance(row["available"], int)


def check_location_levels_page(name: str) -> None:
    location = data_of(name)["location"]
    by_edges = connection_nodes({"edges": location["inventoryLevels"]["edges"]})
    by_nodes = connection_nodes({"nodes": location["inventoryLevels"]["nodes"]})
    assert by_edges == by_nodes  # the same connection answered both ways
    row = records.inventory_level_row(by_nodes[0], "gid://shopify/Location/1", date(2026, 7, 5), CTX)
    assert row["available"] == 7
    assert location["firstPage"]["pageInfo"]["hasNextPage"] is True


def check_orders_page(name: str) -> None:
    data = data_of(name)
    assert data["byIdMiss"]["nodes"] == []
    for conn in data.values():
        if not isinstance(conn, dict) or "nodes" not in conn:
            continue
        for node in conn["nodes"]:
            row = records.order_row(node, CTX)
            assert row["order_id"].startswith("gid://shopify/Order/")
            assert (row["order_date"] is not None) == ("createdAt" in node)
            assert row["customer_hash"] is None and "email" not in row


def check_orders_page2(name: str) -> None:
    page = data_of(name)["nextPage"]
    assert page["pageInfo"]["hasNextPage"] is False and page["pageInfo"]["hasPreviousPage"] is True
    assert all(records.order_row(n, CTX)["order_id"] for n in page["nodes"])


def check_order_addresses(name: str) -> None:
    order = data_of(name)["order"]
    row, lines = records.order_rows(order, CTX)
    assert row["shipping_region_code"] == "CA-ON" and row["shipping_zip_prefix"] == "M5H"
    assert row["discount_amount"] == Decimal("5.0") and row["tax_amount"] == Decimal("2.5")
    assert "Toronto" not in repr(row) and "Queen" not in repr(row) and "@" not in repr(row)
    assert lines[0]["variant_id"] == "gid://shopify/ProductVariant/48540157378793" and lines[0]["quantity"] == 2


def check_order_create_mutation(name: str) -> None:
    order = data_of(name)["orderCreate"]["order"]
    row, lines = records.order_rows(order, CTX)
    assert row["shipping_country_code"] == "CA" and lines and lines[0]["line_item_id"].startswith("gid://")
    assert lines[0]["price_amount"] is not None  # originalUnitPriceSet read in shop money


def check_order_refunds(name: str) -> None:
    order = data_of(name)["order"]
    assert isinstance(order["refunds"], list)  # Order.refunds is a plain list, not a connection
    for refund in order["refunds"]:
        assert records.shop_money(refund["totalRefundedSet"]) == Decimal("15.0")
    if order["refunds"]:
        assert records.shop_money(order["totalRefundedSet"]) == Decimal("15.0")


def check_refund_mutation(name: str) -> None:
    refund = data_of(name)["refundCreate"]["refund"]
    lines = connection_nodes(refund["refundLineItems"])  # a connection inside the refund
    assert lines[0]["quantity"] == 1 and records.shop_money(lines[0]["subtotalSet"]) == Decimal("0.0")
    assert records.parse_time(refund["createdAt"]) == datetime(2026, 6, 22, 23, 1, 18, tzinfo=UTC)


def check_doc_envelope(name: str) -> None:
    body = load(name)
    cost = QueryCost.from_extensions(body["extensions"])
    assert cost is not None and cost.throttle is not None
    assert (cost.throttle.maximum_available, cost.throttle.restore_rate) == (1000.0, 50.0)
    assert records.product_row(data_of(name)["product"], CTX)["handle"] == "aera-helmet"


def check_error(expected: type[Exception], code: str) -> Callable[[str], None]:
    def check(name: str) -> None:
        with pytest.raises(expected) as e:
            classify_response(load(name))
        assert e.value.code == code
        if expected is FatalError:
            assert not isinstance(e.value, RetriableError)

    return check


def check_max_input_size(name: str) -> None:
    body = load(name)
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    # A null actual cost alone is not a throttle: the code decides, and this one is fatal.
    check_error(FatalError, "MAX_INPUT_SIZE_EXCEEDED")(name)


# -- bulk operations --------------------------------------------------------------------------------------
def check_bulk_created(name: str) -> None:
    op = bulk.run_payload(data_of(name))
    assert op is not None and op["status"] == "CREATED" and op["id"].startswith("gid://shopify/BulkOperation/")
    progress = bulk.BulkProgress()
    progress.phase, progress.operation_id, progress.started_at = "poll", op["id"], op["createdAt"]
    assert bulk.BulkProgress.from_json(progress.to_json()).operation_id == op["id"]


def check_bulk_in_progress(name: str) -> None:
    assert bulk.run_payload(data_of(name)) is None  # wait and try again, not an error


def check_bulk_poll(status: str, *, url: bool, objects: int | None) -> Callable[[str], None]:
    def check(name: str) -> None:
        op = bulk.poll_payload(data_of(name))
        assert op is not None and op["status"] == status
        assert bool(op.get("url")) is url
        if objects is not None:
            assert op["objectCount"] == objects and isinstance(op["objectCount"], int)

    return check


def check_bulk_null(name: str) -> None:
    assert bulk.poll_payload(data_of(name)) is None


def check_bulk_jsonl(name: str) -> None:
    import tempfile

    import duckdb

    data = (FIXTURES / name).read_bytes()
    assert b"gid:\\/\\/shopify" in data  # Shopify escapes "/" in bulk files
    with tempfile.TemporaryDirectory() as tmp:
        paths = [f"{tmp}/a.jsonl", f"{tmp}/b.jsonl"]
        blocks = [Path(p).read_bytes() for p, _ in bulk.iter_block_files(iter([data[:100], data[100:]]), 0, paths, 64)]
        assert b"".join(blocks) == data
        path = f"{tmp}/export.jsonl"
        with open(path, "wb") as f:
            f.write(data)
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        sql, params = bulk.orders_query(path, CTX)
        parents = con.sql(sql, params=params).to_arrow_table().column("order_id").to_pylist()
        children = con.sql(bulk.CHILDREN_SQL, params={"path": path}).to_arrow_table().to_pylist()
        sql, params = bulk.items_query(path)
        items = con.sql(sql, params=params).to_arrow_table().num_rows
        con.close()
    assert parents == ["gid://shopify/Product/10243914727730"]  # unescaped
    # Three child lines point at it through __parentId; none is a line item (a variant, a media
    # image, a metafield): only the id's type tells a child's kind.
    assert [c["parent_id"] for c in children] == parents * 3
    assert items == 0


# -- webhooks and signatures --------------------------------------------------------------------------------
def check_hmac_webhook(name: str) -> None:
    example = load(name)
    body = example["body"].encode()
    assert webhook_hmac(example["secret"], body) == example["expected_x_shopify_hmac_sha256"]
    assert verify_webhook(example["secret"], body, example["expected_x_shopify_hmac_sha256"])
    assert not verify_webhook(example["secret"], body.replace(b"123.45", b"123.46"),
                              example["expected_x_shopify_hmac_sha256"])


def check_hmac_oauth_proxy(name: str) -> None:
    examples = load(name)
    oauth = examples["oauth_callback_query_hmac"]
    params = {**oauth["params"], "hmac": oauth["expected_hmac_hex"]}
    assert verify_oauth_query(oauth["secret"], params)
    assert not verify_oauth_query(oauth["secret"], {**params, "shop": "evil.myshopify.com"})
    proxy = examples["app_proxy_signature"]
    query = proxy["query_string"] + "&signature=" + proxy["expected_signature_hex"]
    assert verify_app_proxy(proxy["secret"], query)
    assert not verify_app_proxy(proxy["secret"], query.replace("extra=2", "extra=3"))


def check_webhook_order(name: str) -> None:
    payload = load(name)
    row, lines = records.order_rows_from_webhook(payload, CTX)
    assert row["order_id"] == "gid://shopify/Order/820982911946154508"  # > 2**53, exact
    assert row["customer_hash"] == CTX.customer_hash("gid://shopify/Customer/115310627314723954")
    assert row["shipping_region_code"] == "US-KY" and row["shipping_zip_prefix"] == "400"
    assert row["subtotal_amount"] == Decimal("414.95") and row["discount_amount"] == Decimal("20.00")
    assert row["order_date"] == date(2021, 12, 31) and row["cancelled_at"] is not None
    assert row["net_revenue_amount"] == 0
    assert "jon@example.com" not in repr(row) and "Shipping Street" not in repr(row)
    assert lines and all(li["line_item_id"].startswith("gid://shopify/LineItem/") for li in lines)


def check_rest_legacy_order(name: str) -> None:
    row, lines = records.order_rows_from_webhook(load(name)["order"], CTX)
    assert row["order_id"] == "gid://shopify/Order/450789469"
    # only the path and the advertising parameters are kept (records.landing_site): "source" is neither
    assert row["landing_site"] == "http://www.example.com/" and row["utm_source"] is None
    assert lines and lines[0]["quantity"] >= 1


def check_webhook_product(name: str) -> None:
    product, variants = records.product_rows_from_webhook(load(name), CTX)
    assert product["product_id"] == "gid://shopify/Product/788032119674292922" and product["status"] == "ACTIVE"
    assert [v["price_amount"] for v in variants] == [Decimal("19.99"), Decimal("19.99")]
    assert all("inventory_item_id" not in v for v in variants)  # null in the sample: left to the poller


def check_webhook_inventory_level(name: str) -> None:
    row = records.inventory_row_from_webhook(load(name), CTX)
    assert row["available"] == 10 and row["snapshot_date"] == date(2021, 12, 31)
    assert row["inventory_item_id"] == "gid://shopify/InventoryItem/271878346596884015"


def check_webhook_inventory_item(name: str) -> None:
    item_id, cost, updated = records.unit_cost_from_webhook(load(name))
    assert item_id == "gid://shopify/InventoryItem/271878346596884015" and cost is None and updated is not None


def deliver(topic: str) -> Callable[[str], None]:
    """Sign the sample as Shopify would and run it through the webhook handler."""

    def check(name: str) -> None:
        import tempfile

        from tower.adapters.duckdb_warehouse import DuckDBWarehouse
        from tower.adapters.local_secrets import LocalSecrets
        from tower.adapters.local_store import LocalStore
        from tower.brands import add_brand
        from tower.sync.connect import connect_shopify

        now = datetime(2026, 11, 23, tzinfo=UTC)
        with tempfile.TemporaryDirectory() as tmp:
            wh = DuckDBWarehouse(":memory:")
            wh.init_schema()
            secrets, store = LocalSecrets(f"{tmp}/secrets"), LocalStore(f"{tmp}/store.sqlite")
            add_brand(wh, brand_id="compat", name="Compat", timezone="America/New_York", currency="USD", now=now)
            connect_shopify(wh, secrets, brand_id="compat", shop="compat-shop.myshopify.com", token="t", now=now)
            body = (FIXTURES / name).read_bytes()
            headers = {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": "compat-shop.myshopify.com",
                       "X-Shopify-Webhook-Id": f"compat-{topic}", "X-Shopify-Hmac-Sha256": webhook_hmac("k", body)}
            handler = WebhookHandler(warehouse=wh, store=store, secrets=secrets, app_secret="k", now=lambda: now)
            response = handler.handle(body, headers)
            assert response.status == 200 and response.body["status"] == "processed", response.body
            if topic == "app/uninstalled":
                assert wh.rows("SELECT status FROM integrations")[0]["status"] == "uninstalled"
            elif topic in ("customers/redact", "customers/data_request", "shop/redact"):
                docs = store.query(DocQuery("brands/compat/privacy_requests"))
                assert [d["topic"] for _, d in docs] == [topic]
            wh.close()

    return check


CHECKS: dict[str, Callable[[str], None]] = {
    "graphql_products_page.json": check_products_page,
    "graphql_product_variants_inventory_levels.json": check_product_variants_levels,
    "graphql_inventory_item_levels_by_location.json": check_inventory_item_levels,
    "graphql_location_inventory_levels_page.json": check_location_levels_page,
    "graphql_orders_page.json": check_orders_page,
    "graphql_orders_page2_after_cursor.json": check_orders_page2,
    "graphql_order_addresses_totals_lineitems.json": check_order_addresses,
    "graphql_order_create_mutation_response.json": check_order_create_mutation,
    "graphql_order_before_refund.json": check_order_refunds,
    "graphql_order_after_refund.json": check_order_refunds,
    "graphql_refund_create_mutation_response.json": check_refund_mutation,
    "graphql_product_single_envelope_doc_example.json": check_doc_envelope,
    "graphql_error_access_denied.json": check_error(NeedsReauth, "ACCESS_DENIED"),
    "graphql_error_internal_server_error.json": check_error(RetriableError, "INTERNAL_SERVER_ERROR"),
    "graphql_error_parse_error.json": check_error(FatalError, "PARSE_ERROR"),
    "graphql_error_max_input_size_exceeded.json": check_max_input_size,
    "bulk_run_query_created.json": check_bulk_created,
    "bulk_run_query_already_in_progress_usererror.json": check_bulk_in_progress,
    "bulk_poll_by_id_created.json": check_bulk_poll("CREATED", url=False, objects=0),
    "bulk_poll_by_id_completed.json": check_bulk_poll("COMPLETED", url=True, objects=4),
    "bulk_current_bulk_operation_completed.json": check_bulk_poll("COMPLETED", url=True, objects=None),
    "bulk_current_bulk_operation_canceled.json": check_bulk_poll("CANCELED", url=False, objects=1459),
    "bulk_current_bulk_operation_null.json": check_bulk_null,
    "bulk_products_variants_media_metafields.jsonl": check_bulk_jsonl,
    "hmac_webhook_example.json": check_hmac_webhook,
    "hmac_oauth_and_app_proxy_examples.json": check_hmac_oauth_proxy,
    "webhook_orders_create.json": check_webhook_order,
    "rest_legacy_order.json": check_rest_legacy_order,
    "webhook_products_update.json": check_webhook_product,
    "webhook_inventory_levels_update.json": check_webhook_inventory_level,
    "webhook_inventory_items_update.json": check_webhook_inventory_item,
    "webhook_app_uninstalled.json": deliver("app/uninstalled"),
    "webhook_customers_redact.json": deliver("customers/redact"),
    "webhook_customers_data_request.json": deliver("customers/data_request"),
    "webhook_shop_redact.json": deliver("shop/redact"),
}


def test_every_fixture_has_a_check():
    present = {p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".jsonl")}
    assert present == set(CHECKS), f"unchecked: {sorted(present - set(CHECKS))}; gone: {sorted(set(CHECKS) - present)}"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_fixture_goes_through_the_connectors_parsing(name):
    CHECKS[name](name)
