"""Payload → row mapping on small literal inputs (the shapes of Shopify's live captures)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa

from tower.connectors.shopify import bulk, records
from tower.privacy import customer_hash
from tower_dev.sandboxes.shopify_store.bulk import encode_line

CTX = records.BrandContext("acme", "America/Chicago", "USD", "pepper")


def money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


ORDER = {
    "id": "gid://shopify/Order/5810000000002", "name": "#1001",
    "createdAt": "2026-11-02T03:30:00Z", "processedAt": "2026-11-02T03:30:00Z",
    "updatedAt": "2026-11-05T10:00:00Z", "cancelledAt": None, "currencyCode": "USD", "sourceName": "web",
    "subtotalPriceSet": money("54.0"), "totalDiscountsSet": money("6.0"), "totalShippingPriceSet": money("5.0"),
    "totalTaxSet": money("4.73"), "totalPriceSet": money("63.73"), "currentSubtotalPriceSet": money("36.0"),
    "shippingAddress": {"countryCodeV2": "US", "provinceCode": "TX", "zip": "78701-1234"},
    "customer": {"id": "gid://shopify/Customer/7300000000042"},
    "customerJourneySummary": {
        "firstVisit": {"landingPage": "https://acme.example/?utm_source=google", "referrerUrl": None,
                       "source": "google", "utmParameters": {"source": "google", "medium": None, "campaign": None,
                                                             "content": None, "term": None}},
        "lastVisit": {"landingPage": "https://acme.example/products/fig?utm_source=facebook&utm_medium=paid_social"
                                     "&utm_campaign=Fall%20Sale&utm_content=Reel+2&fbclid=IwAR_abc-1#top",
                      "referrerUrl": "https://l.facebook.com/", "source": "facebook", "utmParameters": None},
    },
    "lineItems": {"nodes": [{
        "id": "gid://shopify/LineItem/1", "sku": "ACM-FIG-8", "quantity": 3, "currentQuantity": 2,
        "originalUnitPriceSet": money("18.0"), "totalDiscountSet": money("6.0"),
        "variant": {"id": "gid://shopify/ProductVariant/9"}, "product": {"id": "gid://shopify/Product/8"}}]},
}


def test_an_order_maps_to_the_ddl_row_with_exact_money_and_no_personal_data():
    row, lines = records.order_rows(ORDER, CTX)
    assert row["order_date"] == date(2026, 11, 1)  # 03:30 UTC is the evening before in Chicago
    assert row["created_at"] == datetime(2026, 11, 2, 3, 30, tzinfo=UTC)
    assert row["subtotal_amount"] == Decimal("60.0")  # after-discount subtotal + the discounts
    assert row["discount_amount"] == Decimal("6.0")
    assert row["refunded_amount"] == Decimal("18.0")  # merchandise: 54.0 - 36.0
    assert row["net_revenue_amount"] == Decimal("36.0")
    assert row["shipping_region_code"] == "US-TX"
    assert row["shipping_zip_prefix"] == "787"
    assert row["customer_hash"] == customer_hash("pepper", "gid://shopify/Customer/7300000000042")
    assert "7300000000042" not in repr(row)
    assert set(row) == {f.name for f in records.table_schema("orders")}
    assert lines[0]["refunded_quantity"] == 1
    assert lines[0]["order_date"] == row["order_date"]
    assert set(lines[0]) == {f.name for f in records.table_schema("order_line_items")}


def test_the_last_visit_gives_landing_utm_and_click_ids_decoded():
    row = records.order_row(ORDER, CTX)
    assert row["landing_site"].startswith("https://acme.example/products/fig?")
    assert row["referrer_url"] == "https://l.facebook.com/"
    assert (row["utm_source"], row["utm_medium"], row["utm_campaign"], row["utm_content"]) == (
        "facebook", "paid_social", "Fall Sale", "Reel 2")
    assert row["fbclid"] == "IwAR_abc-1" and row["gclid"] is None and row["ttclid"] is None


def test_utm_parameters_shopify_parsed_win_over_the_query_string():
    order = {**ORDER, "customerJourneySummary": {"lastVisit": {
        "landingPage": "https://a.example/?utm_source=x", "referrerUrl": None, "source": "y",
        "utmParameters": {"source": "tiktok", "medium": None, "campaign": None, "content": None, "term": None}}}}
    assert records.order_row(order, CTX)["utm_source"] == "tiktok"


def test_a_cancelled_order_nets_zero():
    row = records.order_row({**ORDER, "cancelledAt": "2026-11-02T04:00:00Z"}, CTX)
    assert row["net_revenue_amount"] == 0


def test_the_columnar_bulk_parser_agrees_with_the_row_mapper(tmp_path):
    import duckdb

    line = {k: v for k, v in ORDER.items() if k != "lineItems"}
    item = {**ORDER["lineItems"]["nodes"][0], "__parentId": ORDER["id"]}
    path = tmp_path / "export.jsonl"
    path.write_bytes(encode_line(line) + encode_line(item))
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    sql, params = bulk.orders_query(str(path), CTX)
    orders = con.sql(sql, params=params).to_arrow_table().to_pylist()
    sql, params = bulk.items_query(str(path))
    items = con.sql(sql, params=params).to_arrow_table().to_pylist()
    con.close()
    row, lines = records.order_rows(ORDER, CTX)
    assert orders == [dict(row)]
    # The parse gives a line item's own fields; its order's date and currency come with the load.
    assert items == [{k: v for k, v in lines[0].items() if k not in ("brand_id", "order_date", "currency")}]


def test_a_webhook_order_maps_to_the_same_row_shape():
    payload = {
        "id": 820982911946154508, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "name": "#9999", "created_at": "2026-11-01T22:30:00-05:00", "updated_at": "2026-11-01T22:31:00-05:00",
        "processed_at": "2026-11-01T22:30:00-05:00", "cancelled_at": None, "currency": "USD",
        "subtotal_price": "54.00", "current_subtotal_price": "54.00", "total_line_items_price": "60.00",
        "total_discounts_set": {"shop_money": {"amount": "6.00", "currency_code": "USD"}},
        "total_shipping_price_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}},
        "total_tax": "4.73", "total_price": "63.73", "source_name": "web",
        "landing_site": "/products/fig?utm_source=tiktok&ttclid=E.C.P.x", "referring_site": "https://www.tiktok.com/",
        "customer": {"id": 115310627314723954, "admin_graphql_api_id": "gid://shopify/Customer/115310627314723954"},
        "shipping_address": {"zip": "K2H 7A8", "province_code": "ON", "country_code": "CA"},
        "line_items": [{"id": 866550311766439020, "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
                        "variant_id": 808950810, "product_id": 632910392, "sku": "X", "quantity": 2,
                        "current_quantity": 2, "price": "30.00", "total_discount": "6.00"}],
    }
    row, lines = records.order_rows_from_webhook(payload, CTX)
    assert row["order_id"] == "gid://shopify/Order/820982911946154508"  # > 2**53, kept exact
    assert row["order_date"] == date(2026, 11, 1)
    assert row["subtotal_amount"] == Decimal("60.00") and row["refunded_amount"] == 0
    assert row["shipping_zip_prefix"] == "K2H" and row["shipping_region_code"] == "CA-ON"
    assert row["utm_source"] == "tiktok" and row["ttclid"] == "E.C.P.x"
    # The numeric customer id and the gid hash the same, so webhooks and polls agree.
    assert row["customer_hash"] == CTX.customer_hash("gid://shopify/Customer/115310627314723954")
    assert row["customer_hash"] == CTX.customer_hash(115310627314723954)
    assert lines[0]["variant_id"] == "gid://shopify/ProductVariant/808950810"
    assert set(row) == {f.name for f in records.table_schema("orders")}


def test_inventory_quantities_by_name_become_the_snapshot_row():
    node = {"id": "gid://shopify/InventoryLevel/1?inventory_item_id=2", "updatedAt": "2026-11-22T15:00:00Z",
            "item": {"id": "gid://shopify/InventoryItem/2", "variants": {"nodes": [{"id": "gid://shopify/ProductVariant/3"}]}},
            "quantities": [{"name": "available", "quantity": 7, "updatedAt": "2026-11-22T15:00:00Z"},
                           {"name": "committed", "quantity": 1, "updatedAt": None},
                           {"name": "on_hand", "quantity": 8, "updatedAt": None},
                           {"name": "incoming", "quantity": 0, "updatedAt": None}]}
    row = records.inventory_level_row(node, "gid://shopify/Location/1", date(2026, 11, 22), CTX)
    assert (row["available"], row["committed"], row["on_hand"], row["incoming"]) == (7, 1, 8, 0)
    assert row["variant_id"] == "gid://shopify/ProductVariant/3"


def test_variant_unit_cost_comes_from_its_inventory_item():
    node = {"id": "gid://shopify/ProductVariant/3", "sku": "S", "title": "8 oz", "price": "19.99",
            "updatedAt": "2026-11-01T00:00:00Z", "product": {"id": "gid://shopify/Product/1"},
            "inventoryItem": {"id": "gid://shopify/InventoryItem/2", "unitCost": {"amount": "7.15", "currencyCode": "USD"}}}
    row = records.variant_row(node, CTX)
    assert row["price_amount"] == Decimal("19.99") and row["unit_cost_amount"] == Decimal("7.15")
    assert row["inventory_item_id"] == "gid://shopify/InventoryItem/2"


def test_rows_become_tables_typed_like_the_ddl():
    row = records.order_row(ORDER, CTX)
    table = records.to_table("orders", [row])
    assert table.schema.field("subtotal_amount").type == pa.decimal128(38, 9)
    assert table.schema.field("order_date").type == pa.date32()
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")


def test_a_products_picture_is_its_featured_medias_preview_image():
    """``featuredMedia { preview { image } }`` (``featuredImage`` is deprecated); a product without
    media, or whose upload Shopify has not processed yet (``image: null``), has none."""
    node = {"id": "gid://shopify/Product/7", "handle": "fig", "title": "Fig Candle", "status": "ACTIVE",
            "createdAt": "2026-10-01T00:00:00Z", "updatedAt": "2026-11-01T00:00:00Z",
            "featuredMedia": {"preview": {"image": {
                "url": "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/fig.jpg?v=1700000000",
                "altText": "A fig candle on a shelf"}}}}
    row = records.product_row(node, CTX)
    assert row["image_url"] == "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/fig.jpg?v=1700000000"
    assert row["image_alt"] == "A fig candle on a shelf"
    assert set(row) == {f.name for f in records.table_schema("products")}
    processing = records.product_row({**node, "featuredMedia": {"preview": {"image": None}}}, CTX)
    bare = records.product_row({**node, "featuredMedia": None}, CTX)
    assert (processing["image_url"], bare["image_url"], bare["image_alt"]) == (None, None, None)


def test_a_product_webhook_carries_its_featured_image_or_its_removal():
    body = {"id": 7, "admin_graphql_api_id": "gid://shopify/Product/7", "title": "Fig", "status": "active",
            "updated_at": "2026-11-01T00:00:00-05:00", "variants": [],
            "image": {"src": "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/fig.jpg?v=1", "alt": None}}
    product, _ = records.product_rows_from_webhook(body, CTX)
    assert product["image_url"].endswith("/files/fig.jpg?v=1") and product["image_alt"] is None
    removed, _ = records.product_rows_from_webhook({**body, "image": None}, CTX)
    assert removed["image_url"] is None
    # a body without the key says nothing about the picture: the MERGE keeps the stored one
    silent, _ = records.product_rows_from_webhook({k: v for k, v in body.items() if k != "image"}, CTX)
    assert "image_url" not in silent
