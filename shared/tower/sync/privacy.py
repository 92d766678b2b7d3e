"""Shopify's mandatory privacy topics, for real: what we hold about a customer, and erasing it.

The warehouse holds, per order, these personal fields (:data:`PERSONAL_ORDER_FIELDS`): the salted
customer hash, the ZIP prefix, and the visit — the landing page (its query string carries the
click ids), the referrer URL and the click ids themselves (``fbclid``, ``ttclid``, ``gclid``
identify one ad click, so one person). ``customers/redact`` nulls them on that customer's orders
(by hash and by the order ids Shopify lists) and deletes those gclids' rows of ``google_click_views``;
``shop/redact`` does it for every order of the shop (every click view of the brand goes) and also
ends the brand's connections: every integration is marked ``disconnected`` and its token, like the
brand's customer-hash salt, is deleted from the secret store. Each redaction is recorded in the
document store (``brands/<brand>/privacy_requests/<id>``) with what was done. A suppression entry
keyed by a hash *of* the customer hash (``brands/<brand>/redacted_customers/<key>``) stops later
syncs from writing the fields again; ``customers/data_request`` records what we hold for the
merchant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tower import names
from tower.connectors.shopify.records import CLICK_IDS, landing_site, referrer_origin
from tower.ports import DocQuery, DocumentStore, Secrets, Warehouse
from tower.sync import shopify_tokens

#: The order columns that identify or point at a person; UTM values name campaigns, not people.
PERSONAL_ORDER_FIELDS = ("customer_hash", "shipping_zip_prefix", "landing_site", "referrer_url", *CLICK_IDS)
SHOP_REDACTED = "shop_redacted"
#: ``integrations.status`` after ``shop/redact``: the tokens are gone; syncs refuse the brand.
DISCONNECTED = "disconnected"
_NULL_PERSONAL = ", ".join(f"{f} = NULL" for f in PERSONAL_ORDER_FIELDS)
#: The rule the stored visit columns follow (``records.landing_site``: site, path and advertising
#: parameters only; ``records.referrer_origin``: the referring site only). Raise it when either rule
#: changes: each brand's orders stored under an older rule are then rewritten once, at its next sync.
VISIT_RULE = "visit-v1"
# Rows an older rule may have left too much on: a landing page with a query string or a fragment, or a
# referrer with anything after its site. The rest cannot change, so they are never read.
_STORED_VISITS = (
    "SELECT order_id, landing_site, referrer_url FROM orders WHERE brand_id = @brand_id "
    "AND (STRPOS(COALESCE(landing_site, ''), '?') > 0 OR STRPOS(COALESCE(landing_site, ''), '#') > 0 "
    "OR REGEXP_CONTAINS(COALESCE(referrer_url, ''), r'^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*[/?#].'))"
)


def suppression_key(customer_hash: str) -> str:
    """The document id that marks a customer hash as redacted (not the hash itself)."""
    return hashlib.sha256(f"redacted:{customer_hash}".encode()).hexdigest()


def load_suppressions(store: DocumentStore | None, brand_id: str) -> tuple[set[str], bool]:
    """``(suppression keys, whole shop redacted)`` for a brand."""
    if store is None:
        return set(), False
    keys = {path.rsplit("/", 1)[-1] for path, _ in store.query(DocQuery(f"brands/{brand_id}/redacted_customers"))}
    brand = store.get(f"brands/{brand_id}") or {}
    return keys, bool(brand.get(SHOP_REDACTED))


def suppress_rows(rows: Sequence[dict[str, Any]], keys: set[str], whole_shop: bool) -> None:
    """Null the personal fields of rows whose customer was redacted (in place)."""
    if not keys and not whole_shop:
        return
    for r in rows:
        h = r.get("customer_hash")
        if whole_shop or (h and suppression_key(h) in keys):
            for f in PERSONAL_ORDER_FIELDS:
                r[f] = None


def suppress_table(table: pa.Table, keys: set[str], whole_shop: bool) -> pa.Table:
    """The same for an Arrow orders table."""
    if (not keys and not whole_shop) or table.num_rows == 0:
        return table
    hashes = table.column("customer_hash")
    if whole_shop:
        mask = pa.array([True] * table.num_rows)
    else:
        uniques = [h for h in pc.unique(hashes).to_pylist() if h]
        hit = pa.array([h for h in uniques if suppression_key(h) in keys], pa.string())
        if len(hit) == 0:
            return table
        mask = pc.fill_null(pc.is_in(hashes, value_set=hit), False)
    for f in PERSONAL_ORDER_FIELDS:
        i = table.schema.get_field_index(f)
        col = table.column(i)
        table = table.set_column(i, f, pc.if_else(mask, pa.scalar(None, col.type), col))
    return table


@dataclass(frozen=True)
class CustomerRequest:
    """A ``customers/redact`` or ``customers/data_request`` delivery: whose orders, and its record.

    Attributes:
        customer_hash: The customer's salted hash (None: the brand has no salt, or no customer id).
        order_ids: The order gids Shopify lists with the request.
        request_id: The id of its record (``brands/<brand>/privacy_requests/<id>``).
        data_request_id: Shopify's own id of a data request.
    """

    brand_id: str
    customer_hash: str | None
    order_ids: Sequence[str]
    request_id: str
    now: datetime
    data_request_id: Any = None

    def orders(self) -> tuple[str, dict[str, Any]]:
        """The ``WHERE`` condition and parameters of the customer's orders (by hash or listed id)."""
        params: dict[str, Any] = {"brand_id": self.brand_id, "customer_hash": self.customer_hash or "",
                                  "order_ids": sorted(set(self.order_ids))}
        return ("brand_id = @brand_id AND (customer_hash = @customer_hash OR order_id IN UNNEST(@order_ids))",
                params)


def rewrite_stored_visits(warehouse: Warehouse, brand_id: str) -> int:
    """Rewrite the brand's stored landing pages and referrers by today's rule (:data:`VISIT_RULE`), through
    the same functions every reader uses; return how many orders changed.

    Orders stored before the rule kept whole URLs, whose other parameters can carry an e-mail address
    or a customer id. Only the two columns are written (a MERGE on the order's natural key), so running
    it again changes nothing. One pass over the brand's orders, so it runs once per rule, not per sync.
    """
    changed = []
    for r in warehouse.rows(_STORED_VISITS, {"brand_id": brand_id}):
        landing, referrer = landing_site(r["landing_site"]), referrer_origin(r["referrer_url"])
        if (landing, referrer) != (r["landing_site"], r["referrer_url"]):
            changed.append({"brand_id": brand_id, "order_id": r["order_id"], "landing_site": landing,
                            "referrer_url": referrer})
    if changed:
        warehouse.merge("orders", changed, keys=("brand_id", "order_id"))
    return len(changed)


def redact_customer(warehouse: Warehouse, store: DocumentStore, request: CustomerRequest) -> dict[str, Any]:
    """Null a customer's personal fields on their orders and record that it was done."""
    where, params = request.orders()
    matched = warehouse.rows(f"SELECT COUNT(*) AS n FROM orders WHERE {where}", params)[0]["n"]
    # Google's record of the customer's clicks goes first, while the orders still name their gclids.
    warehouse.execute("DELETE FROM google_click_views WHERE brand_id = @brand_id AND gclid IN "
                      f"(SELECT gclid FROM orders WHERE {where} AND gclid IS NOT NULL)", params)
    warehouse.execute(f"UPDATE orders SET {_NULL_PERSONAL} WHERE {where}", params)
    if request.customer_hash:
        store.set(f"brands/{request.brand_id}/redacted_customers/{suppression_key(request.customer_hash)}",
                  {"redacted_at": request.now})
    record = {"topic": "customers/redact", "orders_redacted": int(matched), "order_ids": params["order_ids"],
              "fields": list(PERSONAL_ORDER_FIELDS), "completed_at": request.now}
    store.set(f"brands/{request.brand_id}/privacy_requests/{request.request_id}", record)
    return record


def redact_shop(warehouse: Warehouse, store: DocumentStore, secrets: Secrets, brand_id: str, *,
                request_id: str, now: datetime) -> dict[str, Any]:
    """``shop/redact`` (48 hours after uninstall): null the personal fields of every order, mark
    every integration of the brand ``disconnected`` and delete its token and the customer-hash salt.

    Idempotent: a redelivery finds nothing left to null and deletes secrets that are already gone.
    """
    params = {"brand_id": brand_id}
    matched = warehouse.rows("SELECT COUNT(*) AS n FROM orders WHERE brand_id = @brand_id", params)[0]["n"]
    warehouse.execute(f"UPDATE orders SET {_NULL_PERSONAL} WHERE brand_id = @brand_id", params)
    warehouse.execute("DELETE FROM google_click_views WHERE brand_id = @brand_id", params)
    store.merge(f"brands/{brand_id}", {SHOP_REDACTED: True})
    disconnected = disconnect_brand(warehouse, secrets, brand_id, now)
    record = {"topic": "shop/redact", "orders_redacted": int(matched), "fields": list(PERSONAL_ORDER_FIELDS),
              "integrations_disconnected": disconnected, "completed_at": now}
    store.set(f"brands/{brand_id}/privacy_requests/{request_id}", record)
    return record


def disconnect_brand(warehouse: Warehouse, secrets: Secrets, brand_id: str, now: datetime) -> list[str]:
    """Mark every integration of the brand disconnected, then delete the secrets it held; return the
    platforms (``platform:account``) disconnected.

    The status changes first, so no sync starts with a token about to vanish; deleting a secret that
    is already gone is not an error, so a retry completes what a failure interrupted.
    """
    rows = warehouse.rows(
        "SELECT platform, account_id, secret_ref FROM integrations WHERE brand_id = @brand_id "
        "ORDER BY platform, account_id", {"brand_id": brand_id})
    warehouse.execute(
        "UPDATE integrations SET status = @status, updated_at = @now WHERE brand_id = @brand_id",
        {"status": DISCONNECTED, "now": now, "brand_id": brand_id})
    for ref in sorted({r["secret_ref"] for r in rows if r["secret_ref"]}):
        secrets.delete(ref)
    secrets.delete(shopify_tokens.refresh_secret_id(brand_id))  # an expiring Shopify token's refresh token
    secrets.delete(names.customer_salt_secret_id(brand_id))
    return [f"{r['platform']}:{r['account_id']}" for r in rows]


def data_request(warehouse: Warehouse, store: DocumentStore, request: CustomerRequest) -> dict[str, Any]:
    """``customers/data_request``: record, for the merchant, every order row we hold for the customer."""
    where, params = request.orders()
    rows = warehouse.rows(
        "SELECT order_id, order_date, currency, total_amount, shipping_country_code, shipping_region_code, "
        f"{', '.join(f for f in PERSONAL_ORDER_FIELDS if f != 'customer_hash')} FROM orders "
        f"WHERE {where} ORDER BY order_id",
        params,
    )
    held = [{k: (str(v) if v is not None else None) for k, v in r.items()} for r in rows]
    record = {"topic": "customers/data_request", "data_request_id": str(request.data_request_id), "orders": held,
              "personal_fields_held": list(PERSONAL_ORDER_FIELDS), "completed_at": request.now}
    store.set(f"brands/{request.brand_id}/privacy_requests/{request.request_id}", record)
    return record


def order_gids(numeric_ids: Iterable[Any]) -> list[str]:
    """Webhook numeric order ids as gids."""
    return [str(i) if str(i).startswith("gid://") else f"gid://shopify/Order/{i}" for i in numeric_ids]
