"""What the three ad-platform sandboxes share: the accounts they serve, faults on demand, servers.

Each sandbox (``sandbox/meta``, ``sandbox/tiktok``, ``sandbox/google_ads``) serves the synthetic
world's ad accounts in its platform's real wire format. The truth they serve is held here, in the
warehouse's own shapes (``ad_campaigns``, ``ad_campaign_products``, ``ad_performance`` rows), so a
test can compare what the connectors stored with exactly what was served, including after a budget
change or a restatement of late conversions.

Faults are switched on per sandbox through :class:`FaultPlan`: scheduled ("the 3rd insights page
fails once with a throttle") or random with a seed ("every request fails with probability 0.2,
with a kind drawn from these"). Every fault served is recorded.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Self

from tower.names import AD_PLATFORMS
from tower_dev.sandboxes.identity import IDENTITY_PATH, identity_body, world_identity

log = logging.getLogger(__name__)


# --- faults -------------------------------------------------------------------------------------


@dataclass
class _Scheduled:
    kind: str
    endpoint: str | None
    skip: int
    times: int | None  # None: every matching request until cleared


class FaultPlan:
    """Faults a sandbox serves on demand (thread-safe).

    ``add("throttle", endpoint="insights", after=2, times=1)`` makes the 3rd insights request fail
    once with a throttle. ``randomize(seed, rate, kinds)`` makes every request fail with probability
    ``rate``, the kind drawn from ``kinds``. ``served`` lists every fault served as
    ``(endpoint, kind)``. ``deny(kind, endpoints)`` fails every request to those endpoints, as a
    permission the token lacks does, until :meth:`clear`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scheduled: list[_Scheduled] = []
        self._rng: random.Random | None = None
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ()
        self._random_endpoints: tuple[str, ...] | None = None
        self.served: list[tuple[str, str]] = []
        self.requests: dict[str, int] = defaultdict(int)

    def add(self, kind: str, *, endpoint: str | None = None, after: int = 0, times: int | None = 1) -> FaultPlan:
        """Schedule ``times`` faults of ``kind`` (None: every one) after ``after`` matching requests pass cleanly."""
        with self._lock:
            self._scheduled.append(_Scheduled(kind, endpoint, after, times))
        return self

    def deny(self, kind: str, endpoints: Iterable[str]) -> FaultPlan:
        """Fail every request to ``endpoints`` with ``kind`` until :meth:`clear` (a standing refusal)."""
        for endpoint in endpoints:
            self.add(kind, endpoint=endpoint, times=None)
        return self

    def randomize(
        self, seed: int, rate: float, kinds: Iterable[str], endpoints: Iterable[str] | None = None
    ) -> FaultPlan:
        """Fail each request (of ``endpoints``, default all) with probability ``rate``."""
        with self._lock:
            self._rng = random.Random(seed)
            self._rate = rate
            self._kinds = tuple(kinds)
            self._random_endpoints = tuple(endpoints) if endpoints is not None else None
        return self

    def clear(self) -> None:
        """No more faults (what was served stays recorded)."""
        with self._lock:
            self._scheduled.clear()
            self._rng = None
            self._rate = 0.0

    def draw(self, endpoint: str, *, named_only: bool = False) -> str | None:
        """The fault to serve for this request to ``endpoint``, if any (and record it).

        Args:
            named_only: Only faults scheduled for this very endpoint (a second, finer draw of one
                request, such as the resource a Google Ads query reads, which must not consume the
                faults scheduled for any request or drawn at random).
        """
        with self._lock:
            self.requests[endpoint] += 1
            for s in self._scheduled:
                if s.endpoint != endpoint and (named_only or s.endpoint is not None):
                    continue
                if s.skip > 0:
                    s.skip -= 1
                    continue
                if s.times is None or s.times > 0:
                    if s.times is not None:
                        s.times -= 1
                    self.served.append((endpoint, s.kind))
                    return s.kind
            if (
                not named_only
                and self._rng is not None
                and (self._random_endpoints is None or endpoint in self._random_endpoints)
                and self._rng.random() < self._rate
            ):
                kind = self._rng.choice(self._kinds)
                self.served.append((endpoint, kind))
                return kind
            return None

    def count(self, kind: str | None = None) -> int:
        """Faults served (of one kind)."""
        return sum(1 for _, k in self.served if kind is None or k == kind)


# --- the accounts served ----------------------------------------------------------------------


@dataclass
class SandboxAccount:
    """One ad account as a sandbox serves it, held in the warehouse's shapes."""

    platform: str
    account_id: str
    brand_id: str
    currency: str
    timezone: str
    name: str = ""
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    performance: dict[tuple[str, date], list[dict[str, Any]]] = field(default_factory=dict)
    #: Shopify product gid → {"handle": str, "variant_ids": [numeric str]} (catalog items, URLs).
    catalog: dict[str, dict[str, Any]] = field(default_factory=dict)
    shop_domain: str = ""
    #: Bumped whenever the served performance changes (servers cache computed reports per version).
    version: int = 0

    def days(self) -> list[date]:
        """Every day with performance, sorted."""
        return sorted({d for _, d in self.performance})

    def rows_between(self, start: date, end: date) -> list[dict[str, Any]]:
        """Performance rows with start ≤ stat_date ≤ end (inclusive: the platforms' own ranges)."""
        out = []
        for (_cid, d), rows in self.performance.items():
            if start <= d <= end:
                out.extend(rows)
        return out

    def totals_between(
        self, start: date, end: date, key: Callable[[dict[str, Any]], str | None]
    ) -> dict[tuple[date, str, str], dict[str, Any]]:
        """Rows of [start, end] summed per (stat_date, campaign_id, key(row)); rows whose key is None are
        left out. What each platform's report does with its own breakdown values (Meta region names,
        TikTok province ids, countries)."""
        groups: dict[tuple[date, str, str], dict[str, Any]] = {}
        for r in self.rows_between(start, end):
            value = key(r)
            if value is None:
                continue
            g = groups.setdefault(
                (r["stat_date"], str(r["campaign_id"]), value),
                {"campaign_name": r.get("campaign_name"), "spend": Decimal(0), "impressions": 0, "clicks": 0,
                 "purchases": 0.0, "value": Decimal(0)},
            )
            g["spend"] += Decimal(r.get("spend_amount") or 0)
            g["impressions"] += int(r.get("impressions") or 0)
            g["clicks"] += int(r.get("clicks") or 0)
            g["purchases"] += float(r.get("purchases") or 0)
            g["value"] += Decimal(r.get("purchase_value_amount") or 0)
        return groups

    def performance_rows(self) -> list[dict[str, Any]]:
        """Every performance row served (the truth after restatements)."""
        return [r for rows in self.performance.values() for r in rows]

    def campaign_rows(self) -> list[dict[str, Any]]:
        """Every campaign served, budgets as they now stand."""
        return [dict(c) for c in self.campaigns.values()]

    def add_late_conversions(self, since: date, seed: int, share: float = 0.5) -> int:
        """Restate: add late purchases to a seeded share of rows dated on or after ``since``.

        Returns the number of rows changed. Value grows by the row's own average order value
        (or 25.00 when it had none), as late conversions do.
        """
        rng = random.Random(seed)
        changed = 0
        for (_cid, d), rows in sorted(self.performance.items()):
            if d < since:
                continue
            for r in rows:
                if rng.random() >= share:
                    continue
                extra = rng.randint(1, 3)
                purchases = float(r.get("purchases") or 0)
                value = Decimal(r.get("purchase_value_amount") or 0)
                aov = (
                    (value / Decimal(purchases)).quantize(Decimal("0.01")) if purchases else Decimal("25.00")
                )
                r["purchases"] = purchases + extra
                r["purchase_value_amount"] = value + aov * extra
                changed += 1
        self.version += 1
        return changed


class ReportCache:
    """Computed reports by request (a platform computes a report once and pages through it)."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._items: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        """The cached value for ``key``, computed on a miss."""
        with self._lock:
            if key in self._items:
                return self._items[key]
        value = compute()
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = value
        return value


def _campaign_key(row: dict[str, Any]) -> tuple[str, date]:
    return (str(row["campaign_id"]), row["stat_date"])


def accounts_from_tables(
    platform: str,
    account: dict[str, Any],
    brand_id: str,
    campaigns: list[dict[str, Any]],
    campaign_products: list[dict[str, Any]],
    performance: list[dict[str, Any]],
    products: list[dict[str, Any]] | None = None,
    variants: list[dict[str, Any]] | None = None,
    shop_domain: str = "",
) -> SandboxAccount:
    """A sandbox account from warehouse-shaped rows (a brand world's tables, or a test's own)."""
    acct = SandboxAccount(
        platform=platform,
        account_id=str(account["account_id"]),
        brand_id=brand_id,
        currency=account["currency"],
        timezone=account["timezone"],
        name=account.get("name") or f"{brand_id} {platform}",
        shop_domain=shop_domain,
    )
    for c in campaigns:
        if c["platform"] == platform and str(c["account_id"]) == acct.account_id:
            acct.campaigns[str(c["campaign_id"])] = dict(c)
    for p in campaign_products:
        if p["platform"] == platform and str(p["campaign_id"]) in acct.campaigns:
            acct.products.setdefault(str(p["campaign_id"]), []).append(dict(p))
    for r in performance:
        if r["platform"] == platform and str(r["account_id"]) == acct.account_id:
            acct.performance.setdefault(_campaign_key(r), []).append(dict(r))
    handles = {p["product_id"]: p.get("handle") or "" for p in products or []}
    by_product: dict[str, list[str]] = defaultdict(list)
    for v in variants or []:
        by_product[v["product_id"]].append(str(v["variant_id"]).rsplit("/", 1)[-1])
    for pid in {p["product_id"] for rows in acct.products.values() for p in rows}:
        acct.catalog[pid] = {
            "handle": handles.get(pid) or pid.rsplit("/", 1)[-1],
            "variant_ids": sorted(by_product.get(pid, [])) or [pid.rsplit("/", 1)[-1]],
        }
    return acct


def accounts_from_brand_world(bw: Any) -> list[SandboxAccount]:
    """The three ad accounts of one synthetic brand (``tower_dev.world`` BrandWorld)."""
    tables = {
        name: bw.tables[name].to_pylist()
        for name in ("ad_campaigns", "ad_campaign_products", "ad_performance")
    }
    products = bw.tables["products"].to_pylist() if "products" in bw.tables else []
    variants = bw.tables["variants"].to_pylist() if "variants" in bw.tables else []
    out = []
    for platform, account in bw.ad_accounts.items():
        out.append(
            accounts_from_tables(
                platform,
                account,
                bw.brand["brand_id"],
                tables["ad_campaigns"],
                tables["ad_campaign_products"],
                tables["ad_performance"],
                products,
                variants,
                bw.brand.get("shop_domain") or "",
            )
        )
    return out


class AccountRegistry:
    """The accounts one sandbox serves, and which access tokens reach them."""

    def __init__(self, platform: str, accounts: Iterable[SandboxAccount] = ()) -> None:
        self.platform = platform
        self.accounts: dict[str, SandboxAccount] = {}
        self._tokens: dict[str, set[str]] = {}
        #: token → when it stops working (on :meth:`now`'s clock); tokens without an entry never expire.
        self._expires: dict[str, float] = {}
        #: Seconds added to the wall clock: :meth:`advance` lets tokens expire without waiting.
        self.clock_offset = 0.0
        self._lock = threading.RLock()
        for a in accounts:
            self.add(a)

    def add(self, account: SandboxAccount) -> None:
        """Serve one more account."""
        if account.platform != self.platform:
            raise ValueError(f"{account.platform} account given to the {self.platform} sandbox")
        with self._lock:
            self.accounts[account.account_id] = account

    def now(self) -> float:
        """The sandbox's clock (epoch seconds): the wall clock plus :attr:`clock_offset`."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock on (tokens issued with a lifetime expire as time passes)."""
        self.clock_offset += seconds

    def issue_token(self, *account_ids: str, lifetime: float | None = None) -> str:
        """A fresh access token that reaches the given accounts (all when none given).

        Args:
            lifetime: Seconds the token works for (None: until revoked).
        """
        token = f"{self.platform}-sandbox-{secrets.token_hex(12)}"
        with self._lock:
            self._tokens[token] = set(account_ids or self.accounts)
            if lifetime is not None:
                self._expires[token] = self.now() + lifetime
        return token

    def token_state(self, token: str | None) -> str:
        """``ok``, ``expired`` (issued with a lifetime that has passed) or ``unknown`` (never issued or revoked)."""
        with self._lock:
            if (token or "") not in self._tokens:
                return "unknown"
            expires = self._expires.get(token or "")
            return "expired" if expires is not None and expires <= self.now() else "ok"

    def reach(self, token: str) -> set[str]:
        """The accounts a valid token reaches (empty when it is expired or unknown)."""
        with self._lock:
            return set(self._tokens.get(token, ())) if self.token_state(token) == "ok" else set()

    def accept_token(self, token: str, *account_ids: str) -> None:
        """Accept a token issued before (a sandbox rebuilt for a connection keeps its stored token)."""
        with self._lock:
            self._tokens.setdefault(token, set()).update(account_ids or self.accounts)

    def expire_token(self, token: str) -> None:
        """Revoke a token (the next call with it fails as the platform's expired-token error)."""
        with self._lock:
            self._tokens.pop(token, None)
            self._expires.pop(token, None)

    def token_ok(self, token: str | None, account_id: str | None = None) -> bool:
        """Whether a token is valid (for the account, when one is named)."""
        with self._lock:
            reach = self._tokens.get(token or "")
            if reach is None or self.token_state(token) != "ok":
                return False
            return account_id is None or account_id in reach

    def owner_of_campaign(self, campaign_id: str) -> SandboxAccount | None:
        """The account holding a campaign."""
        for a in self.accounts.values():
            if campaign_id in a.campaigns:
                return a
        return None

    def lock(self) -> threading.RLock:
        """The registry lock (budget writes and restatements hold it)."""
        return self._lock


# --- HTTP servers -------------------------------------------------------------------------------


class HttpServerThread:
    """A WSGI app on 127.0.0.1 in a daemon thread (werkzeug's threaded server).

    With ``platform`` and ``identity`` it also answers ``GET /__sandbox__`` with what ``identity()``
    returns (:mod:`tower_dev.sandboxes.identity`), so a sandbox connection can be recognised and rebuilt.
    """

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0, *,
                 platform: str = "", identity: Callable[[], dict[str, Any] | None] | None = None) -> None:
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if identity is not None:
            app = _with_identity(app, platform, identity)
        self._server = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        # A short poll interval: stopping waits at most one interval (tests start and stop many).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _with_identity(app: Callable[..., Any], platform: str,
                   identity: Callable[[], dict[str, Any] | None]) -> Callable[..., Any]:
    """``app``, answering ``GET /__sandbox__`` itself (before any fault or call log sees it)."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == IDENTITY_PATH and environ.get("REQUEST_METHOD") == "GET":
            body = identity_body(platform, identity())
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return wsgi


def drop_connection(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Shut the client's socket without answering (a connection dropped mid-request).

    The socket is shut down, not closed, so the server's own write fails as a dropped
    connection (which werkzeug handles quietly) instead of on a closed file.
    """
    import socket

    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            log.debug("socket already shut")
    start_response("502 Dropped", [("Content-Length", "0")])
    return [b""]


# --- all three at once --------------------------------------------------------------------------


@dataclass
class AdSandboxes:
    """The three running sandboxes (what the demo and the tests start)."""

    meta: Any
    tiktok: Any
    google_ads: Any

    def get(self, platform: str) -> Any:
        """The sandbox of one platform."""
        return {"meta": self.meta, "tiktok": self.tiktok, "google_ads": self.google_ads}[platform]

    def settings_overrides(self) -> dict[str, str]:
        """The Settings fields that point the connectors at these sandboxes."""
        return {
            "meta_api_origin": self.meta.origin,
            "meta_dialog_origin": self.meta.origin,
            "tiktok_api_origin": self.tiktok.origin,
            "google_ads_endpoint": self.google_ads.endpoint,
            **self.google_ads.oauth_settings(),
        }

    def stop(self) -> None:
        """Stop all three."""
        for s in (self.meta, self.tiktok, self.google_ads):
            s.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_ad_sandboxes(accounts: Iterable[SandboxAccount], host: str = "127.0.0.1") -> AdSandboxes:
    """Start the Meta, TikTok and Google Ads sandboxes serving the given accounts.

    Use ``accounts_from_brand_world(bw)`` for each brand of a synthetic world.
    """
    from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox
    from tower_dev.sandboxes.meta_graph.server import MetaSandbox
    from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox

    accounts = list(accounts)
    return AdSandboxes(
        meta=MetaSandbox([a for a in accounts if a.platform == "meta"], host=host),
        tiktok=TikTokSandbox([a for a in accounts if a.platform == "tiktok"], host=host),
        google_ads=GoogleAdsSandbox([a for a in accounts if a.platform == "google_ads"], host=host),
    )


def start_world_ad_sandboxes(world: Any, host: str = "127.0.0.1") -> AdSandboxes:
    """Start the three sandboxes serving every brand of a synthetic world."""
    accounts: list[SandboxAccount] = []
    for bw in world.brands:
        accounts.extend(accounts_from_brand_world(bw))
    sandboxes = start_ad_sandboxes(accounts, host=host)
    identity = world_identity(world)
    for platform in AD_PLATFORMS:
        sandboxes.get(platform).identity = identity
    return sandboxes


# --- a small ad world of its own (focused tests, and the demo before the world has ads) ------


SAMPLE_REGIONS: tuple[tuple[str, str], ...] = (
    ("US", "US-CA"),
    ("US", "US-TX"),
    ("US", "US-NY"),
    ("US", "US-DC"),
    ("US", "US-IL"),
    ("US", ""),
    ("CA", "CA-ON"),
    ("CA", ""),
)
_SAMPLE_OBJECTIVES = {"meta": "OUTCOME_SALES", "tiktok": "PRODUCT_SALES", "google_ads": "SHOPPING"}
_SAMPLE_STATUS = {"meta": "ACTIVE", "tiktok": "ENABLE", "google_ads": "ENABLED"}
# Campaign k of a platform promotes products through _SAMPLE_SOURCE[platform][k % 2].
_SAMPLE_SOURCE = {
    "meta": ("product_set", "product_set"),
    "tiktok": ("product_set", "destination_url"),
    "google_ads": ("shopping_item", "destination_url"),
}


def sample_accounts(
    seed: int = 1,
    *,
    brand_id: str = "brand_sample",
    start: date = date(2026, 9, 1),
    days: int = 40,
    campaigns: int = 2,
    currency: str = "USD",
    timezone: str = "America/Chicago",
) -> list[SandboxAccount]:
    """Three small deterministic ad accounts (Meta, TikTok, Google Ads) in the warehouse's shapes.

    Rows cover US states (DC included), an Ontario row, and country-level rows (``region_code``
    ''); Google has no Canadian province ids, so its Canadian rows are country-level only.
    Platform purchases are random but integral, value in cents.
    """
    from datetime import timedelta

    rng = random.Random(seed)
    accounts = []
    products = [
        {"product_id": f"gid://shopify/Product/{1000 + i}", "handle": f"sample-product-{i}"} for i in range(6)
    ]
    variants = [
        {"product_id": p["product_id"], "variant_id": f"gid://shopify/ProductVariant/{2000 + i}"}
        for i, p in enumerate(products)
    ]
    ids = {"meta": "120330000", "tiktok": "17140000", "google_ads": "52300000"}
    accts = {"meta": "1010035716", "tiktok": "7002238017", "google_ads": "1234567890"}
    for platform in AD_PLATFORMS:
        camp_rows, prod_rows, perf_rows = [], [], []
        for c in range(campaigns):
            cid = f"{ids[platform]}{c + 1:03d}"
            name = f"{platform} sample campaign {c + 1}"
            camp_rows.append(
                {
                    "brand_id": brand_id,
                    "platform": platform,
                    "account_id": accts[platform],
                    "campaign_id": cid,
                    "campaign_name": name,
                    "status": _SAMPLE_STATUS[platform],
                    "objective": _SAMPLE_OBJECTIVES[platform],
                    "daily_budget_amount": Decimal(rng.choice([50, 80, 120, 200])).quantize(Decimal("0.01")),
                    "budget_id": None,
                    "currency": currency,
                    "account_timezone": timezone,
                    "updated_at": None,
                }
            )
            for p in rng.sample(products, 2):
                prod_rows.append(
                    {
                        "brand_id": brand_id,
                        "platform": platform,
                        "campaign_id": cid,
                        "product_id": p["product_id"],
                        "source": _SAMPLE_SOURCE[platform][c % 2],
                    }
                )
            for i in range(days):
                d = start + timedelta(days=i)
                for country, region in SAMPLE_REGIONS:
                    if platform == "google_ads" and country == "CA" and region:
                        continue
                    if rng.random() < 0.15:
                        continue  # not every region spends every day
                    imps = rng.randint(50, 4000)
                    clicks = rng.randint(0, imps // 20)
                    purchases = rng.randint(0, max(0, clicks // 4))
                    perf_rows.append(
                        {
                            "brand_id": brand_id,
                            "platform": platform,
                            "account_id": accts[platform],
                            "campaign_id": cid,
                            "campaign_name": name,
                            "stat_date": d,
                            "country_code": country,
                            "region_code": region,
                            "region_name": "",
                            "spend_amount": Decimal(rng.randint(100, 40000)).scaleb(-2),
                            "impressions": imps,
                            "clicks": clicks,
                            "purchases": float(purchases),
                            "purchase_value_amount": Decimal(purchases * rng.randint(1500, 9000)).scaleb(-2),
                            "currency": currency,
                            "synced_at": None,
                        }
                    )
        accounts.append(
            accounts_from_tables(
                platform,
                {
                    "account_id": accts[platform],
                    "currency": currency,
                    "timezone": timezone,
                    "name": f"{brand_id} {platform}",
                },
                brand_id,
                camp_rows,
                prod_rows,
                perf_rows,
                products,
                variants,
                f"{brand_id}.myshopify.com",
            )
        )
    return accounts


# --- checking what was stored against what was served ----------------------------------------


def _metric_key(r: dict[str, Any]) -> tuple[str, str, date, str, str]:
    return (str(r["account_id"]), str(r["campaign_id"]), r["stat_date"], r["country_code"], r["region_code"])


def performance_mismatches(
    stored: list[dict[str, Any]], truth: list[dict[str, Any]], *, purchases_by_country: bool = False
) -> list[str]:
    """Differences between stored ``ad_performance`` rows and the rows a sandbox served.

    Spend, impressions and clicks must match row for row (campaign × day × country × region).
    Purchases and purchase value match row for row too, or, with ``purchases_by_country``, per
    campaign × day × country (Meta: its region rows carry no purchases; see the Meta records).
    Rows whose every metric is zero may be absent on either side.
    """

    def zero(r: dict[str, Any]) -> bool:
        return not (
            Decimal(r.get("spend_amount") or 0)
            or r.get("impressions")
            or r.get("clicks")
            or r.get("purchases")
            or Decimal(r.get("purchase_value_amount") or 0)
        )

    problems: list[str] = []
    s = {_metric_key(r): r for r in stored}
    t = {_metric_key(r): r for r in truth}
    if len(s) != len(stored):
        problems.append("stored rows repeat a key")
    for key in sorted(set(s) | set(t), key=str):
        a, b = s.get(key), t.get(key)
        if a is None or b is None:
            if not zero(a or b or {}):
                problems.append(f"{key}: {'missing' if a is None else 'not served'}")
            continue
        metrics = ["spend_amount", "impressions", "clicks"]
        if not purchases_by_country:
            metrics += ["purchases", "purchase_value_amount"]
        for m in metrics:
            if _num(a.get(m)) != _num(b.get(m)):
                problems.append(f"{key}: {m} stored {a.get(m)} served {b.get(m)}")
    if purchases_by_country:

        def by_country(rows: Iterable[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[Decimal, Decimal]]:
            out: dict[tuple[Any, ...], tuple[Decimal, Decimal]] = {}
            for r in rows:
                k = _metric_key(r)[:4]
                p, v = out.get(k, (Decimal(0), Decimal(0)))
                out[k] = (p + _num(r.get("purchases")), v + _num(r.get("purchase_value_amount")))
            return out

        sc, tc = by_country(stored), by_country(truth)
        for k in sorted(set(sc) | set(tc), key=str):
            if sc.get(k, (0, 0)) != tc.get(k, (0, 0)):
                problems.append(f"{k}: purchases/value stored {sc.get(k)} served {tc.get(k)}")
    return problems


def _num(v: Any) -> Decimal:
    if v is None:
        return Decimal(0)
    if isinstance(v, float):
        return Decimal(repr(v)).quantize(Decimal("0.000001"))
    return Decimal(v).quantize(Decimal("0.000001"))


# --- a runtime on the sandboxes (tests, demo) ----------------------------------------------------


def sandbox_runtime(data_dir: Any, sandboxes: AdSandboxes | None = None, **overrides: Any) -> Any:
    """A :class:`tower.runtime.Runtime` on local adapters under ``data_dir``, pointed at the sandboxes."""
    from pathlib import Path

    from tower.config import Settings
    from tower.runtime import Runtime

    root = Path(data_dir).resolve()
    fields: dict[str, Any] = {
        "warehouse": "duckdb:///:memory:",
        "store": f"local:///{root}/store.sqlite",
        "bus": f"local:///{root}/bus.sqlite",
        "tasks": f"local:///{root}/tasks.sqlite",
        "secrets": f"local:///{root}/secrets",
        "data_dir": root,
        "google_ads_developer_token": "sandbox-developer-token",
        "meta_async_poll_seconds": 0.05,
    }
    if sandboxes is not None:
        fields.update(sandboxes.settings_overrides())
    fields.update(overrides)
    runtime = Runtime(Settings(**fields))
    try:
        runtime.secrets  # noqa: B018 - opened through the adapters when they know the local store
    except ImportError:
        from tower.adapters.local_secrets import LocalSecrets

        runtime.__dict__["secrets"] = LocalSecrets(root / "secrets")
    runtime.warehouse.init_schema()
    return runtime


def connect_sandbox_account(runtime: Any, sandboxes: AdSandboxes, account: SandboxAccount) -> str:
    """Issue a sandbox token for an account and connect it the way ``tower connect`` does."""
    from tower.sync.connect import connect_ad_account

    token = sandboxes.get(account.platform).issue_token(account.account_id)
    connect_ad_account(
        runtime,
        account.platform,
        account.brand_id,
        account.account_id,
        token,
        login_customer_id="9876543210" if account.platform == "google_ads" else None,
    )
    return token


#: The app each sandbox knows when the settings name none: (client id setting, secret setting, id, secret).
SANDBOX_APPS = {
    "meta": ("meta_app_id", "meta_app_secret", "sandbox-meta-app", "sandbox-meta-app-secret"),
    "tiktok": ("tiktok_app_id", "tiktok_app_secret", "sandbox-tiktok-app", "sandbox-tiktok-app-secret"),
    "google_ads": ("google_ads_client_id", "google_ads_client_secret", "sandbox-google-client.apps.sandbox",
                   "sandbox-google-client-secret"),
}


def register_oauth_apps(settings: Any, sandboxes: AdSandboxes) -> dict[str, str]:
    """Make each sandbox know the settings' app (or a sandbox app): the Settings fields naming them.

    So the OAuth flow runs end to end in the demo and the browser tests: ``POST …/authorize`` builds a
    URL the sandbox's consent page accepts, and the code it issues trades at its token endpoint.
    """
    update: dict[str, str] = {}
    for platform in SANDBOX_APPS:
        update |= register_oauth_app(settings, platform, sandboxes.get(platform))
    return update


def register_oauth_app(settings: Any, platform: str, sandbox: Any) -> dict[str, str]:
    """Make one sandbox know the settings' app (or its sandbox app): the Settings fields that say so."""
    id_field, secret_field, default_id, default_secret = SANDBOX_APPS[platform]
    client_id = getattr(settings, id_field, "") or default_id
    secret = getattr(settings, secret_field, "") or default_secret
    sandbox.oauth.register(client_id, secret)
    update = {id_field: client_id, secret_field: secret}
    if not (settings.ad_oauth_redirect_base or settings.shopify_app_url):
        update["ad_oauth_redirect_base"] = f"http://{settings.host}:{settings.port}"
    return update


def sandbox_settings(settings: Any, sandboxes: AdSandboxes) -> Any:
    """A copy of ``settings`` pointed at the sandboxes (origins, endpoint, a developer token, the OAuth apps)."""
    return settings.model_copy(
        update={
            **sandboxes.settings_overrides(),
            **register_oauth_apps(settings, sandboxes),
            "google_ads_developer_token": settings.google_ads_developer_token or "sandbox-developer-token",
            # The sandbox finishes a report run in a couple of polls: no need to wait seconds between.
            "meta_async_poll_seconds": min(settings.meta_async_poll_seconds, 0.05),
        }
    )


def connect_world_accounts(runtime: Any, sandboxes: AdSandboxes, world: Any) -> list[SandboxAccount]:
    """Connect every ad account of every brand of a world (``runtime.settings`` must point at the sandboxes).

    Returns the accounts, so the caller can run ``tower.sync.ads.sync_ads`` per platform
    and brand.
    """
    accounts = []
    for bw in world.brands:
        for account in accounts_from_brand_world(bw):
            connect_sandbox_account(runtime, sandboxes, account)
            accounts.append(account)
    return accounts
