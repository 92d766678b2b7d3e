"""One brand's Shopify sync: streams → rows → warehouse, checkpointed, resumable, idempotent.

The order of work: locations, products, variants, product deletions, today's inventory snapshot,
then orders (incremental pages, or a bulk backfill for a first sync over a large shop).

State lives in ``sync_state`` (one row per resource): ``cursor_value`` is the greatest
``updated_at`` fully stored; ``checkpoint`` holds the window being read (``since``) and the page
cursor after the last *stored* page, so a crash or a deadline resumes exactly there. Windows are
read with an inclusive ``updated_at:>=`` filter: records that share the boundary time are read
again and MERGEd, so none is skipped. A bulk backfill keeps its phase, operation id, URL and byte
offset the same way.

A rejected token (HTTP 401/403, ACCESS_DENIED) marks the integration ``needs_reauth`` and stops
this brand cleanly; other brands' syncs are separate calls and are not touched.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from tower import names
from tower.config import Settings
from tower.connectors.retry import FatalError, NeedsReauth, RetriesExhausted, RetryPolicy
from tower.connectors.shopify import bulk as bulkmod
from tower.connectors.shopify import records, scratch
from tower.connectors.shopify import streams as st
from tower.connectors.shopify.client import PLATFORM, ShopifyClient
from tower.ports import DocumentStore, NotFound, Secrets, Warehouse
from tower.redact import redact
from tower.sync import privacy

log = logging.getLogger(__name__)

KEYS: dict[str, list[str]] = {
    "products": ["brand_id", "product_id"],
    "variants": ["brand_id", "variant_id"],
    "locations": ["brand_id", "location_id"],
    "orders": ["brand_id", "order_id"],
    "order_line_items": ["brand_id", "line_item_id"],
    "inventory_levels": ["brand_id", "snapshot_date", "inventory_item_id", "location_id"],
    "sync_state": ["brand_id", "platform", "resource", "account_id"],
    "integrations": ["brand_id", "platform", "account_id"],
}
READ_ALL_ORDERS = "read_all_orders"


class NotConnected(ValueError):
    """The brand has no usable Shopify integration (bad input: connect the store first)."""


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

    def touch(self, first: date | None, last: date | None) -> None:
        """Widen the store-local dates the stored rows fall on (what the models must rebuild)."""
        if first is not None:
            self.first_date = first if self.first_date is None else min(self.first_date, first)
        if last is not None:
            self.last_date = last if self.last_date is None else max(self.last_date, last)


Progress = Callable[[str, int], None]


def integration_for(warehouse: Warehouse, brand_id: str) -> dict[str, Any]:
    """The brand's Shopify integration row.

    Raises:
        NotConnected: There is none, or the app was uninstalled.
    """
    rows = warehouse.rows(
        "SELECT account_id, secret_ref, status, scopes FROM integrations "
        "WHERE brand_id = @brand_id AND platform = 'shopify' ORDER BY updated_at DESC LIMIT 1",
        {"brand_id": brand_id},
    )
    if not rows:
        raise NotConnected(f"brand {brand_id!r} has no Shopify store connected "
                           "(run: tower connect shopify --brand ID --shop NAME.myshopify.com --token T)")
    if rows[0]["status"] == "uninstalled":
        raise NotConnected(f"brand {brand_id!r}: the Shopify app was uninstalled; connect the store again")
    if rows[0]["status"] == "disconnected":
        raise NotConnected(f"brand {brand_id!r}: the store was disconnected and its data redacted (shop/redact); "
                           "connect the store again")
    return rows[0]


class ShopifySync:
    """One sync run of one brand (see :func:`sync_shopify`)."""

    def __init__(
        self,
        brand_id: str,
        *,
        settings: Settings,
        warehouse: Warehouse,
        secrets: Secrets,
        store: DocumentStore | None = None,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        monotonic: Callable[[], float] | None = None,
        progress: Progress | None = None,
        deadline_seconds: float | None = None,
        policy: RetryPolicy | None = None,
        bulk_block_bytes: int = bulkmod.BLOCK_BYTES,
    ) -> None:
        self.brand_id = brand_id
        self.bulk_block_bytes = bulk_block_bytes
        self.settings = settings
        self.warehouse = warehouse
        self.secrets = secrets
        self.store = store
        self.now = now or (lambda: datetime.now(UTC))
        self.sleep = sleep or time.sleep
        self.monotonic = monotonic or time.monotonic
        self.progress = progress or (lambda stage, n: None)
        self.deadline = deadline_seconds if deadline_seconds is not None else settings.shopify_sync_deadline_seconds
        self.policy = policy or RetryPolicy(sleep=self.sleep)
        self._t0 = self.monotonic()
        integration = integration_for(warehouse, brand_id)
        self.shop_domain: str = integration["account_id"]
        try:
            token = secrets.get(integration["secret_ref"])
        except NotFound as e:
            raise NotConnected(f"brand {brand_id!r}: the Shopify token is missing from the secret store") from e
        try:
            self.salt = secrets.get(names.customer_salt_secret_id(brand_id))
        except NotFound as e:
            raise NotConnected(f"brand {brand_id!r}: no customer-hash salt in the secret store "
                               "(connecting the store creates one)") from e
        self.client = ShopifyClient(
            self.shop_domain, token, api_version=settings.shopify_api_version, origin=settings.shopify_api_origin,
            timeout=settings.shopify_timeout_seconds, policy=self.policy, clock=self.monotonic,
        )
        self.result = SyncResult(brand_id, self.shop_domain)
        self.ctx: records.BrandContext | None = None
        self.suppressed: tuple[set[str], bool] = (set(), False)

    # -- sync_state ---------------------------------------------------------------------------------
    def _state(self, resource: str) -> dict[str, Any]:
        rows = self.warehouse.rows(
            "SELECT cursor_value, checkpoint, status FROM sync_state WHERE brand_id = @brand_id "
            "AND platform = 'shopify' AND resource = @resource AND account_id = @account_id",
            {"brand_id": self.brand_id, "resource": resource, "account_id": self.shop_domain},
        )
        return rows[0] if rows else {"cursor_value": None, "checkpoint": None, "status": None}

    def _save(self, resource: str, *, cursor_value: str | None, checkpoint: str | None, status: str,
              error: str | None = None) -> None:
        self.warehouse.merge("sync_state", [{
            "brand_id": self.brand_id, "platform": PLATFORM, "resource": resource, "account_id": self.shop_domain,
            "cursor_value": cursor_value, "checkpoint": checkpoint, "status": status,
            "error": redact(error) if error else error,  # stored masked: operators read it
            "updated_at": self.now(),
        }], KEYS["sync_state"])

    def _check_time(self) -> None:
        if self.monotonic() - self._t0 > self.deadline:
            raise _OutOfTime()

    def _merge(self, table: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> int:
        if isinstance(rows, pa.Table):
            n = self.warehouse.merge(table, rows, KEYS[table]) if rows.num_rows else 0
            if n and table == "orders":
                import pyarrow.compute as pc

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
        """
        self.since = since
        # A bulk load killed mid-way leaves its raw scratch file: do not wait for the next bulk load.
        scratch.remove_stale(self.settings.data_dir)
        resource = "shop"
        try:
            self._shop_info()
            resource = "locations"
            self._locations()
            resource = "products"
            self._paged(st.PRODUCTS, "products", lambda n: [records.product_row(x, self.ctx) for x in n], full)
            resource = "variants"
            self._paged(st.VARIANTS, "variants", lambda n: [records.variant_row(x, self.ctx) for x in n], full)
            resource = "product_deletions"
            self._paged(st.PRODUCT_DELETIONS, "products", self._deletions, full)
            resource = "inventory_levels"
            self._inventory()
            resource = "orders"
            self._orders(full)
        except _OutOfTime:
            self.result.status = "incomplete"
        except NeedsReauth as e:
            self._needs_reauth(resource, redact(str(e)))
        except FatalError as e:
            message = redact(str(e))
            self.result.status, self.result.error = "failed", message
            # Transient failures that outlasted the retries may pass later; a rejected query will not.
            self.result.retryable = isinstance(e, RetriesExhausted)
            state = self._state(resource)
            self._save(resource, cursor_value=state["cursor_value"], checkpoint=state["checkpoint"],
                       status="failed", error=message[:1000])
            log.error(json.dumps({"msg": "shopify sync failed", "brand_id": self.brand_id, "platform": PLATFORM,
                                  "resource": resource, "severity": "ERROR", "error": message[:300]}))
        else:
            self.warehouse.execute(
                "UPDATE integrations SET last_synced_at = @now, status = 'active', updated_at = @now "
                "WHERE brand_id = @brand_id AND platform = 'shopify' AND account_id = @account_id",
                {"now": self.now(), "brand_id": self.brand_id, "account_id": self.shop_domain},
            )
        self.result.requests, self.result.throttled = self.client.requests, self.client.throttled
        log.info(json.dumps({"msg": "shopify sync", "brand_id": self.brand_id, "platform": PLATFORM,
                             "severity": "INFO", "status": self.result.status, "stored": self.result.stored,
                             "requests": self.result.requests, "throttled": self.result.throttled}))
        return self.result

    def _needs_reauth(self, resource: str, message: str) -> None:
        self.result.status, self.result.error = "needs_reauth", message
        self.warehouse.execute(
            "UPDATE integrations SET status = 'needs_reauth', updated_at = @now "
            "WHERE brand_id = @brand_id AND platform = 'shopify' AND account_id = @account_id",
            {"now": self.now(), "brand_id": self.brand_id, "account_id": self.shop_domain},
        )
        state = self._state(resource)
        self._save(resource, cursor_value=state["cursor_value"], checkpoint=state["checkpoint"],
                   status="needs_reauth", error=message[:1000])
        log.warning(json.dumps({"msg": "shopify token rejected", "brand_id": self.brand_id, "platform": PLATFORM,
                                "severity": "WARNING", "resource": resource}))

    # -- steps --------------------------------------------------------------------------------------
    def _shop_info(self) -> None:
        data = self.client.execute(st.load_document("shop"), {"ordersQuery": None}).data
        shop = data["shop"]
        self.ctx = records.BrandContext(self.brand_id, shop["ianaTimezone"], shop["currencyCode"], self.salt)
        self.orders_count = int((data.get("ordersCount") or {}).get("count") or 0)
        scopes = {s["handle"] for s in (data.get("currentAppInstallation") or {}).get("accessScopes") or []}
        if READ_ALL_ORDERS not in scopes:
            self.result.warnings.append(
                "the token lacks read_all_orders: Shopify returns only the last 60 days of orders "
                "(reconnect the store with that scope for the full history)")
        self.suppressed = privacy.load_suppressions(self.store, self.brand_id)

    def _locations(self) -> None:
        rows: list[dict[str, Any]] = []
        for page in st.iter_pages(self.client, st.LOCATIONS):
            rows.extend(records.location_row(n, self.ctx) for n in page.nodes)  # type: ignore[arg-type]
        self._merge("locations", rows)
        self.locations = rows
        self.progress("locations", len(rows))

    def _deletions(self, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [records.deleted_product_row(n, self.ctx) for n in nodes if n.get("subjectId")]  # type: ignore[arg-type]
        ids = [r["product_id"] for r in rows]
        if ids:
            self.warehouse.execute(
                "UPDATE variants SET is_active = FALSE WHERE brand_id = @brand_id AND product_id IN UNNEST(@ids)",
                {"brand_id": self.brand_id, "ids": ids},
            )
        return rows  # type: ignore[return-value]

    def _paged(self, stream: st.Stream, table: str, to_rows: Callable[[list[dict[str, Any]]], list[Any]],
               full: bool, store_rows: Callable[[list[Any]], None] | None = None,
               since: str | None = None) -> None:
        """Read one incremental stream window, storing and checkpointing page by page.

        ``since`` re-reads from an earlier time than the cursor (a task asking for a window again).
        """
        state = self._state(stream.name)
        checkpoint = json.loads(state["checkpoint"]) if state["checkpoint"] else None
        if full or checkpoint is None:
            start = None if full else state["cursor_value"]
            if since and not full and (start is None or since < start):
                start = since
            checkpoint = {"since": start, "after": None, "max": state["cursor_value"] if not full else None}
        cursor = state["cursor_value"]
        for page in st.iter_pages(self.client, stream, since=checkpoint["since"], after=checkpoint["after"]):
            rows = to_rows(page.nodes)
            if store_rows is not None:
                store_rows(rows)
            else:
                self._merge(table, rows)
            if page.max_cursor_value and (checkpoint["max"] is None or page.max_cursor_value > checkpoint["max"]):
                checkpoint["max"] = page.max_cursor_value
            checkpoint["after"] = page.end_cursor
            self._save(stream.name, cursor_value=cursor, checkpoint=json.dumps(checkpoint), status="running")
            self.progress(stream.name, len(rows))
            if page.has_next:
                self._check_time()
        new_cursor = max(filter(None, [cursor, checkpoint["max"]]), default=None)
        self._save(stream.name, cursor_value=new_cursor, checkpoint=None, status="idle")

    def _inventory(self) -> None:
        """Today's snapshot of every level at every active location, replacing today's rows."""
        today = self.ctx.local_date(self.now())  # type: ignore[union-attr]
        rows: list[dict[str, Any]] = []
        for loc in self.locations:
            if not loc["is_active"]:
                continue
            for page in st.iter_pages(self.client, st.INVENTORY_LEVELS, variables={"location": loc["location_id"]}):
                rows.extend(records.inventory_level_row(n, loc["location_id"], today, self.ctx)  # type: ignore[arg-type]
                            for n in page.nodes)
        table = records.to_table("inventory_levels", rows) if rows else records.table_schema("inventory_levels").empty_table()
        n = self.warehouse.replace_window("inventory_levels", table, date_column="snapshot_date", start=today,
                                          end=today + timedelta(days=1), where={"brand_id": self.brand_id})
        self.result.add("inventory_levels", n)
        self.result.touch(today, today)
        self._save("inventory_levels", cursor_value=today.isoformat(), checkpoint=None, status="idle")
        self.progress("inventory_levels", n)

    # -- orders -------------------------------------------------------------------------------------
    def _orders(self, full: bool) -> None:
        orders_state = self._state("orders")
        bulk_state = self._state("orders_bulk")
        resuming_bulk = bool(bulk_state["checkpoint"]) and not full
        first = orders_state["cursor_value"] is None and orders_state["checkpoint"] is None
        if resuming_bulk or ((first or full) and self.orders_count >= self.settings.shopify_bulk_min_orders):
            self.result.mode = "bulk"
            self._bulk_orders(None if full else bulk_state["checkpoint"])
            return
        if full:
            self.result.mode = "full"
        since = None
        if self.since is not None:
            start = datetime.combine(self.since, datetime.min.time(), self.ctx.zone)  # type: ignore[union-attr]
            since = st.shopify_time(start)
        self._paged(st.ORDERS, "orders", self._order_rows, full, store_rows=self._store_orders, since=since)

    def refresh_order(self, order_id: str, ctx: records.BrandContext) -> int:
        """Read one order by id and store it as the poller does; return the rows stored (0: not found).

        ``orders/edited`` carries the edit (line items added and removed), not the order: its totals
        and lines after the edit come from the Admin API.

        Raises:
            NeedsReauth: The token was rejected.
            FatalError: The read was refused, or kept failing (RetriesExhausted).
        """
        self.ctx = ctx
        self.suppressed = privacy.load_suppressions(self.store, self.brand_id)
        variables = {"id": order_id, "lineItems": st.ORDERS.extra_variables["lineItems"]}
        node = self.client.execute(st.load_document("order"), variables).data.get("order")
        if not node:
            return 0
        pairs = self._order_rows([node])
        self._store_orders(pairs)
        return 1 + len(pairs[0][1])

    def _order_rows(self, nodes: list[dict[str, Any]]) -> list[tuple[Any, list[Any]]]:
        return [records.order_rows(st.complete_line_items(self.client, n), self.ctx) for n in nodes]  # type: ignore[arg-type]

    def _store_orders(self, pairs: list[tuple[Any, list[Any]]]) -> None:
        orders = [o for o, _ in pairs]
        lines = [li for _, items in pairs for li in items]
        privacy.suppress_rows(orders, *self.suppressed)
        self._keep_known_links(lines)
        self._merge("orders", orders)
        self._merge("order_line_items", lines)

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

    def _link_table(self, table: pa.Table) -> pa.Table:
        """:meth:`_keep_known_links` for a bulk block's line items (only the unlinked rows move)."""
        import pyarrow.compute as pc

        mask = pc.and_(pc.is_null(table.column("variant_id")), pc.is_null(table.column("product_id")))
        if not pc.any(mask).as_py():
            return table
        rows = table.filter(mask).to_pylist()
        self._keep_known_links(rows)
        fixed = pa.Table.from_pylist(rows, schema=table.schema)
        return pa.concat_tables([table.filter(pc.invert(mask)), fixed])

    def _bulk_orders(self, checkpoint: str | None) -> None:
        progress = bulkmod.BulkProgress.from_json(checkpoint)

        def save(p: bulkmod.BulkProgress, status: str = "running") -> None:
            self._save("orders_bulk", cursor_value=p.operation_id, checkpoint=p.to_json(), status=status)

        loader = bulkmod.BulkLoader(
            store_orders=lambda t: self._merge("orders", privacy.suppress_table(t, *self.suppressed)),
            store_line_items=lambda t: self._merge("order_line_items", self._link_table(t)),
            order_keys=self._order_keys,
        )
        poll_wait = self.settings.shopify_bulk_poll_seconds
        while progress.phase != "done":
            if progress.restarts > 3:
                raise FatalError("the bulk export failed more than three times", platform=PLATFORM)
            if progress.phase == "start":
                if not bulkmod.start_operation(self.client, progress):
                    self.result.warnings.append("another bulk export holds the slot; waiting")
                    self.sleep(poll_wait)
                    self._check_time()
                    continue
                save(progress, "polling")
            elif progress.phase == "poll":
                bulkmod.poll_operation(self.client, progress)
                save(progress, "polling")
                if progress.phase == "poll":
                    self.progress("bulk_poll", 0)
                    self.sleep(poll_wait)
                    self._check_time()
            elif progress.phase == "fetch":
                before = progress.orders
                try:
                    finished = bulkmod.fetch_blocks(
                        progress, self.ctx, loader, timeout=self.settings.shopify_timeout_seconds,  # type: ignore[arg-type]
                        policy=self.policy, checkpoint=save,
                        out_of_time=lambda: self.monotonic() - self._t0 > self.deadline,
                        block_bytes=self.bulk_block_bytes, data_dir=self.settings.data_dir,
                    )
                except bulkmod.BulkExpired:
                    progress.phase, progress.restarts = "start", progress.restarts + 1
                    save(progress)
                    continue
                self.progress("orders", progress.orders - before)
                if not finished:
                    raise _OutOfTime()
        # The export saw every order as of when it started; the next incremental sync re-reads from
        # there (inclusive), so changes made during the export are not lost.
        self._save("orders", cursor_value=progress.started_at, checkpoint=None, status="idle")
        self._save("orders_bulk", cursor_value=progress.operation_id, checkpoint=None, status="idle")

    def _order_keys(self, ids: Sequence[str]) -> pa.Table:
        return self.warehouse.query(
            "SELECT order_id, order_date, currency FROM orders WHERE brand_id = @brand_id "
            "AND order_id IN UNNEST(@ids)", {"brand_id": self.brand_id, "ids": list(ids)})


def sync_shopify(
    brand_id: str,
    *,
    settings: Settings,
    warehouse: Warehouse,
    secrets: Secrets,
    store: DocumentStore | None = None,
    full: bool = False,
    since: date | None = None,
    **kwargs: Any,
) -> SyncResult:
    """Sync one brand's Shopify store into the warehouse (or resume the sync that was cut off).

    Args:
        brand_id: The brand.
        settings: API version and origin, deadline, bulk threshold.
        warehouse: Where the rows go (MERGE on natural keys).
        secrets: Holds the integration's token and the brand's customer-hash salt.
        store: Document store with privacy suppressions (optional).
        full: Re-read everything instead of from the cursors.
        since: Also re-read orders changed from this store-local day on.
        **kwargs: ``now``, ``sleep``, ``monotonic`` (tests inject fake clocks), ``progress``
            (``(stage, rows)`` callback), ``deadline_seconds``, ``policy``.

    Raises:
        NotConnected: The brand has no usable Shopify integration.
    """
    return ShopifySync(brand_id, settings=settings, warehouse=warehouse, secrets=secrets, store=store,
                       **kwargs).run(full=full, since=since)


def sync_brand(runtime: Any, brand_id: str, *, full: bool = False, since: date | None = None) -> dict[str, Any]:
    """The pipeline's Shopify task: sync one brand with the runtime's adapters.

    Returns ``status`` (``ok``; ``partial`` when the deadline cut it and a new task must resume;
    ``needs_reauth``; ``failed``), the rows stored and the half-open window ``[window_start,
    window_end)`` of store-local dates the stored orders and snapshot fall on.

    Raises:
        NotConnected: The brand has no usable Shopify integration (a malformed task).
        RuntimeError: Transient failures outlasted the retries: the task queue tries again later.
    """
    result = sync_shopify(brand_id, settings=runtime.settings, warehouse=runtime.warehouse,
                          secrets=runtime.secrets, store=runtime.store, full=full, since=since)
    if result.status == "failed" and result.retryable:
        raise RuntimeError(f"Shopify sync of {brand_id} failed for now: {result.error}")
    out: dict[str, Any] = {
        "status": "partial" if result.status == "incomplete" else result.status, "platform": PLATFORM,
        "mode": result.mode, "stored": result.stored, "requests": result.requests, "warnings": result.warnings,
        "error": result.error,
    }
    if result.first_date and result.last_date:
        out["window_start"] = result.first_date.isoformat()
        out["window_end"] = (result.last_date + timedelta(days=1)).isoformat()
    return out
