"""Shopify's customerJourneySummary: the visit's source and tactic are kept, the landing page also as a path, the
referrer only as its site.

The order is the real ``graphql_order_addresses_totals_lineitems.json`` capture (../shared/fixtures/shopify).
No public capture carries a customerJourneySummary (the fixtures' SOURCES.md says so), so one is added to it in
the shape of Shopify's real 2026-04 Admin schema (../shared/schemas/shopify): ``CustomerVisit.source``
(String!), ``sourceType`` (MarketingTactic), ``landingPage`` and ``referrerUrl`` (URL), ``utmParameters``.
The paged reader (records.order_row) and the bulk parser (DuckDB) must store the same columns.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tower.connectors.shopify import bulk, records
from tower.connectors.shopify.schema import load_schema, schema_path
from tower_dev.sandboxes.shopify_store.bulk import encode_line

FIXTURES = Path(__file__).resolve().parents[4].parent / "shared" / "fixtures" / "shopify"
CTX = records.BrandContext("journey", "Europe/Berlin", "EUR", "journey-salt")
JOURNEY = ("journey_source", "journey_source_type", "landing_path", "referrer_url", "utm_source", "utm_medium",
           "utm_campaign")

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"Shopify fixtures not found at {FIXTURES}")


def _order(visit: dict[str, Any] | None) -> dict[str, Any]:
    body = json.loads((FIXTURES / "graphql_order_addresses_totals_lineitems.json").read_text())
    order = copy.deepcopy(body["data"]["order"])
    order["customerJourneySummary"] = None if visit is None else {"firstVisit": visit, "lastVisit": visit}
    return order


NEWSLETTER = {
    # an e-mail tool that appends the reader's address to the link: the address must not be stored
    "landingPage": "https://journey.example/products/mug?utm_source=klaviyo&utm_campaign=May&email=ann%40x.de#top",
    "referrerUrl": "https://mail.example/inbox?user=ann@x.de",
    "source": "klaviyo",
    "sourceType": "NEWSLETTER",
    "utmParameters": {"source": "klaviyo", "medium": None, "campaign": "May", "content": None, "term": None},
}


def _bulk_row(order: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "export.jsonl"
    node = {k: v for k, v in order.items() if k not in ("lineItems", "refunds", "fulfillmentOrders")}
    path.write_bytes(encode_line(node))
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        sql, params = bulk.orders_query(str(path), CTX)
        [row] = con.sql(sql, params=params).to_arrow_table().to_pylist()
    finally:
        con.close()
    return row


def test_the_fields_read_are_the_real_schemas() -> None:
    visit = load_schema(schema_path("2026-04")).get_type("CustomerVisit")
    assert {"source", "sourceType", "landingPage", "referrerUrl", "utmParameters"} <= set(visit.fields)
    assert str(visit.fields["sourceType"].type) == "MarketingTactic"


@pytest.mark.parametrize("visit,want", [
    (NEWSLETTER, ("klaviyo", "NEWSLETTER", "/products/mug", "https://mail.example/", "klaviyo", None, "May")),
    ({"landingPage": "https://journey.example/", "referrerUrl": "https://www.google.com/search?q=mug",
      "source": "google", "sourceType": "SEO", "utmParameters": None},
     ("google", "SEO", "/", "https://www.google.com/", None, None, None)),
    ({"landingPage": None, "referrerUrl": "android-app://com.google.android.gm", "source": "direct",
      "sourceType": None, "utmParameters": None},
     ("direct", None, None, "android-app://com.google.android.gm/", None, None, None)),
    (None, (None, None, None, None, None, None, None)),
], ids=["newsletter", "organic-search", "direct", "no-journey"])
def test_paged_and_bulk_readers_store_the_journey_alike(visit, want, tmp_path: Path) -> None:
    order = _order(visit)
    paged, _ = records.order_rows(order, CTX)
    assert tuple(paged[c] for c in JOURNEY) == want
    row = _bulk_row(order, tmp_path)
    assert tuple(row[c] for c in JOURNEY) == want
    # neither the stored path nor the referring site holds a query string: the reader's address stays out
    assert all("ann" not in str(paged[c]) for c in JOURNEY)
