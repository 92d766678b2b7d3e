"""Helpers the Shopify tests share: a small world, a clock after it, connecting a brand, comparing.

Plain functions (the test folders' conftests wrap them as fixtures), so the connector's and the
sandbox's suites build their scenarios the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from tower import names
from tower.ports import Secrets, Warehouse
from tower_dev.sandboxes.shopify_store.bulk import encode_line
from tower_dev.sandboxes.shopify_store.clock import FakeClock

#: Two brands (different time zones), three weeks, about 110 orders each: big enough for many
#: pages, refunds, cancellations and a deleted product; small enough for a fast suite.
SMALL_WORLD = {
    "seed": 5,
    "brands": 2,
    "days": 20,
    "orders_per_day": 6,
    "skus": 12,
    "locations": 2,
    "campaigns_per_platform": 2,
}

KEYS: dict[str, tuple[str, ...]] = {
    "products": ("product_id",),
    "variants": ("variant_id",),
    "locations": ("location_id",),
    "inventory_levels": ("snapshot_date", "inventory_item_id", "location_id"),
    "orders": ("order_id",),
    "order_line_items": ("line_item_id",),
    "fulfillment_orders": ("fulfillment_order_id",),
    "fulfillment_order_line_items": ("fulfillment_order_line_item_id",),
}


@lru_cache(maxsize=4)
def small_world(**overrides: Any) -> Any:
    """The synthetic world the Shopify tests run on (cached: worlds are immutable)."""
    from tower_dev.world import WorldParams, generate_world

    return generate_world(WorldParams(**{**SMALL_WORLD, **overrides}))


def clock_after(world: Any) -> FakeClock:
    """A fake clock at 00:30 of the day after the world's last day (in the first brand's zone).

    Time must be after every timestamp the world holds: a store's clock never runs backwards,
    and an incremental sync relies on that.
    """
    tz = ZoneInfo(world.brands[0].brand["timezone"])
    start = datetime.combine(world.params.end_date + timedelta(days=1), time(0, 30), tz).astimezone(UTC)
    latest = max(
        max(v for v in bw.tables[t].column("updated_at").to_pylist() if v is not None)
        for bw in world.brands
        for t in ("products", "variants", "orders", "inventory_levels")
    )
    return FakeClock(max(start, latest + timedelta(minutes=5)))


def connect_brand(warehouse: Warehouse, secrets: Secrets, bw: Any, token: str, now: datetime) -> str:
    """Register a world brand, connect its sandbox shop and give it the world's salt."""
    from tower.brands import add_brand
    from tower.sync.connect import connect_shopify

    b = bw.brand
    add_brand(
        warehouse,
        brand_id=b["brand_id"],
        name=b["brand_name"],
        timezone=b["timezone"],
        currency=b["currency"],
        now=now,
    )
    connect_shopify(warehouse, secrets, brand_id=b["brand_id"], shop=b["shop_domain"], token=token, now=now)
    # The world hashed its customers with its own salt; the connector must use the same one.
    secrets.rotate(names.customer_salt_secret_id(b["brand_id"]), bw.customer_salt)
    return str(b["brand_id"])


def warehouse_rows(warehouse: Warehouse, table: str, brand_id: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """A brand's rows of a table keyed by the table's natural key."""
    rows = warehouse.rows(f"SELECT * FROM {table} WHERE brand_id = @brand_id", {"brand_id": brand_id})
    return {tuple(r[k] for k in KEYS[table]): r for r in rows}


def differences(
    warehouse: Warehouse,
    truth: Mapping[str, list[dict[str, Any]]],
    brand_id: str,
    tables: tuple[str, ...] = tuple(KEYS),
) -> dict[str, list[Any]]:
    """What differs between the warehouse and the truth, per table (empty lists: equal)."""
    out: dict[str, list[Any]] = {}
    for table in tables:
        got = warehouse_rows(warehouse, table, brand_id)
        want = {tuple(r[k] for k in KEYS[table]): r for r in truth[table]}
        problems: list[Any] = [("missing", k) for k in sorted(set(want) - set(got), key=str)]
        problems += [("extra", k) for k in sorted(set(got) - set(want), key=str)]
        for k in sorted(set(got) & set(want), key=str):
            for col, value in want[k].items():
                if got[k].get(col) != value:
                    problems.append(("differs", k, col, got[k].get(col), value))
        out[table] = problems
    return out


def snapshot(warehouse: Warehouse, brand_id: str) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every data table of a brand, for "a second run changes nothing" checks."""
    return {t: warehouse_rows(warehouse, t, brand_id) for t in KEYS}


# -- hand-made OrdersBulk lines (the bulk parser's and loader's tests) ---------------------------------
def bulk_order_line(n: int, created: str = "2026-11-20T15:00:00Z") -> dict[str, Any]:
    """An OrdersBulk order line: order ``n``, USD 20 everywhere, no customer or address."""
    money = {"shopMoney": {"amount": "20.0", "currencyCode": "USD"}}
    return {"id": f"gid://shopify/Order/{n}", "name": f"#{n}", "createdAt": created, "processedAt": created,
            "updatedAt": created, "cancelledAt": None, "currencyCode": "USD", "sourceName": "web",
            "subtotalPriceSet": money, "totalDiscountsSet": {"shopMoney": {"amount": "0.0", "currencyCode": "USD"}},
            "totalShippingPriceSet": money, "totalTaxSet": money, "totalPriceSet": money,
            "currentSubtotalPriceSet": money, "shippingAddress": None, "customer": None,
            "customerJourneySummary": None}


def bulk_item_line(n: int, parent: int) -> dict[str, Any]:
    """An OrdersBulk line item ``n`` of order ``parent`` (a child line, ``__parentId``)."""
    money = {"shopMoney": {"amount": "20.0", "currencyCode": "USD"}}
    return {"id": f"gid://shopify/LineItem/{n}", "sku": f"S-{n}", "quantity": 1, "currentQuantity": 1,
            "originalUnitPriceSet": money, "totalDiscountSet": money, "variant": None, "product": None,
            "__parentId": f"gid://shopify/Order/{parent}"}


def bulk_export(n_orders: int) -> bytes:
    """A JSONL export: orders with two line items each; every third order's children come before it."""
    out = []
    for i in range(n_orders):
        order, kids = bulk_order_line(i), [bulk_item_line(2 * i, i), bulk_item_line(2 * i + 1, i)]
        out += [*kids, order] if i % 3 == 0 else [order, *kids]
    return b"".join(encode_line(x) for x in out)
