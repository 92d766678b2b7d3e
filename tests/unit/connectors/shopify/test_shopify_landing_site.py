"""``orders.landing_site`` keeps the landing page's site, path and ad parameters only.

The query string of a landing page can carry whatever the link's author appended: an e-mail address a mailing
tool adds, a discount code given to one person. Attribution reads only the UTM tags and the click ids
(``stg_shopify__orders`` looks for gclid / gbraid / wbraid / msclkid in it), so every other parameter and the
fragment are dropped by every reader: the paged one (records.order_row), the webhook one, and the bulk
parsers (DuckDB; BigQuery's statement mirrors it). Orders are the real captures of ../shared/fixtures/shopify.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from tower.connectors.shopify import bulk, records
from tower_dev.sandboxes.shopify_store.bulk import encode_line

FIXTURES = Path(__file__).resolve().parents[4].parent / "shared" / "fixtures" / "shopify"
CTX = records.BrandContext("landing", "America/Chicago", "USD", "landing-salt")

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"Shopify fixtures not found at {FIXTURES}")

# A hand-made newsletter link: the reader's address, a personal code and a fragment around the ad parameters.
PERSONAL = ("https://landing.example/collections/mugs?email=ann.lee%40mail.example&utm_source=klaviyo"
            "&code=ANN-20&GCLID=Cj0KC&utm_campaign=May+Sale&gbraid=0AAAA&wbraid=&utm%5Fmedium=email#ann")

CASES = [
    (PERSONAL, ("https://landing.example/collections/mugs?utm_source=klaviyo&GCLID=Cj0KC&utm_campaign=May+Sale"
                "&gbraid=0AAAA&wbraid=&utm%5Fmedium=email")),
    ("https://landing.example/p/mug?fbclid=IwAR1&ttclid=E.C.P.2&msclkid=m3&utm_id=9&utm_term=mugs&utm_content=a",
     "https://landing.example/p/mug?fbclid=IwAR1&ttclid=E.C.P.2&msclkid=m3&utm_id=9&utm_term=mugs&utm_content=a"),
    ("https://landing.example?ref=ann&discount=ANN10#top", "https://landing.example/"),
    ("https://landing.example/p/mug", "https://landing.example/p/mug"),
    ("https://landing.example/p/mug?&&gclid_x=1&xgclid=2", "https://landing.example/p/mug"),
    (None, None),
]


def _order(landing: str | None) -> dict[str, Any]:
    body = json.loads((FIXTURES / "graphql_order_addresses_totals_lineitems.json").read_text())
    order = copy.deepcopy(body["data"]["order"])
    visit = {"landingPage": landing, "referrerUrl": None, "source": "klaviyo", "sourceType": None,
             "utmParameters": None}
    order["customerJourneySummary"] = {"firstVisit": visit, "lastVisit": visit}
    return order


def _bulk_rows(orders: list[dict[str, Any]], tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(encode_line({k: v for k, v in o.items() if k not in ("lineItems", "refunds",
                                                                                     "fulfillmentOrders")})
                              for o in orders))
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        sql, params = bulk.orders_query(str(path), CTX)
        return con.sql(sql, params=params).to_arrow_table().to_pylist()
    finally:
        con.close()


@pytest.mark.parametrize("landing,kept", CASES, ids=["personal", "every-ad-parameter", "no-path", "no-query",
                                                     "look-alikes", "no-landing"])
def test_only_the_site_path_and_ad_parameters_are_kept(landing: str | None, kept: str | None) -> None:
    assert records.landing_site(landing) == kept


def test_paged_and_bulk_readers_keep_the_same_landing_site(tmp_path: Path) -> None:
    orders = []
    for n, (landing, _) in enumerate(CASES):
        order = _order(landing)
        order["id"] = f"gid://shopify/Order/{900 + n}"
        orders.append(order)
    paged = [records.order_row(o, CTX) for o in orders]
    bulk_rows = {r["order_id"]: r for r in _bulk_rows(orders, tmp_path)}
    assert [p["landing_site"] for p in paged] == [k for _, k in CASES]
    assert [bulk_rows[p["order_id"]]["landing_site"] for p in paged] == [k for _, k in CASES]
    # the ad parameters are still read into their columns from the page as visited
    first = paged[0]
    assert (first["utm_source"], first["utm_campaign"], first["gclid"]) == ("klaviyo", "May Sale", None)
    for row in [*paged, *bulk_rows.values()]:
        assert not any(s in str(v) for v in row.values() for s in ("ann.lee", "ANN-20", "ANN10"))


def test_a_real_rest_order_keeps_its_site_without_the_other_parameters() -> None:
    # The legacy REST capture's landing_site is "http://www.example.com?source=abc": `source` is not a UTM tag.
    body = json.loads((FIXTURES / "rest_legacy_order.json").read_text())
    payload = body.get("order", body)
    assert payload["landing_site"] == "http://www.example.com?source=abc"
    row, _ = records.order_rows_from_webhook(payload, CTX, shop_domain="landing.myshopify.com")
    assert row["landing_site"] == "http://www.example.com/"


def test_a_webhook_path_is_kept_on_the_shop_domain_with_its_ad_parameters_only() -> None:
    body = json.loads((FIXTURES / "rest_legacy_order.json").read_text())
    payload = dict(body.get("order", body), landing_site="/products/mug?utm_source=tiktok&ttclid=E.C.P.x&email=a%40b.c")
    row, _ = records.order_rows_from_webhook(payload, CTX, shop_domain="landing.myshopify.com")
    assert row["landing_site"] == "https://landing.myshopify.com/products/mug?utm_source=tiktok&ttclid=E.C.P.x"
    assert row["ttclid"] == "E.C.P.x"


def test_the_bigquery_statement_reads_the_landing_site_the_same_way() -> None:
    # BigQuery itself is not run here: the statement parses, and its landing_site expression, transpiled to
    # DuckDB (whose url_decode stands in for the statement's temporary function), keeps what records keeps.
    sqlglot.parse_one(bulk.BIGQUERY_ORDERS, read="bigquery")
    pages = [landing for landing, _ in CASES if landing is not None]
    statement = (f"SELECT {bulk._bq_landing_site('page')} AS s FROM (SELECT page, "
                 f"REGEXP_EXTRACT(page, r'^[^?#]*\\?([^#]*)') AS qs FROM UNNEST([{', '.join(map(repr, pages))}]) "
                 "AS page WITH OFFSET AS o ORDER BY o)")
    got = [r[0] for r in duckdb.connect().execute(sqlglot.transpile(statement, read="bigquery",
                                                                    write="duckdb")[0]).fetchall()]
    assert got == [kept for landing, kept in CASES if landing is not None]
