"""One brand's Shopify sync: streams → rows → warehouse, checkpointed, resumable, idempotent.

The order of work: locations, products, variants, product deletions, today's inventory snapshot,
then orders (incremental pages, or a bulk backfill for a first sync over a large shop).

State lives in ``sync_state`` (:mod:`tower.sync.state`, one row per resource): ``cursor_value`` is
the greatest ``updated_at`` fully stored; ``checkpoint`` holds the window being read (``since``) and
the page cursor after the last *stored* page, so a crash or a deadline resumes exactly there.
Windows are read with an inclusive ``updated_at:>=`` filter: records that share the boundary time
are read again and MERGEd, so none is skipped. A bulk backfill keeps its phase, operation id, URL
and byte offset the same way (:mod:`tower.sync.shopify_bulk`).

A rejected token (HTTP 401/403, ACCESS_DENIED) marks the integration ``needs_reauth`` and stops
this brand cleanly; other brands' syncs are separate calls and are not touched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tower import names
from tower.config import Settings
from tower.connectors.retry import FatalError, NeedsReauth, RetriesExhausted
from tower.connectors.shopify import bulk as bulkmod
from tower.connectors.shopify import records, scratch
from tower.connectors.shopify import streams as st
from tower.connectors.shopify.client import PLATFORM, ShopifyClient
from tower.ports import NotFound, Warehouse
from tower.redact import redact
from tower.sync import privacy, shopify_tokens
from tower.sync.connect import (
    NotConnected,
    mark_shopify_needs_reauth,
    mark_shopify_synced,
    shopify_integration,
)
from tower.sync.progress import recording
from tower.sync.run import RunOptions, SyncPorts
from tower.sync.shopify_bulk import BlockResult, BulkLoader
from tower.sync.state import SyncStates

log = logging.getLogger(__name__)

#: The natural key each table is MERGEd on.
KEYS: dict[str, list[str]] = {
    "products": ["brand_id", "product_id"],
    "variants": ["brand_id", "variant_id"],
    "locations": ["brand_id", "location_id"],
    "orders": ["brand_id", "order_id"],
    "order_line_items": ["brand_id", "line_item_id"],
    "inventory_levels": ["brand_id", "snapshot_date", "inventory_item_id", "location_id"],
    "fulfillment_orders": ["brand_id", "fulfillment_order_id"],
    "fulfillment_order_line_items": ["brand_id", "fulfillment_order_line_item_id"],
}
READ_ALL_ORDERS = "read_all_orders"
#: The sync_state resource whose cursor is the visit rule the brand's stored orders follow.
STORED_VISITS = "stored_visits"
#: Scopes that show fulfillment orders (where orders ship from): Shopify shows those of the locations
#: the token's scopes cover and silently no others (merchant-managed = the store's own locations).
FULFILLMENT_ORDER_SCOPES = frozenset({
    "read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders",
    "read_assigned_fulfillment_orders", "read_marketplace_fulfillment_orders",
})

__all__ = ["KEYS", "NotConnected", "ShopifySync", "SyncResult", "sync_brand", "sync_shopify"]


class _OutOfTime(Exception):
    """The deadline passed after a stored page: return and resume on the next call."""


@dataclass
class SyncResult:
    """What one sync call did.

    Attributes:
        status: ``ok`` (done), ``incomplete`` (deadline reached, call again to resume),
            ``needs_reauth`` (token or scope rejected) or ``failed``.
        stored: Rows written per table.
    """

    brand_id: str
    shop_domain: str = ""
    status: str = "ok"
    mode: str = "incremental"
    stored: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    throttled: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    retryable: bool = False
    first_date: date | None = None
    last_date: date | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def add(self, table: str, n: int) -> None:
        self.stored[table] = self.stored.get(table, 0) + n

    def as_dict(self) -> dict[str, Any]:
        """What the pipeline receives: ``status`` (``incomplete`` as ``partial``), the rows stored and the
        half-open window ``[window_start, window_end)`` of store-local dates the stored rows fall on."""
        out: dict[str, Any] = {
            "status": "partial" if self.status == "incomplete" else self.status, "platform": PLATFORM,
            "brand_id": self.brand_id, "shop_domain": self.shop_domain, "mode": self.mode, "stored": self.stored,
            "requests": self.requests, "warnings": self.warnings, "error": self.error,
        }
        if self.first_date and self.last_date:
            out["window_start"] = self.first_date.isoformat()
            out["window_end"] = (self.last_date + timedelta(days=1)).isoformat()
        return out

    def touch(self, first: date | None, last: date | None) -> None:
        """Widen the store-local dates the stored rows fall on (what the models must rebuild)."""
        if first is not None:
            self.first_date = first if self.first_date is None else min(self.first_date, first)
        if last is not None:
            self.last_date = last if self.last_date is None else max(self.last_date, last)


@dataclass(frozen=True)
class _Connection:
    """What connecting learns: the shop, its Admin API client, the brand's salt, its sync state rows."""

    shop_domain: str
    client: ShopifyClient
    salt: str
    state: SyncStates


@dataclass
class _OrderRecords:
    """One page of orders as rows: the orders, their lines, their fulfillment orders and those lines."""

    # Plain rows (records' TypedDicts): privacy and the link keeping edit them in place.
    orders: list[Any] = field(default_factory=list)
    lines: list[Any] = field(default_factory=list)
    fulfillment_orders: list[Any] = field(default_factory=list)
    fulfillment_lines: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.orders)


@dataclass(frozen=True)
class _Shop:
    """What the shop says of itself before anything is read: its context and order count."""

    ctx: records.BrandContext
    orders_count: int


class ShopifySync:
    """One sync run of one brand (see :func:`sync_shopify`). Building one does no I/O.

    Attributes:
        result: What the run did so far (returned by :meth:`run`).
    """

    def __init__(self, ports: SyncPorts, brand_id: str, options: RunOptions | None = None, *,
                 bulk_block_bytes: int | None = None) -> None:
        self.ports = ports
        self.brand_id = brand_id
        self.options = options or RunOptions()
        self.bulk_block_bytes = bulk_block_bytes
        self.policy = self.options.retry_policy()
        deadline = self.options.deadline_seconds
        self.deadline = deadline if deadline is not None else ports.settings.shopify_sync_deadline_seconds
        self.result = SyncResult(brand_id)
        self.suppressed: tuple[set[str], bool] = (set(), False)
        self._t0 = self.options.monotonic()
        self._connection: _Connection | None = None
        self._orders_total: int | None = None

    # -- the ports and the connection ---------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.ports.settings

    @property
    def warehouse(self) -> Warehouse:
        return self.ports.warehouse

    @property
    def _conn(self) -> _Connection:
        if self._connection is None:
            raise RuntimeError("ShopifySync.connect() has not run")
        return self._connection

    @property
    def client(self) -> ShopifyClient:
        """The Admin API client (after :meth:`connect`)."""
        return self._conn.client

    @property
    def state(self) -> SyncStates:
        """The store's ``sync_state`` rows (after :meth:`connect`)."""
        return self._conn.state

    def connect(self) -> str:
        """Read the brand's integration, its token and salt, and open the Admin API client (once).

        Returns:
            The shop's ``NAME.myshopify.com`` domain.

        Raises:
            NotConnected: No usable integration, or its token or the brand's salt is missing.
        """
        if self._connection is not None:
            return self._connection.shop_domain
        integration = shopify_integration(self.warehouse, self.brand_id)
        domain: str = integration["account_id"]
        secrets = self.ports.secrets
        try:
            # an expiring offline token is refreshed first when it is about to lapse
            token = shopify_tokens.fresh_token(self.settings, secrets, self.brand_id, integration["secret_ref"])
        except NotFound as e:
            raise NotConnected(f"brand {self.brand_id!r}: the Shopify token is missing from the secret store") from e
        except shopify_tokens.TokenRefreshFailed as e:
            raise NotConnected(str(e)) from e
        try:
            salt = secrets.get(names.customer_salt_secret_id(self.brand_id))
        except NotFound as e:
            raise NotConnected(f"brand {self.brand_id!r}: no customer-hash salt in the secret store "
                               "(connecting the store creates one)") from e
        settings = self.settings
        client = ShopifyClient(
            domain, token, api_version=settings.shopify_api_version, origin=settings.shopify_api_origin,
            timeout=settings.shopify_timeout_seconds, policy=self.policy, clock=self.options.monotonic,
        )
        state = SyncStates(self.warehouse, self.brand_id, PLATFORM, domain, self.options.now)
        self._connection = _Connection(domain, client, salt, state)
        self.result.shop_domain = domain
        return domain

    def _check_time(self) -> None:
        if self._out_of_time():
            raise _OutOfTime()

    def _out_of_time(self) -> bool:
        return self.options.monotonic() - self._t0 > self.deadline

    def _progress(self, stage: str, n: int) -> None:
        # the orders stage reports how many the window holds, when they were counted (its time left)
        self.options.report(stage, n, self._orders_total if stage == "orders" else None)

    def _merge(self, table: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> int:
        if isinstance(rows, pa.Table):
            n = self.warehouse.merge(table, rows, KEYS[table]) if rows.num_rows else 0
            if n and table == "orders":
                dates = pc.min_max(rows.column("order_date")).as_py()
                self.result.touch(dates["min"], dates["max"])
        else:
            n = 0
            # Rows carrying different column sets (partial rows) are merged per set: a MERGE updates
            # exactly the columns it is given.
            for group in records.group_by_columns(rows).values():
                n += self.warehouse.merge(table, records.to_table(table, group), KEYS[table])
            if table == "orders":
                dates = [r["order_date"] for r in rows if r.get("order_date")]
                if dates:
                    self.result.touch(min(dates), max(dates))
        self.result.add(table, n)
        return n

    # -- the run ------------------------------------------------------------------------------------
    def run(self, *, full: bool = False, since: date | None = None) -> SyncResult:
        """Run (or resume) the sync; never raises for platform failures (see ``result.status``).

        ``since`` (a store-local date) re-reads orders changed from that day on.

        Raises:
            NotConnected: The brand has no usable Shopify integration.
        """
        self.connect()
        # A bulk load killed mid-way leaves its raw scratch file: do not wait for the next bulk load.
        scratch.remove_stale(self.settings.data_dir)
        resource = "shop"
        try:
            shop = self._shop_info()
            ctx = shop.ctx
            resource = "locations"
            locations = self._locations(ctx)
            resource = "products"
            self._paged(st.PRODUCTS, "products", lambda n: [records.product_row(x, ctx) for x in n], full)
            resource = "variants"
            self._paged(st.VARIANTS, "variants", lambda n: [records.variant_row(x, ctx) for x in n], full)
            resource = "product_deletions"
            self._paged(st.PRODUCT_DELETIONS, "products", lambda n: self._deletions(n, ctx), full)
            resource = "inventory_levels"
            self._inventory(ctx, locations)
            resource = "orders"
            first_sync = self.state.read("orders").cursor_value is None
            self._orders(shop, full, since)
            resource = STORED_VISITS
            self._stored_visits(first_sync)
        except _OutOfTime:
            self.result.status = "incomplete"
        except NeedsReauth as e:
            self._needs_reauth(resource, redact(str(e)))
        except FatalError as e:
            self._failed(resource, e)
        else:
            mark_shopify_synced(self.warehouse, self.brand_id, self._conn.shop_domain, self.options.now())
        self.result.requests, self.result.throttled = self.client.requests, self.client.throttled
        log.info("shopify sync", extra={
            "brand_id": self.brand_id, "platform": PLATFORM, "status": self.result.status,
            "stored": self.result.stored, "requests": self.result.requests, "throttled": self.result.throttled})
        return self.result

    def _stored_visits(self, first_sync: bool) -> None:
        """Orders stored under an older landing-page rule are rewritten once per rule; a first sync
        stored every order under today's rule, so it only records that."""
        if self.state.read(STORED_VISITS).cursor_value == privacy.VISIT_RULE:
            return
        if not first_sync:
            n = privacy.rewrite_stored_visits(self.warehouse, self.brand_id)
            log.info("stored visits rewritten", extra={"brand_id": self.brand_id, "orders": n,
                                                       "rule": privacy.VISIT_RULE})
        self.state.write(STORED_VISITS, cursor_value=privacy.VISIT_RULE, checkpoint=None, status="idle")

    def _failed(self, resource: str, error: FatalError) -> None:
        message = redact(str(error))
        self.result.status, self.result.error = "failed", message
        # Transient failures that outlasted the retries may pass later; a rejected query will not.
        self.result.retryable = isinstance(error, RetriesExhausted)
        self.state.mark(resource, "failed", message[:1000])
        log.error("shopify sync failed", extra={"brand_id": self.brand_id, "platform": PLATFORM,
                                                "resource": resource, "error": message[:300]})

    def _needs_reauth(self, resource: str, message: str) -> None:
        self.result.status, self.result.error = "needs_reauth", message
        mark_shopify_needs_reauth(self.warehouse, self.brand_id, self._conn.shop_domain, self.options.now())
        self.state.mark(resource, "needs_reauth", message[:1000])
        log.warning("shopify token rejected", extra={"brand_id": self.brand_id, "platform": PLATFORM,
                                                     "resource": resource})

    # -- steps --------------------------------------------------------------------------------------
    def _shop_info(self) -> _Shop:
        data = self.client.execute(st.load_document("shop"), {"ordersQuery": None}).data
        shop = data["shop"]
        ctx = records.BrandContext(self.brand_id, shop["ianaTimezone"], shop["currencyCode"], self._conn.salt)
        scopes = {s["handle"] for s in (data.get("currentAppInstallation") or {}).get("accessScopes") or []}
        if READ_ALL_ORDERS not in scopes:
            self.result.warnings.append(
                "the token lacks read_all_orders: Shopify returns only the last 60 days of orders "
                "(reconnect the store with that scope for the full history)")
        if not scopes & FULFILLMENT_ORDER_SCOPES:
            self.result.warnings.append(
                "the token lacks read_merchant_managed_fulfillment_orders: Shopify does not say which location "
                "orders ship from, so days of cover pool the store's locations (reconnect the store with that "
                "scope, or set region rules with location_regions)")
        self.suppressed = privacy.load_suppressions(self.ports.store, self.brand_id)
        return _Shop(ctx, int((data.get("ordersCount") or {}).get("count") or 0))

    def _locations(self, ctx: records.BrandContext) -> list[records.LocationRow]:
        rows: list[records.LocationRow] = []
        for page in st.iter_pages(self.client, st.LOCATIONS):
            rows.extend(records.location_row(n, ctx) for n in page.nodes)
        self._merge("locations", rows)
        self._progress("locations", len(rows))
        return rows

    def _deletions(self, nodes: list[dict[str, Any]], ctx: records.BrandContext) -> list[records.ProductRow]:
        rows = [records.deleted_product_row(n, ctx) for n in nodes if n.get("subjectId")]
        ids = [r["product_id"] for r in rows]
        if ids:
            self.warehouse.execute(
                "UPDATE variants SET is_active = FALSE WHERE brand_id = @brand_id AND product_id IN UNNEST(@ids)",
                {"brand_id": self.brand_id, "ids": ids},
            )
        return rows

    def _paged(self, stream: st.Stream, table: str, to_rows: Callable[[list[dict[str, Any]]], Any],
               full: bool, store_rows: Callable[[Any], None] | None = None,
               since: str | None = None) -> None:
        """Read one incremental stream window, storing and checkpointing page by page.

        Six parameters: the stream, where and how its rows go (table, mapping, or a store of their
        own for orders with their lines), and the window (``full``, ``since``: a task asking for a
        window again re-reads from an earlier time than the cursor).
        """
        state = self.state.read(stream.name)
        checkpoint = state.checkpoint_data()
        if full or checkpoint is None:
            start = None if full else state.cursor_value
            if since and not full and (start is None or since < start):
                start = since
            checkpoint = {"since": start, "after": None, "max": state.cursor_value if not full else None}
        cursor = state.cursor_value
        for page in st.iter_pages(self.client, stream, since=checkpoint["since"], after=checkpoint["after"]):
            rows = to_rows(page.nodes)
            if store_rows is not None:
                store_rows(rows)
            else:
                self._merge(table, rows)
            if page.max_cursor_value and (checkpoint["max"] is None or page.max_cursor_value > checkpoint["max"]):
                checkpoint["max"] = page.max_cursor_value
            checkpoint["after"] = page.end_cursor
            self.state.write(stream.name, cursor_value=cursor, checkpoint=json.dumps(checkpoint), status="running")
            self._progress(stream.name, len(rows))
            if page.has_next:
                self._check_time()
        new_cursor = max(filter(None, [cursor, checkpoint["max"]]), default=None)
        self.state.write(stream.name, cursor_value=new_cursor, checkpoint=None, status="idle")

    def _inventory(self, ctx: records.BrandContext, locations: list[records.LocationRow]) -> None:
        """Today's snapshot of every level at every active location, replacing today's rows."""
        today = ctx.local_date(self.options.now())
        rows: list[records.InventoryLevelRow] = []
        for loc in locations:
            if not loc["is_active"]:
                continue
            for page in st.iter_pages(self.client, st.INVENTORY_LEVELS, variables={"location": loc["location_id"]}):
                rows.extend(records.inventory_level_row(n, loc["location_id"], today, ctx) for n in page.nodes)
        table = records.to_table("inventory_levels", rows) if rows else records.table_schema("inventory_levels").empty_table()
        n = self.warehouse.replace_window("inventory_levels", table, date_column="snapshot_date", start=today,
                                          end=today + timedelta(days=1), where={"brand_id": self.brand_id})
        self.result.add("inventory_levels", n)
        self.result.touch(today, today)
        self.state.write("inventory_levels", cursor_value=today.isoformat(), checkpoint=None, status="idle")
        self._progress("inventory_levels", n)

    # -- orders -------------------------------------------------------------------------------------
    def _orders(self, shop: _Shop, full: bool, since: date | None) -> None:
        """Page the orders window, or export it in bulk when paging would take more than a few pages.

        The window starts at the cursor (inclusive), earlier when ``since`` asks, at the beginning
        when ``full`` or on a first sync. A bulk export or a paged window already under way resumes.
        """
        orders_state = self.state.read("orders")
        bulk_state = self.state.read("orders_bulk")
        if bulk_state.checkpoint and not full:
            self.result.mode = "bulk"
            self._bulk_orders(shop.ctx, bulk_progress=bulkmod.BulkProgress.from_json(bulk_state.checkpoint))
            return
        start = None if full else orders_state.cursor_value
        if since is not None and not full:
            since_at = st.shopify_time(datetime.combine(since, datetime.min.time(), shop.ctx.zone))
            start = since_at if start is None or since_at < start else start
        if orders_state.checkpoint is None or full:
            count = shop.orders_count if start is None else self._count_orders(st.ORDERS.search(start))
            self._orders_total = count
            if self._bulk_pays(count, whole_history=start is None):
                self.result.mode = "bulk"
                self._bulk_orders(shop.ctx, bulk_progress=bulkmod.BulkProgress(search=st.ORDERS.search(start)))
                return
        if full:
            self.result.mode = "full"
        self._paged(st.ORDERS, "orders", lambda nodes: self._order_rows(nodes, shop.ctx), full,
                    store_rows=self._store_orders, since=start)

    def _count_orders(self, search: str | None) -> int:
        data = self.client.execute(st.load_document("orders_count"), {"query": search}).data
        return int((data.get("ordersCount") or {}).get("count") or 0)

    def _bulk_pays(self, count: int, *, whole_history: bool) -> bool:
        """Whether a window of ``count`` orders is read in bulk: it would take more than
        ``shopify_bulk_min_pages`` pages at the largest page the shop's bucket allows. When
        ``shopify_bulk_min_orders`` pins the decision, only a whole history of at least that many
        orders is (a first or full sync), as before pages were counted."""
        pinned = self.settings.shopify_bulk_min_orders
        if pinned is not None:
            return whole_history and count >= pinned
        page = st.ORDERS.page_size(self.client.bucket_maximum())
        return -(-count // page) > self.settings.shopify_bulk_min_pages

    def refresh_order(self, order_id: str, ctx: records.BrandContext) -> int:
        """Read one order by id and store it as the poller does; return the rows stored (0: not found).

        ``orders/edited`` carries the edit (line items added and removed), not the order: its totals
        and lines after the edit come from the Admin API.

        Raises:
            NotConnected: The brand has no usable Shopify integration.
            NeedsReauth: The token was rejected.
            FatalError: The read was refused, or kept failing (RetriesExhausted).
        """
        self.connect()
        self.suppressed = privacy.load_suppressions(self.ports.store, self.brand_id)
        node = self.client.execute(st.load_document("order"), {"id": order_id, **st.ORDERS.extra_variables}
                                   ).data.get("order")
        if not node:
            return 0
        page = self._order_rows([node], ctx)
        self._store_orders(page)
        return 1 + len(page.lines)

    def _order_rows(self, nodes: list[dict[str, Any]], ctx: records.BrandContext) -> _OrderRecords:
        out = _OrderRecords()
        for n in nodes:
            n = st.complete_fulfillment_orders(self.client, st.complete_line_items(self.client, n))
            order, lines = records.order_rows(n, ctx)
            fos, fo_lines = records.fulfillment_rows(n, ctx)
            out.orders.append(order)
            out.lines.extend(lines)
            out.fulfillment_orders.extend(fos)
            out.fulfillment_lines.extend(fo_lines)
        return out

    def _store_orders(self, page: _OrderRecords) -> None:
        privacy.suppress_rows(page.orders, *self.suppressed)
        self._keep_known_links(page.lines)
        self._merge("orders", page.orders)
        self._merge("order_line_items", page.lines)
        self._replace_fulfillment(page)

    def _replace_fulfillment(self, page: _OrderRecords) -> None:
        """Store the orders' fulfillment orders as Shopify holds them now: a fulfillment order or line
        that moved away (a partial move makes a new fulfillment order) goes, the rest is MERGEd."""
        if not page.orders:
            return
        params = {"brand_id": self.brand_id, "orders": [o["order_id"] for o in page.orders],
                  "fos": [f["fulfillment_order_id"] for f in page.fulfillment_orders] or [""],
                  "lines": [ln["fulfillment_order_line_item_id"] for ln in page.fulfillment_lines] or [""]}
        self.warehouse.execute(
            "DELETE FROM fulfillment_order_line_items WHERE brand_id = @brand_id AND fulfillment_order_id IN "
            "(SELECT fulfillment_order_id FROM fulfillment_orders WHERE brand_id = @brand_id "
            "AND order_id IN UNNEST(@orders)) AND fulfillment_order_line_item_id NOT IN UNNEST(@lines)", params)
        self.warehouse.execute(
            "DELETE FROM fulfillment_orders WHERE brand_id = @brand_id AND order_id IN UNNEST(@orders) "
            "AND fulfillment_order_id NOT IN UNNEST(@fos)", params)
        self._merge("fulfillment_orders", page.fulfillment_orders)
        self._merge("fulfillment_order_line_items", page.fulfillment_lines)

    def _keep_known_links(self, lines: list[dict[str, Any]]) -> None:
        """A deleted product's line items come back without variant and product: keep the ids we
        stored before, or find the variant we know by the line's SKU (a shop's SKUs are unique)."""
        unlinked = [li for li in lines if li["variant_id"] is None and li["product_id"] is None]
        if not unlinked:
            return
        known = {r["line_item_id"]: r for r in self.warehouse.rows(
            "SELECT line_item_id, product_id, variant_id FROM order_line_items "
            "WHERE brand_id = @brand_id AND line_item_id IN UNNEST(@ids) AND variant_id IS NOT NULL",
            {"brand_id": self.brand_id, "ids": [li["line_item_id"] for li in unlinked]})}
        skus = sorted({li["sku"] for li in unlinked if li["sku"] and li["line_item_id"] not in known})
        by_sku: dict[str, list[dict[str, Any]]] = {}
        if skus:
            for r in self.warehouse.rows(
                "SELECT sku, product_id, variant_id FROM variants WHERE brand_id = @brand_id AND sku IN UNNEST(@skus)",
                {"brand_id": self.brand_id, "skus": skus},
            ):
                by_sku.setdefault(r["sku"], []).append(r)
        for li in unlinked:
            k = known.get(li["line_item_id"])
            if k is None and len(by_sku.get(li["sku"] or "", [])) == 1:
                k = by_sku[li["sku"]][0]
            if k is not None:
                li["product_id"], li["variant_id"] = k["product_id"], k["variant_id"]

    # -- the bulk backfill --------------------------------------------------------------------------
    def _bulk_orders(self, ctx: records.BrandContext, *, bulk_progress: bulkmod.BulkProgress) -> None:
        """Run (or resume) a bulk export of the orders window ``bulk_progress.search`` and load it."""
        progress = bulk_progress
        loader = BulkLoader(self.warehouse, ctx, self.suppressed, block_bytes=self.bulk_block_bytes,
                            data_dir=self.settings.data_dir, on_block=self._bulk_stored)
        while progress.phase != "done":
            if progress.restarts > 3:
                raise FatalError("the bulk export failed more than three times", platform=PLATFORM)
            if progress.phase == "start":
                self._bulk_start(progress)
            elif progress.phase == "poll":
                self._bulk_poll(progress)
            elif progress.phase == "fetch":
                self._bulk_fetch(progress, loader)
        # The export saw every order as of when it started; the next incremental sync re-reads from
        # there (inclusive), so changes made during the export are not lost.
        self.state.write("orders", cursor_value=progress.started_at, checkpoint=None, status="idle")
        self.state.write("orders_bulk", cursor_value=progress.operation_id, checkpoint=None, status="idle")

    def _bulk_stored(self, block: BlockResult) -> None:
        for table, n in block.stored.items():
            self.result.add(table, n)
        self.result.touch(block.first_date, block.last_date)

    def _bulk_save(self, progress: bulkmod.BulkProgress, status: str = "running") -> None:
        self.state.write("orders_bulk", cursor_value=progress.operation_id, checkpoint=progress.to_json(),
                         status=status)

    def _bulk_start(self, progress: bulkmod.BulkProgress) -> None:
        if bulkmod.start_operation(self.client, progress, progress.search):
            self._bulk_save(progress, "polling")
            return
        self.result.warnings.append("another bulk export holds the slot; waiting")
        self.options.sleep(self.settings.shopify_bulk_poll_seconds)
        self._check_time()

    def _bulk_poll(self, progress: bulkmod.BulkProgress) -> None:
        bulkmod.poll_operation(self.client, progress)
        self._bulk_save(progress, "polling")
        if progress.phase == "poll":
            self._progress("bulk_poll", 0)
            # A small export is ready in a second or two: poll soon, then back off to the setting.
            self.options.sleep(min(self.settings.shopify_bulk_poll_seconds, 0.5 * 2 ** progress.polls))
            progress.polls += 1
            self._check_time()

    def _bulk_fetch(self, progress: bulkmod.BulkProgress, loader: BulkLoader) -> None:
        before = progress.orders

        def after_block(p: bulkmod.BulkProgress) -> bool:
            self._bulk_save(p)
            return not self._out_of_time()

        try:
            finished = loader.fetch(progress, timeout=self.settings.shopify_timeout_seconds, policy=self.policy,
                                    after_block=after_block)
        except bulkmod.BulkExpired:
            progress.phase, progress.restarts = "start", progress.restarts + 1
            self._bulk_save(progress)
            return
        self._progress("orders", progress.orders - before)
        if not finished:
            raise _OutOfTime()


def sync_shopify(
    ports: SyncPorts,
    brand_id: str,
    *,
    full: bool = False,
    since: date | None = None,
    options: RunOptions | None = None,
) -> SyncResult:
    """Sync one brand's Shopify store into the warehouse (or resume the sync that was cut off).

    Args:
        ports: Settings (API version and origin, deadline, bulk threshold), the warehouse the rows
            go to (MERGE on natural keys), the secrets (the integration's token, the brand's
            customer-hash salt) and the document store with privacy suppressions (optional).
        brand_id: The brand.
        full: Re-read everything instead of from the cursors.
        since: Also re-read orders changed from this store-local day on.
        options: Clocks, deadline, retry policy and a ``progress(stage, rows)`` callback.

    Raises:
        NotConnected: The brand has no usable Shopify integration.
    """
    return ShopifySync(ports, brand_id, options).run(full=full, since=since)


def sync_brand(runtime: SyncPorts, brand_id: str, *, full: bool = False, since: date | None = None) -> dict[str, Any]:
    """The pipeline's Shopify task: sync one brand with the runtime's adapters.

    Returns ``status`` (``ok``; ``partial`` when the deadline cut it and a new task must resume;
    ``needs_reauth``; ``failed``), the rows stored and the half-open window ``[window_start,
    window_end)`` of store-local dates the stored orders and snapshot fall on.

    Raises:
        NotConnected: The brand has no usable Shopify integration (a malformed task).
        RuntimeError: Transient failures outlasted the retries: the task queue tries again later.
    """
    result = sync_shopify(runtime, brand_id, full=full, since=since, options=RunOptions(progress=recording(runtime, brand_id)))
    if result.status == "failed" and result.retryable:
        raise RuntimeError(f"Shopify sync of {brand_id} failed for now: {result.error}")
    return result.as_dict()
