"""Fixtures for the model tests: a fresh DuckDB warehouse, a literal-brand builder, and a small world."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tower.adapters.duckdb_warehouse import DuckDBWarehouse
from tower.analytics.runner import BuildResult, build_models
from tower.config import Settings
from tower_dev.world import World, WorldParams, generate_world

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def warehouse() -> Iterator[DuckDBWarehouse]:
    """An in-memory warehouse with every table of the DDL."""
    wh = DuckDBWarehouse(":memory:")
    wh.init_schema()
    yield wh
    wh.close()


@dataclass
class Shop:
    """A brand written row by row: the literal inputs of a golden test.

    Defaults fill what a test does not care about (one location serving every region it names,
    one variant per product, costs of 0), so each test states only the numbers it is about.
    """

    warehouse: DuckDBWarehouse
    brand_id: str = "brand_1"
    timezone: str = "America/Chicago"
    currency: str = "USD"
    location_id: str = "loc-1"
    #: False: a store connected by hand, whose orders leave no location_regions rows behind.
    region_rules: bool = True
    _orders: int = 0
    _regions: set[tuple[str, str]] = field(default_factory=set)
    _variants: set[str] = field(default_factory=set)
    _campaigns: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.warehouse.insert("brands", [{
            "brand_id": self.brand_id, "brand_name": self.brand_id, "timezone": self.timezone,
            "currency": self.currency, "created_at": EPOCH, "updated_at": EPOCH,
        }])
        self.warehouse.insert("locations", [{
            "brand_id": self.brand_id, "location_id": self.location_id, "is_active": True,
        }])

    def region(self, region: str, *, location: str | None = None, fulfillment: float | None = None,
               country: str = "US") -> None:
        if (country, region) in self._regions:
            return
        self._regions.add((country, region))
        self.warehouse.insert("location_regions", [{
            "brand_id": self.brand_id, "country_code": country, "region_code": region,
            "location_id": location or self.location_id, "fulfillment_cost_amount": fulfillment,
        }])

    def product(self, product: str, *, cost: float | None = 0.0, price: float = 10.0, active: bool = True) -> str:
        """A product with one variant ``<product>-v``; returns the variant id."""
        variant = f"{product}-v"
        if variant not in self._variants:
            self._variants.add(variant)
            self.warehouse.insert("products", [{
                "brand_id": self.brand_id, "product_id": product, "title": product, "is_active": active,
            }])
            self.warehouse.insert("variants", [{
                "brand_id": self.brand_id, "variant_id": variant, "product_id": product,
                "inventory_item_id": f"{product}-item", "sku": product, "price_amount": price,
                "unit_cost_amount": cost, "currency": self.currency, "is_active": True,
            }])
        return variant

    def order(
        self,
        at: datetime,
        lines: dict[str, int] | None = None,
        *,
        revenue: float = 100.0,
        region: str | None = "US-TX",
        order_date: date | None = None,
        utm_campaign: str | None = None,
        utm_source: str | None = None,
        utm_medium: str | None = None,
        referrer: str | None = None,
        landing_site: str | None = None,
        sales_channel: str | None = None,
        fbclid: str | None = None,
        gclid: str | None = None,
        ttclid: str | None = None,
        cancelled: bool = False,
        currency: str | None = None,
        order_id: str | None = None,
        prices: dict[str, float] | None = None,
    ) -> str:
        """One order at a UTC time; lines map product → quantity (default one unit of ``p1``)."""
        self._orders += 1
        oid = order_id or f"o{self._orders}"
        local = order_date or at.astimezone(ZoneInfo(self.timezone)).date()
        if region and self.region_rules:
            self.region(region)
        self.warehouse.insert("orders", [{
            "brand_id": self.brand_id, "order_id": oid, "order_date": local, "created_at": at,
            "cancelled_at": at if cancelled else None, "currency": currency or self.currency,
            "net_revenue_amount": 0.0 if cancelled else revenue, "total_amount": revenue,
            "shipping_country_code": "US" if region is None or region.startswith("US") else region[:2],
            "shipping_region_code": region, "utm_campaign": utm_campaign, "utm_source": utm_source,
            "utm_medium": utm_medium, "referrer_url": referrer, "landing_site": landing_site,
            "sales_channel": sales_channel,
            "fbclid": fbclid, "gclid": gclid, "ttclid": ttclid,
        }])
        rows = []
        for i, (product, qty) in enumerate((lines or {"p1": 1}).items()):
            variant = self.product(product)
            rows.append({
                "brand_id": self.brand_id, "order_id": oid, "line_item_id": f"{oid}-{i}", "order_date": local,
                "product_id": product, "variant_id": variant, "quantity": qty, "refunded_quantity": 0,
                "price_amount": (prices or {}).get(product, 10.0), "discount_amount": 0.0,
                "currency": currency or self.currency,
            })
        self.warehouse.insert("order_line_items", rows)
        return oid

    def location(self, location_id: str, *, active: bool = True) -> None:
        self.warehouse.insert("locations", [{
            "brand_id": self.brand_id, "location_id": location_id, "is_active": active,
        }])

    def fulfil(self, order_id: str, *parts: tuple[str, dict[str, int]], status: str = "CLOSED") -> None:
        """Shopify's fulfillment orders of an order: each part a location and the units of each product
        (the order's lines, by product) it holds there."""
        lines = {r["product_id"]: r["line_item_id"] for r in self.warehouse.rows(
            "SELECT product_id, line_item_id FROM order_line_items WHERE order_id = @o", {"o": order_id})}
        for n, (location, units) in enumerate(parts):
            fo = f"{order_id}-fo{n}"
            self.warehouse.insert("fulfillment_orders", [{
                "brand_id": self.brand_id, "fulfillment_order_id": fo, "order_id": order_id,
                "location_id": location, "status": status,
            }])
            self.warehouse.insert("fulfillment_order_line_items", [{
                "brand_id": self.brand_id, "fulfillment_order_line_item_id": f"{fo}-{product}",
                "fulfillment_order_id": fo, "line_item_id": lines[product], "quantity": qty,
            } for product, qty in units.items()])

    def campaign(self, platform: str, campaign_id: str, *, name: str | None = None, products: tuple[str, ...] = (),
                 timezone: str | None = None, currency: str | None = None, objective: str | None = None) -> None:
        if (platform, campaign_id) not in self._campaigns:
            self._campaigns.add((platform, campaign_id))
            self.warehouse.insert("ad_campaigns", [{
                "brand_id": self.brand_id, "platform": platform, "account_id": f"acct-{platform}",
                "campaign_id": campaign_id, "campaign_name": name or campaign_id, "objective": objective,
                "currency": currency or self.currency, "account_timezone": timezone or self.timezone,
            }])
        if products:
            self.warehouse.insert("ad_campaign_products", [
                {"brand_id": self.brand_id, "platform": platform, "campaign_id": campaign_id, "product_id": p,
                 "source": "product_set"} for p in products])

    def spend(self, platform: str, campaign_id: str, day: date, amount: float, *, region: str = "US-TX",
              country: str = "US", currency: str | None = None, purchase_value: float = 0.0,
              purchases: float | None = None) -> None:
        self.campaign(platform, campaign_id, currency=currency)
        self.warehouse.insert("ad_performance", [{
            "brand_id": self.brand_id, "platform": platform, "account_id": f"acct-{platform}",
            "campaign_id": campaign_id, "campaign_name": campaign_id, "stat_date": day, "country_code": country,
            "region_code": region, "spend_amount": amount, "impressions": 100, "clicks": 1,
            "purchases": purchases, "purchase_value_amount": purchase_value, "currency": currency or self.currency,
        }])

    def stock(self, product: str, day: date, available: int, *, location: str | None = None) -> None:
        variant = self.product(product)
        self.warehouse.insert("inventory_levels", [{
            "brand_id": self.brand_id, "snapshot_date": day, "inventory_item_id": f"{product}-item",
            "variant_id": variant, "location_id": location or self.location_id, "available": available,
            "on_hand": available,
        }])

    def daily_stock(self, product: str, first: date, last: date, available: int, *, location: str | None = None) -> None:
        day = first
        while day <= last:
            self.stock(product, day, available, location=location)
            day += timedelta(days=1)

    def fx(self, day: date, base: str, quote: str, rate: float) -> None:
        self.warehouse.insert("fx_rates", [{"rate_date": day, "base_currency": base, "quote_currency": quote,
                                            "rate": rate, "source": "test"}])

    def build(self, start: date, end: date, settings: Settings | None = None, **kw: Any) -> BuildResult:
        kw.setdefault("today", end)
        return build_models(self.warehouse, self.brand_id, start, end, settings or Settings(), **kw)

    def rows(self, table: str, where: str = "TRUE", **params: Any) -> list[dict[str, Any]]:
        return self.warehouse.rows(
            f"SELECT * FROM {table} WHERE brand_id = @brand_id AND {where}", {"brand_id": self.brand_id, **params}
        )


@pytest.fixture
def shop(warehouse: DuckDBWarehouse) -> Shop:
    return Shop(warehouse)


@pytest.fixture
def make_shop(warehouse: DuckDBWarehouse) -> Callable[..., Shop]:
    """Another brand in the same warehouse: ``make_shop(brand_id="b2", currency="CAD")``."""
    return lambda **kw: Shop(warehouse, **kw)


SMALL_WORLD = WorldParams(seed=11, brands=3, days=30, orders_per_day=30, skus=14, locations=2,
                          campaigns_per_platform=2)
STORY_WORLD = WorldParams(seed=7, brands=3, days=60, orders_per_day=120, skus=24, locations=3,
                          campaigns_per_platform=3)


def load_world(world: World) -> DuckDBWarehouse:
    """A warehouse holding the world's truth tables, as the connectors would leave it."""
    wh = DuckDBWarehouse(":memory:")
    wh.init_schema()
    wh.insert("fx_rates", world.fx_rates)
    for bw in world.brands:
        wh.insert("brands", [bw.brand])
        for name, table in bw.tables.items():
            wh.insert(name, table)
    return wh


@dataclass
class BuiltWorld:
    world: World
    warehouse: DuckDBWarehouse
    results: dict[str, BuildResult]

    @property
    def window(self) -> tuple[date, date]:
        return self.world.params.start_date, self.world.params.end_date + timedelta(days=1)


def build_world(params: WorldParams, alter: Callable[[World], None] | None = None) -> BuiltWorld:
    """Generate a world, change it before loading if asked (``alter``), load it and build every brand."""
    world = generate_world(params)
    if alter is not None:
        alter(world)
    wh = load_world(world)
    start, end = params.start_date, params.end_date + timedelta(days=1)
    results = {bw.brand_id: build_models(wh, bw.brand_id, start, end, Settings(), today=end) for bw in world.brands}
    return BuiltWorld(world, wh, results)


@pytest.fixture
def world_builder() -> Callable[..., BuiltWorld]:
    """Generate a world of one's own parameters, load it and build every brand over its whole history."""
    return build_world


@pytest.fixture(scope="session")
def small_world() -> BuiltWorld:
    """A small world, every brand built over its whole history (reference checks run on it)."""
    return build_world(SMALL_WORLD)


@pytest.fixture(scope="session")
def story_world() -> BuiltWorld:
    """A world long and busy enough for its planted situations to show (60 days, 120 orders a day)."""
    return build_world(STORY_WORLD)
