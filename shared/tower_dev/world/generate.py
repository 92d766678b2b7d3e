"""Putting one brand's world together, and the world of all brands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from tower.names import AD_PLATFORMS
from tower_dev.world import ads, clicks, inventory, orders
from tower_dev.world.brands import BrandProfile, profile
from tower_dev.world.catalog import build_catalog
from tower_dev.world.context import BrandContext
from tower_dev.world.fx import converter, fx_table
from tower_dev.world.geo import population_weights, regions_of
from tower_dev.world.locations import fulfillment_cost_cents, route, sites
from tower_dev.world.manifest import build_brand_manifest
from tower_dev.world.params import WorldParams
from tower_dev.world.schema import build_table, const, money, timestamps
from tower_dev.world.text import take
from tower_dev.world.timezones import day_starts, epoch_day

# Each generator draws from its own stream, so changing one never shifts another's numbers.
_STREAMS = {
    "catalog": 1,
    "ids": 2,
    "ads": 3,
    "orders": 4,
    "inventory": 5,
    "money": 6,
    "customers": 7,
    "report": 8,
}


@dataclass
class BrandWorld:
    """One brand's world: the truth tables (DDL-shaped), the raw platform-side facts and its manifest.

    Attributes:
        brand: Row of the ``brands`` table (``created_at`` / ``updated_at`` as UTC datetimes).
        customer_salt: Salt of ``tower.privacy.customer_hash`` for this brand.
        ad_accounts: ``{"meta" | "tiktok" | "google_ads": {"account_id", "currency", "timezone"}}``.
        tables: ``products``, ``variants``, ``locations``, ``location_regions``, ``inventory_levels``,
            ``orders``, ``order_line_items``, ``ad_campaigns``, ``ad_campaign_products``,
            ``ad_performance``: Arrow tables with exactly the DDL columns and types — what the
            warehouse must hold after syncing this brand.
        raw: Facts the platforms hold but the warehouse must not (or cannot) see:
            ``orders`` (customer id, e-mail, names, street, full ZIP, landing page URL, plus the
            ground truth of which campaign drove the order), ``refunds`` (one row per refunded
            line: refund_id, order_id, created_at, amount = merchandise refunded, currency,
            line_item_id, quantity, tax_amount, shipping_amount, kind) and ``purchase_orders``
            (stock receipts behind the inventory snapshots).
        manifest: This brand's entry of :attr:`World.manifest`.

    Conventions the connectors must reproduce: ``landing_site`` is the landing page URL
    (Shopify's ``customerJourneySummary.lastVisit.landingPage``) with only its UTM and click-id parameters
    (the world's pages carry no others); ``customer_hash`` hashes the
    customer gid (``gid://shopify/Customer/N``); line items keep the product and variant ids of a
    product deleted later; ``ad_performance.synced_at`` is null (the loader sets it); Meta
    account ids are bare digits (``act_`` is the path prefix, not part of the id); campaign
    ``status`` and ``objective`` are each platform's own values (ACTIVE/PAUSED, ENABLE/DISABLE,
    ENABLED/PAUSED).
    """

    brand: dict[str, Any]
    customer_salt: str
    ad_accounts: dict[str, dict[str, str]]
    tables: dict[str, pa.Table]
    raw: dict[str, pa.Table]
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def brand_id(self) -> str:
        return str(self.brand["brand_id"])


@dataclass
class World:
    """Every brand plus the shared FX rates and the ground-truth manifest ``{brand_id: {...}}``."""

    params: WorldParams
    brands: list[BrandWorld]
    fx_rates: pa.Table
    manifest: dict[str, Any]

    def brand(self, brand_id: str) -> BrandWorld:
        """The brand with this id (KeyError names the known ids)."""
        for bw in self.brands:
            if bw.brand_id == brand_id:
                return bw
        raise KeyError(f"no brand {brand_id!r}; brands: {[b.brand_id for b in self.brands]}")

    def table(self, name: str) -> pa.Table:
        """One warehouse table across all brands (``fx_rates`` included)."""
        if name == "fx_rates":
            return self.fx_rates
        return pa.concat_tables([bw.tables[name] for bw in self.brands])


def generate_world(params: WorldParams | None = None) -> World:
    """Generate the whole world. Same parameters → identical tables, manifest and exports."""
    params = params or WorldParams()
    profiles = [profile(i) for i in range(params.brands)]
    currencies = sorted(
        {p.currency for p in profiles} | {a[0] for p in profiles for a in p.accounts.values()}
    )
    fx, lookup = fx_table(params.seed, currencies, params.start_date, params.days)
    ranks = _urgency_ranks(profiles)
    brands = [generate_brand(params, prof, lookup, ranks[prof.index]) for prof in profiles]
    return World(
        params=params, brands=brands, fx_rates=fx, manifest={bw.brand_id: bw.manifest for bw in brands}
    )


def _urgency_ranks(profiles: list[BrandProfile]) -> dict[int, int]:
    order = {"urgent": 0, "watch": 1, "healthy": 2}
    ranked = sorted(profiles, key=lambda p: (order[p.health], p.index))
    return {p.index: i + 1 for i, p in enumerate(ranked)}


def generate_brand(params: WorldParams, prof: BrandProfile, fx_lookup: dict, rank: int) -> BrandWorld:
    """Generate one brand (deterministic in ``params.seed`` and the brand's position)."""

    def rng(stream: str) -> np.random.Generator:
        return np.random.default_rng([params.seed, prof.index, _STREAMS[stream]])

    days = params.days
    start = params.start_date
    catalog = build_catalog(prof, params.skus, days, rng("catalog"))
    regions = regions_of(tuple(prof.countries))
    home = max(prof.countries, key=prof.countries.__getitem__)
    locations = sites(home, params.locations)
    serving, km = route(regions, locations)
    id_rng = rng("ids")
    accounts = ads.make_accounts(prof, id_rng)
    ctx = BrandContext(
        params=params,
        profile=prof,
        brand_no=prof.index + 1,
        days=days,
        first_epoch_day=epoch_day(start),
        weekday=np.array([(start + timedelta(days=i)).weekday() for i in range(days)]),
        store_starts=day_starts(prof.timezone, start, days),
        account_starts={p: day_starts(accounts.timezone[p], start, days) for p in AD_PLATFORMS},
        regions=regions,
        region_weights=population_weights(regions, prof.countries),
        locations=locations,
        serving=serving,
        catalog=catalog,
        accounts=accounts,
        currency_scale=1.35 if prof.currency == "CAD" else 1.0,
    )
    campaigns = ads.build_campaigns(
        prof, catalog, regions, params.campaigns_per_platform, days, accounts, id_rng
    )

    # Spend sized so ad-driven orders are DRIVEN_SHARE of orders_per_day at the target ROAS.
    eov = orders.expected_order_value(ctx, campaigns)
    share = np.array([c.share for c in campaigns])
    roas = np.array([prof.roas[c.platform][0] * c.roas_mult for c in campaigns])
    total_daily = orders.DRIVEN_SHARE * params.orders_per_day / float((share * roas / eov).sum())
    ads_rng = rng("ads")
    cells = ads.plan_spend(campaigns, prof, days, ctx.weekday, total_daily, ads_rng)
    order_rng = rng("orders")
    counts = order_rng.poisson(cells.spend * cells.target_roas / eov[cells.campaign])
    demand = orders.draw_demand(
        ctx, campaigns, cells, counts, (1 - orders.DRIVEN_SHARE) * params.orders_per_day, order_rng
    )

    # Stock decides what could be sold; then cancellations, the stock trajectories, money.
    inv_rng = rng("inventory")
    windows, stock_facts = inventory.plan_stockouts(ctx, inv_rng)
    n_pairs = catalog.n_variants * len(locations)
    pairs = inventory.line_pairs(ctx, demand.region, demand.line_order, demand.line_variant)
    keep = inventory.in_stock(windows, n_pairs, days, pairs, demand.day[demand.line_order], demand.line_qty)
    demand = demand.subset(keep)
    cancelled, cancelled_at = orders.choose_cancellations(ctx, demand, order_rng)
    lo = demand.line_order
    pairs = inventory.line_pairs(ctx, demand.region, lo, demand.line_variant)
    stock = inventory.simulate(
        ctx, windows, pairs, demand.day[lo], demand.line_qty, ~cancelled[lo], demand.created[lo], inv_rng
    )
    book = orders.settle(ctx, demand, cancelled, cancelled_at, rng("money"))
    orders.assign_tags(demand, campaigns, book.net, days, order_rng)

    # Ids and the catalog / location tables.
    gids = _catalog_gids(ctx, id_rng)
    salt = "salt-" + bytes(id_rng.integers(0, 256, 16, dtype=np.uint8)).hex()
    tables: dict[str, pa.Table] = {}
    tables["products"], tables["variants"] = _catalog_tables(ctx, gids, id_rng)
    tables["locations"], tables["location_regions"] = _location_tables(ctx, gids, km)
    ids = orders.assign_ids(ctx, book, id_rng)
    made = orders.order_tables(
        ctx, book, ids, campaigns, gids["product"], gids["variant"], salt, rng("customers")
    )
    tables["orders"], tables["order_line_items"] = made["orders"], made["order_line_items"]
    tables["fulfillment_orders"], tables["fulfillment_order_line_items"] = _fulfillment_tables(
        ctx.brand_id, tables["orders"], tables["order_line_items"], tables["location_regions"]
    )
    tables["inventory_levels"], purchase_orders = inventory.inventory_tables(
        ctx, stock, gids["variant"], gids["item"], gids["location"]
    )

    # Spend calibrated on the orders' net revenue, then what the platforms report.
    driven = np.flatnonzero(demand.campaign >= 0)
    revenue = book.net[driven] / 100
    spend_store = ads.calibrate(
        cells, campaigns, prof, days, demand.campaign[driven], demand.day[driven], revenue
    )
    to_account = {p: converter(fx_lookup, prof.currency, accounts.currency[p], days) for p in AD_PLATFORMS}
    to_store = {p: converter(fx_lookup, accounts.currency[p], prof.currency, days) for p in AD_PLATFORMS}
    perf = ads.performance_table(
        prof.brand_id,
        campaigns,
        accounts,
        regions,
        cells,
        spend_store,
        to_account,
        demand.cell[driven],
        revenue,
        ctx.first_epoch_day,
        rng("report"),
    )
    budgets, updated = _budgets(ctx, campaigns, cells, spend_store, to_account, id_rng)
    tables["ad_campaigns"], tables["ad_campaign_products"] = ads.campaign_tables(
        prof.brand_id, campaigns, accounts, gids["product"], budgets, updated
    )
    tables["ad_campaign_destinations"] = ads.destination_table(tables["ad_campaign_products"], tables["products"])
    tables["ad_performance"] = perf.table
    tables["google_click_views"] = clicks.click_view_table(ctx, tables["orders"], made["raw_orders"])
    tables = {
        name: tables[name]
        for name in (
            "products",
            "variants",
            "locations",
            "location_regions",
            "inventory_levels",
            "orders",
            "order_line_items",
            "fulfillment_orders",
            "fulfillment_order_line_items",
            "ad_campaigns",
            "ad_campaign_products",
            "ad_campaign_destinations",
            "ad_performance",
            "google_click_views",
        )
    }

    brand = {
        "brand_id": prof.brand_id,
        "brand_name": prof.name,
        "timezone": prof.timezone,
        "currency": prof.currency,
        "agency_id": None,
        "shop_domain": prof.shop_domain,
        "created_at": datetime.fromtimestamp(ctx.world_start, UTC) - timedelta(days=400),
        "updated_at": datetime.fromtimestamp(ctx.world_start, UTC),
    }
    manifest = build_brand_manifest(ctx, campaigns, book, stock, perf, to_store, gids, stock_facts, rank)
    return BrandWorld(
        brand=brand,
        customer_salt=salt,
        ad_accounts=accounts.as_dict(),
        tables=tables,
        raw={
            "orders": made["raw_orders"],
            "refunds": made["raw_refunds"],
            "purchase_orders": purchase_orders,
        },
        manifest=manifest,
    )


def _catalog_gids(ctx: BrandContext, rng: np.random.Generator) -> dict[str, list[str]]:
    """Shopify gids of products, variants, inventory items and locations (numeric parts < 2**53)."""
    b = ctx.brand_no
    cat = ctx.catalog

    def numbers(base: int, n: int) -> np.ndarray:
        return base + (np.arange(n) + 1) * 1000 + rng.integers(0, 1000, n)

    return {
        "product": [
            f"gid://shopify/Product/{x}" for x in numbers(8_100_000_000_000 + b * 10**8, cat.n_products)
        ],
        "variant": [
            f"gid://shopify/ProductVariant/{x}"
            for x in numbers(45_100_000_000_000 + b * 10**9, cat.n_variants)
        ],
        "item": [
            f"gid://shopify/InventoryItem/{x}"
            for x in numbers(47_200_000_000_000 + b * 10**9, cat.n_variants)
        ],
        "location": [
            f"gid://shopify/Location/{61_000_000_000 + b * 1000 + j + 1}" for j in range(len(ctx.locations))
        ],
    }


def _catalog_tables(
    ctx: BrandContext, gids: dict[str, list[str]], rng: np.random.Generator
) -> tuple[pa.Table, pa.Table]:
    cat = ctx.catalog
    n_p = cat.n_products
    start, end = ctx.world_start, ctx.world_end
    created = start - rng.integers(30, 700, n_p) * 86_400 - rng.integers(0, 86_400, n_p)
    updated = np.maximum(created, end - rng.integers(3_600, 60 * 86_400, n_p))
    deleted = np.full(n_p, -1, dtype=np.int64)
    for p, role in enumerate(cat.p_role):
        first_variant = int(np.flatnonzero(cat.v_product == p)[0])
        if role == "draft":
            created[p] = ctx.store_starts[cat.v_rows_from[first_variant]] + 10 * 3600
            updated[p] = created[p] + 3600
        elif role == "archived":
            updated[p] = ctx.store_starts[cat.v_sell_until[first_variant]] + 11 * 3600
        elif role == "deleted":
            deleted[p] = ctx.store_starts[cat.v_rows_until[first_variant]] + 11 * 3600
            updated[p] = deleted[p]
    is_deleted = deleted >= 0
    products = build_table(
        "products",
        {
            "brand_id": const(ctx.brand_id, n_p),
            "product_id": gids["product"],
            "handle": cat.p_handle,
            "title": cat.p_title,
            "status": cat.p_status,
            "product_type": cat.p_type,
            "vendor": const(cat.vendor, n_p),
            # a picture lives on a CDN, not in the world: the sandbox store serves each product's
            # (tower_dev.sandboxes.shopify_store.images) and its truth names the URL
            "image_url": [None] * n_p,
            "image_alt": [None] * n_p,
            "is_active": ~is_deleted,
            "created_at": timestamps(created),
            "updated_at": timestamps(updated),
            "deleted_at": timestamps(np.maximum(deleted, 0), mask=~is_deleted),
        },
    )
    n_v = cat.n_variants
    variants = build_table(
        "variants",
        {
            "brand_id": const(ctx.brand_id, n_v),
            "variant_id": gids["variant"],
            "product_id": take(gids["product"], cat.v_product),
            "inventory_item_id": gids["item"],
            "sku": cat.v_sku,
            "title": cat.v_title,
            "price_amount": money(cat.v_price),
            "unit_cost_amount": money(cat.v_cost),
            "currency": const(ctx.profile.currency, n_v),
            "is_active": ~is_deleted[cat.v_product],
            "updated_at": timestamps(updated[cat.v_product]),
        },
    )
    return products, variants


def _location_tables(
    ctx: BrandContext, gids: dict[str, list[str]], km: np.ndarray
) -> tuple[pa.Table, pa.Table]:
    locs = ctx.locations
    opened = ctx.world_start - 200 * 86_400
    locations = build_table(
        "locations",
        {
            "brand_id": const(ctx.brand_id, len(locs)),
            "location_id": gids["location"],
            "location_name": [s.name for s in locs],
            "country_code": [s.country for s in locs],
            "province_code": [s.province for s in locs],
            "is_active": [True] * len(locs),
            "updated_at": timestamps(np.full(len(locs), opened)),
        },
    )
    prof = ctx.profile
    high = {code: prof.high_cost_factor for code in prof.high_cost_regions}
    cost = fulfillment_cost_cents(ctx.regions, locs, ctx.serving, km, ctx.currency_scale, high)
    n = len(ctx.regions)
    location_regions = build_table(
        "location_regions",
        {
            "brand_id": const(ctx.brand_id, n),
            "country_code": [r.country for r in ctx.regions],
            "region_code": [r.code for r in ctx.regions],
            "location_id": take(gids["location"], ctx.serving),
            "fulfillment_cost_amount": money(cost),
            "updated_at": timestamps(np.full(n, opened)),
        },
    )
    return locations, location_regions


def _fulfillment_tables(
    brand_id: str, orders_t: pa.Table, lines_t: pa.Table, location_regions: pa.Table
) -> tuple[pa.Table, pa.Table]:
    """What Shopify made of each order: one fulfillment order at the location serving its region (the
    store's routing, as the Shopify sandbox does), holding every line; fulfilled (CLOSED) unless cancelled.
    Ids share the order's and the lines' numbers, as the sandbox's do (ids are unique per type)."""
    serving = {
        (r["country_code"], r["region_code"]): r["location_id"]
        for r in location_regions.select(["country_code", "region_code", "location_id"]).to_pylist()
    }
    o = orders_t.select(["order_id", "shipping_country_code", "shipping_region_code", "cancelled_at", "updated_at"])
    order_ids = o.column("order_id").to_pylist()
    fo_ids = [x.replace("/Order/", "/FulfillmentOrder/") for x in order_ids]
    locations = [
        serving.get((c, r)) for c, r in zip(o.column("shipping_country_code").to_pylist(),
                                            o.column("shipping_region_code").to_pylist(), strict=True)
    ]
    status = ["CLOSED" if c is None else "CANCELLED" for c in o.column("cancelled_at").to_pylist()]
    fos = build_table(
        "fulfillment_orders",
        {
            "brand_id": const(brand_id, len(order_ids)),
            "fulfillment_order_id": fo_ids,
            "order_id": order_ids,
            "location_id": locations,
            "status": status,
            "updated_at": o.column("updated_at"),
        },
    )
    li = lines_t.select(["line_item_id", "order_id", "quantity"])
    fo_lines = build_table(
        "fulfillment_order_line_items",
        {
            "brand_id": const(brand_id, li.num_rows),
            "fulfillment_order_line_item_id": [
                x.replace("/LineItem/", "/FulfillmentOrderLineItem/") for x in li.column("line_item_id").to_pylist()
            ],
            "fulfillment_order_id": [x.replace("/Order/", "/FulfillmentOrder/") for x in li.column("order_id").to_pylist()],
            "line_item_id": li.column("line_item_id"),
            "quantity": li.column("quantity"),
        },
    )
    return fos, fo_lines


def _budgets(
    ctx: BrandContext,
    campaigns: list[ads.Campaign],
    cells: ads.SpendCells,
    spend_store: np.ndarray,
    to_account: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Daily budget (account currency, whole units) from the last active week's spend, and updated_at.

    Platforms pace spend a little under the daily budget on average, hence the 0.92.
    """
    days = ctx.days
    per_day = np.zeros((len(campaigns), days))
    np.add.at(per_day, (cells.campaign, cells.day), spend_store)
    budgets = np.zeros(len(campaigns), dtype=np.int64)
    updated = np.zeros(len(campaigns), dtype=np.int64)
    for c in campaigns:
        last = min(days, c.stop_day)
        window = slice(max(0, last - 7), last)
        spend = per_day[c.index, window].mean() * to_account[c.platform][last - 1]
        budgets[c.index] = max(1, round(spend / 0.92)) * 100
        if c.stop_day < days:
            updated[c.index] = ctx.store_starts[c.stop_day] + 10 * 3600
        else:
            updated[c.index] = ctx.world_end - int(rng.integers(3_600, 20 * 86_400))
    return budgets, updated
