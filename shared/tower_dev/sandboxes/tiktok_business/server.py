"""A local TikTok Business API (v1.3) serving the synthetic world's advertisers in TikTok's wire format.

* ``GET /open_api/v1.3/report/integrated/get/``: ``report_type=AUDIENCE``,
  ``data_level=AUCTION_CAMPAIGN``, dimensions ``["campaign_id","stat_time_day","country_code"]`` or
  ``["campaign_id","stat_time_day","province_id"]`` (``BASIC`` with ``["campaign_id","stat_time_day"]``
  too). ``dimensions`` / ``metrics`` are JSON lists in the query string, metrics come back as
  strings, ``stat_time_day`` as ``"YYYY-MM-DD 00:00:00"``, province ids are TikTok location ids
  (GeoNames ids). Pagination by ``page`` / ``page_size`` (≤ 1000) with ``page_info``. Daily
  reports span at most 30 days.
* ``GET /open_api/v1.3/advertiser/info/``, ``/campaign/get/``, ``/ad/get/`` (``landing_page_url``),
  ``/adgroup/get/`` (``catalog_id`` / ``product_set_id``), ``/catalog/set/product/get/``;
  ``POST /open_api/v1.3/campaign/update/`` (JSON body, ``budget`` in major units).
* Every answer is HTTP 200 with the envelope ``{code, message, request_id, data}``; errors are a
  non-zero ``code`` in that body (40100 QPS limit, 40102 token expired, 40104 empty token, 40105
  invalid token, 40001 no permission, 40002 bad parameter, 50000 / 50002 system error or timeout).
* Faults (:class:`~tower_dev.sandboxes.ad_sandbox.FaultPlan` kinds): ``throttle`` (40100),
  ``server_error`` (50000), ``timeout`` (50002), ``token_expired`` (40102 and the token is revoked),
  ``http_error`` (HTTP 503 from the gateway, not JSON), ``drop`` (connection closed),
  ``permission_denied`` (40001 in the envelope, as TikTok answers a read the app is not authorised
  for). :meth:`TikTokSandbox.fail_mapping_reads` refuses only the reads that map campaigns to
  products (``adgroup/get``, ``ad/get``, ``catalog/set/product/get``: :data:`MAPPING_ENDPOINTS`), the way
  an app the Business Center never shared its catalog with is refused, while reports still answer.
* ``province_empty=True`` answers province reports with no rows, as TikTok does for some accounts
  at campaign level: the connector must fall back to country rows.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from tower.connectors import geo
from tower_dev.sandboxes.ad_oauth import OAuthProvider, page, redirect_to
from tower_dev.sandboxes.ad_sandbox import (
    AccountRegistry,
    FaultPlan,
    HttpServerThread,
    ReportCache,
    SandboxAccount,
    drop_connection,
)

PREFIX = "/open_api/v1.3"
REPORT_TYPES = {"AUDIENCE", "BASIC", "BC", "CATALOG", "PLAYABLE_MATERIAL", "TT_SHOP"}
DATA_LEVELS = {"AUCTION_AD", "AUCTION_ADGROUP", "AUCTION_ADVERTISER", "AUCTION_CAMPAIGN"}
METRICS = {
    "spend",
    "impressions",
    "clicks",
    "complete_payment",
    "total_complete_payment_rate",
    "campaign_name",
    "conversion",
    "cpc",
    "cpm",
    "ctr",
}
ACCEPTED_DIMENSIONS = {
    ("AUDIENCE", ("campaign_id", "stat_time_day", "country_code")),
    ("AUDIENCE", ("campaign_id", "stat_time_day", "province_id")),
    ("BASIC", ("campaign_id", "stat_time_day")),
}
MAX_DAILY_SPAN_DAYS = 30
#: The endpoints (FaultPlan names) of the reads that only map campaigns to the products they promote.
MAPPING_ENDPOINTS = ("adgroup_get", "ad_get", "catalog_set_product_get")
_PERMISSION_MESSAGES = {
    "catalog_set_product_get": "No permission to operate catalog. The Business Center has not authorized "
                               "this app to access the catalog.",
    "adgroup_get": "No permission to operate ad groups of this advertiser.",
    "ad_get": "No permission to operate ads of this advertiser.",
}


class TikTokError(Exception):
    """A non-zero ``code`` in the envelope."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class TikTokSandbox:
    """The TikTok Business API sandbox (see the module docstring)."""

    def __init__(
        self, accounts: list[SandboxAccount], *, host: str = "127.0.0.1", province_empty: bool = False,
        port: int = 0,
    ) -> None:
        self.registry = AccountRegistry("tiktok", accounts)
        #: What ``GET /__sandbox__`` answers: the world served (None: hand-made accounts).
        self.identity: dict[str, Any] | None = None
        self.faults = FaultPlan()
        self.province_empty = province_empty
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._reports = ReportCache()
        #: Advertiser authorization: ``/portal/auth``, ``oauth2/access_token``, ``oauth2/advertiser/get``,
        #: ``oauth2/revoke_token``. Advertiser tokens do not expire; they work until revoked.
        self.oauth = OAuthProvider(self.registry)
        self._server = HttpServerThread(self._wsgi, host, port, platform="tiktok",
                                        identity=lambda: self.identity)

    @property
    def origin(self) -> str:
        """The origin to give the connector (``TOWER_TIKTOK_API_ORIGIN``)."""
        return self._server.origin

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def issue_token(self, *advertiser_ids: str) -> str:
        """A fresh access token reaching the given advertisers."""
        return self.registry.issue_token(*advertiser_ids)

    def fail_mapping_reads(self, kind: str = "permission_denied") -> None:
        """Refuse every read that maps campaigns to products (:data:`MAPPING_ENDPOINTS`) until
        ``faults.clear()``; campaigns and reports keep answering."""
        self.faults.deny(kind, MAPPING_ENDPOINTS)

    # -- WSGI ---------------------------------------------------------------------------------
    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.calls.append((request.method, request.path))
        if request.path.rstrip("/") == "/portal/auth":
            return self._portal_auth(request)(environ, start_response)
        endpoint = request.path.removeprefix(PREFIX).strip("/").replace("/", "_") or "root"
        fault = self.faults.draw(endpoint)
        if fault == "drop":
            return drop_connection(environ, start_response)
        if fault == "http_error":
            resp = Response(
                "<html><body>503 Service Temporarily Unavailable</body></html>",
                status=503,
                mimetype="text/html",
            )
            return resp(environ, start_response)
        try:
            data = self._handle(request, fault, endpoint)
            body = {"code": 0, "message": "OK", "request_id": uuid.uuid4().hex, "data": data}
        except TikTokError as e:
            body = {"code": e.code, "message": str(e), "request_id": uuid.uuid4().hex, "data": {}}
        return Response(json.dumps(body), status=200, mimetype="application/json")(environ, start_response)

    # -- advertiser authorization ------------------------------------------------------------
    def _portal_auth(self, request: Request) -> Response:
        """``/portal/auth?app_id&state&redirect_uri``: the consent page, then a redirect with ``auth_code``."""
        q = {k: v for k, v in request.values.items() if k != "decision"}
        problem = self.oauth.authorize_problem(q.get("app_id", ""), q.get("redirect_uri", ""))
        if problem is not None:
            status, headers, body = page(400, problem)
            return Response(body, status=status, headers=headers)
        if request.method == "GET":
            return Response(self.oauth.consent_page(request.path, q, "TikTok For Business"), mimetype="text/html")
        if request.values.get("decision") != "approve":
            return Response(status=302, headers={"Location": redirect_to(q["redirect_uri"], {
                "error": "access_denied", "state": q.get("state")})})
        code = self.oauth.issue_code(q["app_id"], q["redirect_uri"])
        # TikTok sends the code under both names.
        return Response(status=302, headers={"Location": redirect_to(q["redirect_uri"], {
            "auth_code": code, "code": code, "state": q.get("state")})})

    def _oauth2(self, request: Request, path: str) -> Any:
        """The ``oauth2/`` endpoints: the app authenticates with ``app_id`` + ``secret``."""
        args = request.get_json(silent=True) if request.method == "POST" else request.args
        args = args if isinstance(args, dict) else dict(args or {})
        if not self.oauth.client_ok(str(args.get("app_id", "")), str(args.get("secret", ""))):
            raise TikTokError(40001, "The app_id or secret is incorrect.")
        if path == "oauth2/access_token" and request.method == "POST":
            code = self.oauth.redeem(str(args.get("auth_code", "")), str(args["app_id"]), None)
            if code is None:
                raise TikTokError(40002, "auth_code is invalid, expired or already used.")
            token = self.oauth.access_token(code.accounts, "authorization_code")
            return {"access_token": token, "advertiser_ids": sorted(code.accounts),
                    "scope": [4, 5, 6, 7]}
        if path == "oauth2/revoke_token" and request.method == "POST":
            self.oauth.revoke(str(args.get("access_token", "")))
            return {}
        if path == "oauth2/advertiser/get" and request.method == "GET":
            token = request.headers.get("Access-Token") or ""
            if self.registry.token_state(token) != "ok":
                raise TikTokError(40105, "Access token is incorrect or has been revoked.")
            reach = self.registry.reach(token)
            return {"list": [{"advertiser_id": a.account_id, "advertiser_name": a.name}
                             for a in sorted(self.registry.accounts.values(), key=lambda a: a.account_id)
                             if a.account_id in reach]}
        raise TikTokError(40002, f"Unknown API path /{path}/")

    def _handle(self, request: Request, fault: str | None, endpoint: str) -> Any:
        oauth_path = request.path.removeprefix(PREFIX).strip("/")
        if oauth_path.startswith("oauth2/"):
            return self._oauth2(request, oauth_path)
        token = request.headers.get("Access-Token")
        if not token:
            raise TikTokError(40104, "Access token is empty.")
        if fault == "token_expired":
            self.registry.expire_token(token)
            raise TikTokError(40102, "Access token has expired.")
        if not self.registry.token_ok(token):
            raise TikTokError(40105, "Access token is incorrect or has been revoked.")
        if fault == "throttle":
            raise TikTokError(40100, "App reaches the QPS limit.")
        if fault == "server_error":
            raise TikTokError(50000, "System error")
        if fault == "permission_denied":
            raise TikTokError(40001, _PERMISSION_MESSAGES.get(endpoint, "No permission to operate this resource."))
        if fault == "timeout":
            raise TikTokError(
                50002, "Error processing request on TikTok side. Please see error message for details."
            )
        path = request.path.removeprefix(PREFIX).strip("/")
        if request.method == "GET":
            args = request.args
            if path == "advertiser/info":
                ids = _json_list(args.get("advertiser_ids"), "advertiser_ids")
                return {"list": [self._advertiser(self._account(i, token)) for i in ids]}
            if path == "catalog/set/product/get":
                # Catalog endpoints name the Business Center and catalog, not the advertiser.
                owner = next(
                    (
                        a
                        for a in self.registry.accounts.values()
                        if args.get("catalog_id") == f"73{a.account_id[-8:]}"
                    ),
                    None,
                )
                if owner is None or not self.registry.token_ok(token, owner.account_id):
                    raise TikTokError(40001, f"No permission to operate catalog {args.get('catalog_id')}.")
                return self._page(self._set_products(owner, args), args, key="products")
            acct = self._account(args.get("advertiser_id"), token)
            if path == "campaign/get":
                filt = json.loads(args.get("filtering") or "{}")
                wanted = {str(x) for x in filt.get("campaign_ids", [])}
                items = [
                    self._campaign(acct, cid) for cid in sorted(acct.campaigns) if not wanted or cid in wanted
                ]
                return self._page(items, args)
            if path == "ad/get":
                return self._page(self._ads(acct), args)
            if path == "adgroup/get":
                return self._page(self._adgroups(acct), args)
            if path == "report/integrated/get":
                return self._page(self._report(acct, args), args)
        if request.method == "POST" and path == "campaign/update":
            payload = request.get_json(silent=True) or {}
            acct = self._account(payload.get("advertiser_id"), token)
            return self._update_campaign(acct, payload)
        raise TikTokError(40002, f"Unknown API path /{path}/")

    def _account(self, advertiser_id: Any, token: str) -> SandboxAccount:
        acct = self.registry.accounts.get(str(advertiser_id or ""))
        if acct is None or not self.registry.token_ok(token, acct.account_id):
            raise TikTokError(40001, f"advertiser {advertiser_id} doesn't exist or has been deleted.")
        return acct

    @staticmethod
    def _page(items: list[dict[str, Any]], args: Any, key: str = "list") -> dict[str, Any]:
        try:
            page = int(args.get("page") or 1)
            size = int(args.get("page_size") or 10)
        except ValueError as e:
            raise TikTokError(40002, "page and page_size must be integers") from e
        if page < 1 or not 1 <= size <= 1000:
            raise TikTokError(40002, "page must be >= 1 and page_size between 1 and 1000")
        total_page = max(1, math.ceil(len(items) / size))
        return {
            key: items[(page - 1) * size : page * size],
            "page_info": {
                "page": page,
                "page_size": size,
                "total_number": len(items),
                "total_page": total_page,
            },
        }

    @staticmethod
    def _advertiser(a: SandboxAccount) -> dict[str, Any]:
        return {
            "advertiser_id": a.account_id,
            "name": a.name,
            "currency": a.currency,
            "timezone": a.timezone,
            "display_timezone": a.timezone,
            "status": "STATUS_ENABLE",
        }

    @staticmethod
    def _campaign(a: SandboxAccount, cid: str) -> dict[str, Any]:
        c = a.campaigns[cid]
        budget = c.get("daily_budget_amount")
        updated = c.get("updated_at")
        return {
            "advertiser_id": a.account_id,
            "campaign_id": cid,
            "campaign_name": c.get("campaign_name"),
            "budget_mode": "BUDGET_MODE_DAY" if budget is not None else "BUDGET_MODE_INFINITE",
            "budget": float(budget) if budget is not None else 0.0,
            "operation_status": c.get("status") or "ENABLE",
            "secondary_status": "CAMPAIGN_STATUS_ENABLE",
            "objective_type": c.get("objective") or "PRODUCT_SALES",
            "modify_time": updated.strftime("%Y-%m-%d %H:%M:%S")
            if hasattr(updated, "strftime")
            else "2026-01-01 00:00:00",
        }

    @staticmethod
    def _ads(a: SandboxAccount) -> list[dict[str, Any]]:
        domain = a.shop_domain or f"{a.brand_id}.myshopify.com"
        out = []
        for cid in sorted(a.campaigns):
            for i, p in enumerate(a.products.get(cid, [])):
                if p.get("source") != "destination_url":
                    continue
                handle = a.catalog.get(p["product_id"], {}).get("handle", "")
                out.append(
                    {
                        "ad_id": f"{cid}{i:02d}",
                        "campaign_id": cid,
                        "adgroup_id": f"{cid}99",
                        "landing_page_url": f"https://{domain}/products/{handle}?utm_source=tiktok&ttclid=x",
                    }
                )
        return out

    @staticmethod
    def _adgroups(a: SandboxAccount) -> list[dict[str, Any]]:
        out = []
        for cid in sorted(a.campaigns):
            group: dict[str, Any] = {"adgroup_id": f"{cid}99", "campaign_id": cid}
            if any(p.get("source") == "product_set" for p in a.products.get(cid, [])):
                group.update(
                    {
                        "catalog_id": f"73{a.account_id[-8:]}",
                        "product_set_id": f"74{cid}",
                        "catalog_authorized_bc_id": f"72{a.account_id[-8:]}",
                    }
                )
            out.append(group)
        return out

    @staticmethod
    def _set_products(a: SandboxAccount, args: Any) -> list[dict[str, Any]]:
        for name in ("bc_id", "catalog_id", "product_set_id"):
            if not args.get(name):
                raise TikTokError(40002, f"{name} is required")
        cid = str(args["product_set_id"]).removeprefix("74")
        if cid not in a.campaigns or args.get("catalog_id") != f"73{a.account_id[-8:]}":
            raise TikTokError(40002, f"product_set_id {args['product_set_id']} does not exist in the catalog")
        items = []
        for p in a.products.get(cid, []):
            if p.get("source") != "product_set":
                continue
            pid = p["product_id"].rsplit("/", 1)[-1]
            for vid in a.catalog.get(p["product_id"], {}).get("variant_ids", [pid]):
                # TikTok for Shopify publishes catalog SKUs the way Shopify's channels do.
                items.append(
                    {
                        "product_id": f"{pid}{vid}"[:19],
                        "sku_id": f"shopify_US_{pid}_{vid}",
                        "item_group_id": pid,
                    }
                )
        return items

    def _report(self, a: SandboxAccount, args: Any) -> list[dict[str, Any]]:
        key = (
            a.account_id,
            a.version,
            self.province_empty,
            *(
                str(args.get(k))
                for k in (
                    "report_type",
                    "service_type",
                    "data_level",
                    "dimensions",
                    "metrics",
                    "start_date",
                    "end_date",
                )
            ),
        )
        return self._reports.get(key, lambda: self._compute_report(a, args))

    def _compute_report(self, a: SandboxAccount, args: Any) -> list[dict[str, Any]]:
        report_type = args.get("report_type")
        if report_type not in REPORT_TYPES:
            raise TikTokError(40002, f"report_type: {report_type!r} is not a valid choice")
        if args.get("service_type", "AUCTION") != "AUCTION":
            raise TikTokError(40002, "service_type must be AUCTION for auction data levels")
        level = args.get("data_level")
        if level not in DATA_LEVELS:
            raise TikTokError(40002, f"data_level: {level!r} is not a valid choice")
        dims = tuple(_json_list(args.get("dimensions"), "dimensions"))
        metrics = _json_list(args.get("metrics"), "metrics")
        if level != "AUCTION_CAMPAIGN" or (report_type, dims) not in ACCEPTED_DIMENSIONS:
            raise TikTokError(40002, f"Invalid dimensions {list(dims)} for {report_type} at {level}")
        unknown = set(metrics) - METRICS
        if unknown:
            raise TikTokError(40002, f"Invalid metric fields: {sorted(unknown)}")
        try:
            start, end = date.fromisoformat(args["start_date"]), date.fromisoformat(args["end_date"])
        except (KeyError, ValueError) as e:
            raise TikTokError(40002, "start_date and end_date must be YYYY-MM-DD") from e
        if end < start or (end - start) >= timedelta(days=MAX_DAILY_SPAN_DAYS):
            raise TikTokError(
                40002, f"The time span of a daily report cannot exceed {MAX_DAILY_SPAN_DAYS} days"
            )
        geo_dim = dims[2] if len(dims) == 3 else None
        if geo_dim == "province_id" and self.province_empty:
            return []
        def geography(r: dict[str, Any]) -> str | None:
            if geo_dim == "province_id":
                sub = geo.subdivisions().get(r["region_code"]) if r["region_code"] else None
                # TikTok has no province for this row: it appears in the country report only
                return sub.tiktok_location_id if sub is not None and sub.tiktok_location_id else None
            return r["country_code"] if geo_dim == "country_code" else ""

        groups = a.totals_between(start, end, geography)
        out = []
        for (d, cid, value), g in sorted(groups.items()):
            full = {
                "spend": f"{g['spend']:.3f}"
                if g["spend"] == g["spend"].quantize(Decimal("0.001"))
                else str(g["spend"]),
                "impressions": str(g["impressions"]),
                "clicks": str(g["clicks"]),
                "complete_payment": _num(g["purchases"]),
                "conversion": _num(g["purchases"]),
                "total_complete_payment_rate": str(g["value"]),
                "campaign_name": g["campaign_name"],
                "cpc": f"{(g['spend'] / g['clicks']):.3f}" if g["clicks"] else "0.000",
                "cpm": f"{(g['spend'] * 1000 / g['impressions']):.3f}" if g["impressions"] else "0.000",
                "ctr": f"{(100 * g['clicks'] / g['impressions']):.2f}" if g["impressions"] else "0.00",
            }
            dimensions = {"campaign_id": cid, "stat_time_day": f"{d.isoformat()} 00:00:00"}
            if geo_dim:
                dimensions[geo_dim] = value
            out.append({"dimensions": dimensions, "metrics": {k: full[k] for k in metrics}})
        return out

    def _update_campaign(self, a: SandboxAccount, payload: dict[str, Any]) -> dict[str, Any]:
        cid = str(payload.get("campaign_id") or "")
        if cid not in a.campaigns:
            raise TikTokError(40002, f"campaign_id {cid} does not exist")
        c = a.campaigns[cid]
        if "budget" in payload:
            if c.get("daily_budget_amount") is None:
                raise TikTokError(40002, "Budget cannot be set on a campaign with BUDGET_MODE_INFINITE")
            try:
                budget = Decimal(str(payload["budget"]))
            except ArithmeticError as e:
                raise TikTokError(40002, "budget must be a number") from e
            if budget <= 0:
                raise TikTokError(40002, "budget must be greater than 0")
            with self.registry.lock():
                c["daily_budget_amount"] = budget.quantize(Decimal("0.01"))
        return {"campaign_id": cid, "budget": float(c.get("daily_budget_amount") or 0)}


def _json_list(value: str | None, name: str) -> list[str]:
    try:
        items = json.loads(value or "[]")
    except ValueError as e:
        raise TikTokError(40002, f"{name} must be a JSON list") from e
    if not isinstance(items, list):
        raise TikTokError(40002, f"{name} must be a JSON list")
    return [str(x) for x in items]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
