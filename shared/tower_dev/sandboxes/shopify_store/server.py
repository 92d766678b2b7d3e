"""The sandbox store's HTTP server: Shopify's Admin GraphQL endpoint and bulk downloads on 127.0.0.1.

Routes (the real paths):
    ``POST /admin/api/<version>/graphql.json`` with ``X-Shopify-Access-Token``: the token says which
    shop (every shop shares the sandbox's origin, so the host cannot).
    ``GET /bulk/<file>.jsonl``: a finished bulk operation's result (``Range: bytes=N-`` supported).
    ``GET /s/files/1/<shop>/files/<handle>.png``: a product's featured image (:mod:`.images`).
    ``GET /admin/oauth/authorize`` and ``POST /admin/oauth/access_token``: installing an app (:mod:`.oauth`).
    ``GET /store/<name>/apps/<client_id>``, its ``POST …/id-token`` and ``GET /shopifycloud/app-bridge.js``: the
    admin framing an embedded app, and the stand-in for Shopify's App Bridge script (:mod:`.admin`).
    ``GET``/``POST /admin/charges/<app>/<id>/RecurringApplicationCharge/confirm_recurring_application_charge``:
    the page where the merchant approves or declines an app subscription (:mod:`.billing`).

Every GraphQL error answers HTTP 200, as Shopify's do; a bad token answers 401 with Shopify's REST
error body; the faults of :mod:`tower_dev.sandboxes.shopify_store.faults` replace an answer when they fire.

Usage::

    handle = serve_world(world, "127.0.0.1", 0)     # a free port
    handle.origin, handle.tokens["brand_a"]         # what the connector needs
    handle.stop()
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from graphql import GraphQLSchema

from tower.connectors.shopify.schema import load_schema, schema_path
from tower_dev.sandboxes.identity import IDENTITY_PATH, identity_body, world_identity
from tower_dev.sandboxes.shopify_store import admin, billing, connections, images, oauth
from tower_dev.sandboxes.shopify_store.api import execute_request
from tower_dev.sandboxes.shopify_store.bulk import BulkRegistry
from tower_dev.sandboxes.shopify_store.clock import RealClock
from tower_dev.sandboxes.shopify_store.cost import LeakyBucket
from tower_dev.sandboxes.shopify_store.discounts import Discounts
from tower_dev.sandboxes.shopify_store.faults import FaultPlan
from tower_dev.sandboxes.shopify_store.state import ShopState
from tower_dev.sandboxes.shopify_store.webhooks import WebhookSender

log = logging.getLogger(__name__)

API_VERSION = "2026-04"
DEFAULT_SCOPES = frozenset(
    {
        "read_products",
        "read_orders",
        "read_all_orders",
        "read_inventory",
        "read_locations",
        "read_customers",
        "read_merchant_managed_fulfillment_orders",
        # an accepted promotion card creates an automatic discount (and Undo deactivates it)
        "read_discounts",
        "write_discounts",
    }
)
#: A Standard plan's bucket: 2,000 points, restoring 100 a second (the live captures' numbers).
BUCKET_MAXIMUM = 2000.0
BUCKET_RESTORE_RATE = 100.0
_GRAPHQL_PATH = re.compile(r"^/admin/api/(?P<version>[^/]+)/graphql\.json$")
_BULK_PATH = re.compile(r"^/bulk/(?P<file>[0-9a-f]+)\.jsonl$")
_CHARGE_PATH = re.compile(
    r"^/admin/charges/[^/]+/(?P<id>\d+)/RecurringApplicationCharge/confirm_recurring_application_charge$")
_INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


@dataclass
class SandboxShop:
    """One shop: its data, bucket, faults, bulk operations and webhook sender."""

    state: ShopState
    schema: GraphQLSchema
    bucket: LeakyBucket
    faults: FaultPlan = field(default_factory=FaultPlan)
    scopes: frozenset[str] = DEFAULT_SCOPES
    token_expired: bool = False
    bulk: BulkRegistry = field(init=False)
    discounts: Discounts = field(default_factory=Discounts)
    webhooks: WebhookSender | None = None
    billing: billing.Billing = field(default_factory=billing.Billing)
    _indexes: dict[tuple[str, str], tuple[int, connections.SortedIndex]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bulk = BulkRegistry(self)

    def index(
        self, name: str, sort_key: str, items: Any, sort_value: Any, id_of: Any
    ) -> connections.SortedIndex:
        """A sorted index of a listing, rebuilt only when the shop's data changed."""
        cached = self._indexes.get((name, sort_key))
        if cached and cached[0] == self.state.version:
            return cached[1]
        idx = connections.SortedIndex(items, sort_value, id_of)
        self._indexes[(name, sort_key)] = (self.state.version, idx)
        return idx


class ShopifySandbox:
    """Every sandbox shop behind one origin, keyed by access token."""

    def __init__(self, schema: GraphQLSchema, *, clock: Any = None, api_version: str = API_VERSION) -> None:
        self.schema = schema
        self.clock = clock or RealClock()
        self.api_version = api_version
        self.shops: dict[str, SandboxShop] = {}  # brand_id -> shop
        self.tokens: dict[str, str] = {}  # token -> brand_id
        self.origin = ""
        #: What ``GET /__sandbox__`` answers: the world served (None: shops made by hand).
        self.identity: dict[str, Any] | None = None
        #: The apps that may install (``oauth.register``) and the codes issued (:mod:`.oauth`).
        self.oauth = oauth.OAuthApps()

    def add_shop(
        self,
        state: ShopState,
        *,
        token: str | None = None,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        bucket_maximum: float = BUCKET_MAXIMUM,
        restore_rate: float = BUCKET_RESTORE_RATE,
    ) -> str:
        """Serve a shop; return its access token."""
        shop = SandboxShop(
            state,
            self.schema,
            LeakyBucket(bucket_maximum, restore_rate, self.clock.monotonic),
            scopes=frozenset(scopes),
        )
        shop.bulk.url_for = lambda file_id: f"{self.origin}/bulk/{file_id}.jsonl"
        state.file_origin = lambda: self.origin
        shop.billing.url_for = lambda c: (
            self.origin + billing.CONFIRM_PATH.format(app=state.shop_id, id=c.id) + f"?signature={c.signature}")
        self.shops[state.brand_id] = shop
        token = token or f"shpat_{secrets.token_hex(16)}"
        self.tokens[token] = state.brand_id
        return token

    def shop_for(self, token: str | None) -> SandboxShop | None:
        """The shop a token opens; None for an unknown token or an expiring one past its expiry."""
        brand = self.tokens.get(token or "")
        expiry = self.oauth.token_expiry.get(token or "")
        if expiry is not None and expiry <= self.clock.now():
            return None
        return self.shops.get(brand) if brand else None

    def find_file(self, file_id: str) -> tuple[SandboxShop, bytes] | None:
        for shop in self.shops.values():
            body = shop.bulk.files.get(file_id)
            if body is not None:
                return shop, body
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("shopify sandbox: " + format, *args)

    # -- helpers -----------------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: Mapping[str, str] | None = None,
        cut: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        if cut:
            # A connection dropped mid-page: half the promised bytes, then the socket closes.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _json(self, status: int, obj: Any, **kw: Any) -> None:
        self._send(status, json.dumps(obj).encode(), **kw)

    # -- routes --------------------------------------------------------------------------------------
    def do_POST(self) -> None:
        sandbox = self.server.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?", 1)[0] == "/admin/oauth/access_token":
            self._json(*oauth.access_token(sandbox, raw, self.headers.get("Content-Type") or ""))
            return
        path, _, query = self.path.partition("?")
        if admin.ID_TOKEN.match(path):
            self._json(*admin.id_token(sandbox, path, self.headers.get("Origin")))
            return
        charge = _CHARGE_PATH.match(path)
        if charge:
            status, headers, body = billing.decide(list(sandbox.shops.values()), int(charge.group("id")), query, raw)
            self._send(status, body, headers.pop("Content-Type", "text/html"), headers)
            return
        m = _GRAPHQL_PATH.match(self.path.split("?", 1)[0])
        if not m:
            self._json(404, {"errors": "Not Found"})
            return
        if m.group("version") != sandbox.api_version:
            # The sandbox holds one schema; Shopify would fall forward to a supported version.
            self._json(
                404,
                {
                    "errors": f"API version {m.group('version')} is not served by this sandbox "
                    f"(it serves {sandbox.api_version})"
                },
            )
            return
        shop = sandbox.shop_for(self.headers.get("X-Shopify-Access-Token"))
        if shop is None:
            self._json(401, _INVALID_TOKEN)
            return
        fired = {f.kind for f in shop.faults.next_request()}
        if "expired_token" in fired:
            shop.token_expired = True
        if shop.token_expired:
            self._json(401, _INVALID_TOKEN)
            return
        if "reset" in fired:
            self.close_connection = True
            self.connection.close()
            return
        for status in (500, 502, 503):
            if f"http_{status}" in fired:
                self._send(status, b"<html><body><h1>Service unavailable</h1></body></html>", "text/html")
                return
        if "internal_error" in fired:
            rid = secrets.token_hex(8)
            self._json(
                200,
                {
                    "errors": [
                        {
                            "message": "Internal error. Looks like something went wrong on our "
                            f"end.\nRequest ID: {rid} (include this in support requests).",
                            "extensions": {"requestId": rid, "code": "INTERNAL_SERVER_ERROR"},
                        }
                    ],
                    "data": None,
                },
            )
            return
        if "throttle" in fired:
            shop.bucket.drain()
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            request = None
        query = request.get("query") if isinstance(request, dict) else None
        if not isinstance(query, str):
            self._json(400, {"errors": [{"message": "Invalid JSON in request body: a query string is required",
                                         "extensions": {"code": "BAD_REQUEST"}}]})
            return
        variables = request.get("variables") or {}
        body = execute_request(
            self.server.sandbox.schema, shop, shop.scopes, query, variables, request.get("operationName")
        )
        self._send(
            200,
            json.dumps(body).encode(),
            headers={"X-Shopify-API-Version": sandbox.api_version},
            cut="drop" in fired,
        )

    def do_GET(self) -> None:
        if self.path == IDENTITY_PATH:
            self._send(200, identity_body("shopify", self.server.sandbox.identity))
            return
        path, _, query = self.path.partition("?")
        if path == "/admin/oauth/authorize":
            status, headers, body = oauth.authorize(self.server.sandbox, query)
            self._send(status, body, headers.pop("Content-Type", "text/html"), headers)
            return
        if path == admin.APP_BRIDGE_PATH:
            self._send(200, admin.APP_BRIDGE_JS.encode(), "text/javascript; charset=utf-8")
            return
        if admin.APP_PAGE.match(path):
            status, headers, body = admin.app_page(self.server.sandbox, path, query)
            self._send(status, body, headers.pop("Content-Type", "text/html"), headers)
            return
        if path.startswith("/s/files/"):
            self._image(path)
            return
        charge = _CHARGE_PATH.match(path)
        if charge:
            status, headers, body = billing.confirmation_page(list(self.server.sandbox.shops.values()),
                                                              int(charge.group("id")), query)
            self._send(status, body, headers.pop("Content-Type", "text/html"), headers)
            return
        m = _BULK_PATH.match(self.path.split("?", 1)[0])
        if not m:
            self._json(404, {"errors": "Not Found"})
            return
        found = self.server.sandbox.find_file(m.group("file"))
        if found is None:
            self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return
        shop, body = found
        start = 0
        rng = re.match(r"^bytes=(\d+)-$", self.headers.get("Range") or "")
        status = 200
        headers = {"Accept-Ranges": "bytes"}
        if rng:
            start = int(rng.group(1))
            if start >= len(body) and body:
                self._send(416, b"", "application/jsonl", {"Content-Range": f"bytes */{len(body)}"})
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{max(len(body) - 1, start)}/{len(body)}"
        self._send(status, body[start:], "application/jsonl", headers, cut=shop.faults.next_download())


    def _image(self, path: str) -> None:
        """A product's featured image (:mod:`.images`); the CDN's 404 for any other file."""
        product = images.find((shop.state for shop in self.server.sandbox.shops.values()), path)
        if product is None:
            self._send(404, b"Not Found", "text/plain; charset=utf-8")
            return
        # the URL is versioned (?v=), so a browser may keep it, as Shopify's CDN lets it
        self._send(200, images.png(product.handle), "image/png", {"Cache-Control": "public, max-age=31536000"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: ShopifySandbox


@dataclass
class SandboxHandle:
    """A running sandbox store: its origin, the shops' tokens and domains; ``stop()`` ends it."""

    sandbox: ShopifySandbox
    server: _Server
    thread: threading.Thread

    @property
    def origin(self) -> str:
        return self.sandbox.origin

    @property
    def tokens(self) -> dict[str, str]:
        """brand_id → access token."""
        return {brand: token for token, brand in self.sandbox.tokens.items()}

    @property
    def shops(self) -> dict[str, SandboxShop]:
        return self.sandbox.shops

    def shop(self, brand_id: str) -> SandboxShop:
        return self.sandbox.shops[brand_id]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(sandbox: ShopifySandbox, host: str = "127.0.0.1", port: int = 0) -> SandboxHandle:
    """Serve a sandbox on host:port (0 = a free port) in a daemon thread."""
    server = _Server((host, port), _Handler)
    server.sandbox = sandbox
    bound_host, bound_port = server.server_address[:2]
    sandbox.origin = f"http://{bound_host}:{bound_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="shopify-sandbox",
                              daemon=True)
    thread.start()
    return SandboxHandle(sandbox, server, thread)


def build_sandbox(
    world: Any,
    *,
    clock: Any = None,
    schema_file: str | Path | None = None,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    bucket_maximum: float = BUCKET_MAXIMUM,
    restore_rate: float = BUCKET_RESTORE_RATE,
    tokens: Mapping[str, str] | None = None,
    bulk_polls_to_complete: int = 2,
) -> ShopifySandbox:
    """A sandbox with one shop per world brand (not yet serving).

    Args:
        world: The synthetic world (``tower_dev.world.generate_world``).
        clock: RealClock (default) or a FakeClock shared with the client in tests.
        schema_file: Shopify's Admin SDL; default ``../shared/schemas/shopify/admin-2026-04.graphql``.
        scopes: What every shop's token may read (drop ``read_all_orders`` to see the 60-day limit).
        bucket_maximum: The cost bucket's size (2,000 on a Standard plan).
        restore_rate: Points restored per second (100 on a Standard plan).
        tokens: Fixed access tokens per brand id (default: random ``shpat_...``).
        bulk_polls_to_complete: Polls a bulk operation takes to finish (CREATED → RUNNING → COMPLETED).
    """
    schema = load_schema(schema_file or schema_path(API_VERSION))
    clock = clock or RealClock()
    sandbox = ShopifySandbox(schema, clock=clock)
    sandbox.identity = world_identity(world, bucket_maximum=bucket_maximum, restore_rate=restore_rate,
                                      scopes=sorted(scopes))
    now: Any = clock.now
    for bw in world.brands:
        state = ShopState.from_brand_world(bw, clock=now)
        sandbox.add_shop(
            state,
            token=(tokens or {}).get(state.brand_id),
            scopes=scopes,
            bucket_maximum=bucket_maximum,
            restore_rate=restore_rate,
        )
    return sandbox


def serve_world(world: Any, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> SandboxHandle:
    """Serve every shop of a synthetic world; see :func:`build_sandbox` for the options.

    Raises:
        SchemaMissing: Shopify's Admin schema is not at ``../shared/schemas/shopify/``.
    """
    return start(build_sandbox(world, **kwargs), host, port)


def connect_world(warehouse: Any, secrets: Any, world: Any, handle: SandboxHandle, now: datetime) -> list[str]:
    """Register every world brand and connect it to its sandbox shop, as a merchant would with
    ``tower brands add`` and ``tower connect shopify``; the brand's salt is the world's own (the
    world hashed its customers with it). Returns the brand ids, ready for ``sync_shopify``."""
    from tower import names
    from tower.brands import add_brand
    from tower.sync.connect import connect_shopify

    out = []
    for bw in world.brands:
        b = bw.brand
        add_brand(warehouse, brand_id=b["brand_id"], name=b["brand_name"], timezone=b["timezone"],
                  currency=b["currency"], now=now)
        connect_shopify(warehouse, secrets, brand_id=b["brand_id"], shop=b["shop_domain"],
                        token=handle.tokens[b["brand_id"]], now=now,
                        scopes=sorted(handle.shop(b["brand_id"]).scopes))
        secrets.rotate(names.customer_salt_secret_id(b["brand_id"]), bw.customer_salt)
        out.append(str(b["brand_id"]))
    return out
