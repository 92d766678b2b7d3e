"""A local Graph API serving the synthetic world's Meta ad accounts in Meta's wire format.

What it speaks, as the facebook-business SDK expects it:

* ``GET /{version}/act_{id}`` (account: currency, timezone_name), ``/act_{id}/campaigns``,
  ``/act_{id}/adsets`` (``promoted_object.product_set_id``), ``/act_{id}/ads`` (``creative{link_url}``),
  ``/{product_set_id}/products`` (``retailer_id`` as Shopify's channel publishes it).
* ``GET /act_{id}/insights`` (synchronous) and ``POST /act_{id}/insights`` → ``{"report_run_id"}``,
  ``GET /{report_run_id}`` (``async_status`` / ``async_percent_completion``, moving on with each
  poll), ``GET /{report_run_id}/insights``. Paging by ``paging.cursors.after`` and ``paging.next``.
* ``level=campaign``, ``time_increment=1``, ``breakdowns`` ``region`` (names like "Texas",
  "Unknown" for what Meta cannot place) or ``country``. As on the real API, ``region`` is a "Type 1"
  breakdown: its rows carry **no** ``actions`` / ``action_values`` (no off-Meta conversions); the
  ``country`` rows do, with the same purchase under several overlapping action types.
* ``POST /{campaign_id}`` with ``daily_budget`` in minor units.
* Usage headers on every response (``x-business-use-case-usage``, ``x-ad-account-usage``, and
  ``x-fb-ads-insights-throttle`` on insights calls), computed from the calls made since the last
  :meth:`MetaSandbox.advance`; past ``usage_budget`` calls it answers error 80000.
* Faults on demand (:class:`~tower_dev.sandboxes.ad_sandbox.FaultPlan` kinds): ``throttle`` (80000),
  ``app_limit`` (4), ``user_limit`` (17), ``server_error`` (2, HTTP 500), ``reduce_data`` (1),
  ``token_expired`` (190), ``drop`` (connection closed), ``usage_high`` (headers near the limit),
  ``async_failed`` (the report run ends "Job Failed"), ``permission_denied`` (HTTP 403, code 200
  ``OAuthException``, as Graph answers a read the token's permissions do not cover).
  :meth:`MetaSandbox.fail_mapping_reads` refuses only the reads that map campaigns to products
  (``adsets``, ``ads``, a product set's ``products``: :data:`MAPPING_ENDPOINTS`), the way a token with
  ``ads_read`` but no access to the catalog is refused, while campaigns and insights still answer.
* Businesses (Business Manager, :meth:`MetaSandbox.add_business`): ``GET /me/businesses`` (the businesses the
  token's person belongs to: ids issued in the token's reach), ``GET /{business-id}/owned_ad_accounts`` and
  ``/{business-id}/client_ad_accounts`` (AdAccount nodes, paged). A business's accounts are reached through
  it; another business's id answers code 100, subcode 33, as Graph does for an object the token cannot load.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any
from urllib.parse import urlencode

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

#: The purchase as Meta reports it under overlapping action types (all carry the same count).
PURCHASE_ACTION_TYPES = (
    "purchase",
    "omni_purchase",
    "offsite_conversion.fb_pixel_purchase",
    "onsite_web_purchase",
    "onsite_web_app_purchase",
)
INSIGHTS_FIELDS = {
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "date_start",
    "date_stop",
    "spend",
    "impressions",
    "clicks",
    "actions",
    "action_values",
    "reach",
    "cpc",
    "cpm",
    "ctr",
}
#: Request parameters the call log leaves out (what a test reads of it never holds a credential).
_CREDENTIALS = frozenset({"access_token", "client_secret", "code", "fb_exchange_token"})
#: A token from the login dialog's code lasts about two hours; exchanged, about sixty days.
SHORT_LIVED_SECONDS = 2 * 3600
LONG_LIVED_SECONDS = 60 * 24 * 3600
#: The endpoints (FaultPlan names) of the reads that only map campaigns to the products they promote.
MAPPING_ENDPOINTS = ("adsets", "ads", "products")
# What Graph says when the token lacks the permission an edge needs (code 200, HTTP 403).
_PERMISSION_MESSAGES = {
    "products": "(#200) Requires catalog_management permission to manage the object",
    "adsets": "(#200) Requires ads_read permission to access ad sets of this ad account",
    "ads": "(#200) Requires ads_read permission to access ads of this ad account",
}
CAMPAIGN_FIELDS = {
    "id",
    "name",
    "status",
    "effective_status",
    "objective",
    "daily_budget",
    "lifetime_budget",
    "updated_time",
    "account_id",
    "buying_type",
}


class GraphError(Exception):
    """An error answered as Graph's ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        transient: bool | None = None,
        type_: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "type": type_,
            "code": code,
            "fbtrace_id": f"Sbx{code}Trace",
        }
        if subcode is not None:
            self.body["error_subcode"] = subcode
        if transient is not None:
            self.body["is_transient"] = transient


def _fmt_number(v: Any) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _parse_list(value: str | None) -> list[str]:
    if not value:
        return []
    value = value.strip()
    if value.startswith("["):
        return [str(x) for x in json.loads(value)]
    return [x.strip() for x in value.split(",") if x.strip()]


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.split(":", 1)[1])
    except (ValueError, IndexError) as e:
        raise GraphError(400, 100, "(#100) Invalid cursor", type_="OAuthException") from e


class MetaSandbox:
    """The Meta Graph API sandbox (see the module docstring for what it serves)."""

    def __init__(
        self,
        accounts: list[SandboxAccount],
        *,
        host: str = "127.0.0.1",
        polls_to_complete: int = 2,
        usage_budget: int = 1_000_000,
        max_page_size: int = 500,
        port: int = 0,
    ) -> None:
        self.registry = AccountRegistry("meta", accounts)
        #: What ``GET /__sandbox__`` answers: the world served (None: hand-made accounts).
        self.identity: dict[str, Any] | None = None
        self.faults = FaultPlan()
        self.polls_to_complete = polls_to_complete
        self.usage_budget = usage_budget
        self.max_page_size = max_page_size
        self.calls: list[tuple[str, str, dict[str, str]]] = []  # (method, path, params) of every request
        self.over_budget_errors = 0
        self._window_calls = 0
        self._lock = threading.Lock()
        self._runs: dict[str, dict[str, Any]] = {}
        self._reports = ReportCache()
        self._ids = count(6_044_775_548_468)
        self._product_sets: dict[str, tuple[str, str]] = {}  # product_set_id -> (account, campaign)
        for acct in self.registry.accounts.values():
            for cid in acct.products:
                self._product_sets[self.product_set_id(cid)] = (acct.account_id, cid)
        #: Business id → {"name", "owned": [account ids], "client": [account ids]}: :meth:`add_business`.
        self.businesses: dict[str, dict[str, Any]] = {}
        #: Facebook Login: the dialog, code → short-lived token → long-lived token, ``DELETE /me/permissions``.
        self.oauth = OAuthProvider(self.registry, access_lifetime=SHORT_LIVED_SECONDS)
        self._server = HttpServerThread(self._wsgi, host, port, platform="meta", identity=lambda: self.identity)

    # -- control ------------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        """The Graph origin to give the SDK (``FacebookSession.GRAPH``)."""
        return self._server.origin

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for the rate limiter: utilisation falls back to zero."""
        if seconds > 0:
            with self._lock:
                self._window_calls = 0

    def add_business(self, business_id: str, name: str, *, owned: tuple[str, ...] = (),
                     client: tuple[str, ...] = ()) -> None:
        """Serve a business owning ``owned`` ad accounts and given access to its clients' ``client`` ones
        (ids of served accounts). A token whose reach holds the business id reaches them all."""
        ids = [a.removeprefix("act_") for a in (*owned, *client)]
        unknown = [a for a in ids if a not in self.registry.accounts]
        if unknown:
            raise ValueError(f"a business's ad accounts must be served accounts; unknown: {', '.join(unknown)}")
        self.businesses[business_id] = {"name": name, "owned": [a.removeprefix("act_") for a in owned],
                                        "client": [a.removeprefix("act_") for a in client]}

    def _reaches(self, token: str, account_id: str) -> bool:
        """The token reaches the account: directly, or through a business it reaches."""
        if self.registry.token_ok(token, account_id):
            return True
        reach = self.registry.reach(token)
        return any(account_id in b["owned"] + b["client"] for bid, b in self.businesses.items() if bid in reach)

    def issue_token(self, *account_ids: str) -> str:
        """A fresh access token reaching the given accounts (ids with or without ``act_``)."""
        return self.registry.issue_token(*[a.removeprefix("act_") for a in account_ids])

    def fail_mapping_reads(self, kind: str = "permission_denied") -> None:
        """Refuse every read that maps campaigns to products (:data:`MAPPING_ENDPOINTS`) until
        ``faults.clear()``; campaigns and insights keep answering."""
        self.faults.deny(kind, MAPPING_ENDPOINTS)

    @staticmethod
    def product_set_id(campaign_id: str) -> str:
        """The product set a catalog campaign's ad set promotes."""
        return f"77{campaign_id}"

    # -- WSGI ---------------------------------------------------------------------------------
    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self._dispatch(request, environ)
        except GraphError as e:
            response = self._json({"error": e.body}, e.status, request)
        if response is None:  # dropped
            return drop_connection(environ, start_response)
        return response(environ, start_response)

    def _json(
        self,
        body: Any,
        status: int,
        request: Request,
        *,
        usage_pct: float | None = None,
        insights: bool = False,
        regain_minutes: int = 0,
    ) -> Response:
        resp = Response(json.dumps(body), status=status, mimetype="application/json")
        pct = usage_pct if usage_pct is not None else self._usage_pct()
        account = self._account_in_path(request.path)
        if account:
            resp.headers["x-business-use-case-usage"] = json.dumps(
                {
                    account: [
                        {
                            "type": "ads_insights" if insights else "ads_management",
                            "call_count": round(pct),
                            "total_cputime": round(pct / 2),
                            "total_time": round(pct / 2),
                            "estimated_time_to_regain_access": regain_minutes,
                            "ads_api_access_tier": "standard_access",
                        }
                    ]
                }
            )
            resp.headers["x-ad-account-usage"] = json.dumps(
                {
                    "acc_id_util_pct": round(pct, 2),
                    "reset_time_duration": 60,
                    "ads_api_access_tier": "standard_access",
                }
            )
        if insights:
            resp.headers["x-fb-ads-insights-throttle"] = json.dumps(
                {
                    "app_id_util_pct": round(pct / 2),
                    "acc_id_util_pct": round(pct),
                    "ads_api_access_tier": "standard_access",
                }
            )
        resp.headers["facebook-api-version"] = self._version(request.path) or "v26.0"
        resp.headers["x-fb-request-id"] = f"Sbx{len(self.calls)}"
        return resp

    def _usage_pct(self) -> float:
        return min(100.0, 100.0 * self._window_calls / max(1, self.usage_budget))

    @staticmethod
    def _version(path: str) -> str | None:
        first = path.strip("/").split("/", 1)[0]
        return first if first.startswith("v") and "." in first else None

    def _account_in_path(self, path: str) -> str | None:
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[1].startswith("act_"):
            return parts[1].removeprefix("act_")
        if len(parts) >= 2:
            run = self._runs.get(parts[1])
            if run:
                return run["account_id"]
            owner = self.registry.owner_of_campaign(parts[1])
            if owner:
                return owner.account_id
        return None

    def _dispatch(self, request: Request, environ: dict[str, Any]) -> Response | None:
        path = request.path.strip("/").split("/")
        self.calls.append(
            (request.method, request.path, {k: v for k, v in request.values.items() if k not in _CREDENTIALS})
        )
        if not path or self._version(request.path) is None:
            raise GraphError(400, 2500, "Unknown path components", type_="OAuthException")
        parts = path[1:]
        if parts[:2] == ["dialog", "oauth"]:
            return self._dialog(request)
        if parts[:2] == ["oauth", "access_token"]:
            return self._json(self._oauth_token(request), 200, request)
        endpoint = self._endpoint_name(request.method, parts)
        insights = endpoint in ("insights", "insights_async_start", "report_run_insights")
        with self._lock:
            self._window_calls += 1
        fault = self.faults.draw(endpoint)
        token = request.values.get("access_token")
        if fault == "drop":
            return None
        if fault == "token_expired" and token:
            self.registry.expire_token(token)
        if not self.registry.token_ok(token):
            raise GraphError(400, 190, "Error validating access token: Session has expired.", subcode=463)
        if fault == "throttle" or self._window_calls > self.usage_budget:
            if fault != "throttle":
                self.over_budget_errors += 1
            body = GraphError(
                400,
                80000,
                "(#80000) There have been too many calls from this ad-account. Wait a bit and try again.",
                subcode=2446079,
            ).body
            return self._json(
                {"error": body}, 400, request, usage_pct=100, insights=insights, regain_minutes=1
            )
        if fault == "app_limit":
            raise GraphError(400, 4, "(#4) Application request limit reached", transient=True)
        if fault == "user_limit":
            raise GraphError(400, 17, "(#17) User request limit reached", transient=True)
        if fault == "server_error":
            raise GraphError(
                500, 2, "An unexpected error has occurred. Please retry your request later.", transient=True
            )
        if fault == "permission_denied":
            raise GraphError(403, 200, _PERMISSION_MESSAGES.get(endpoint, "(#200) Permissions error"))
        if fault == "reduce_data" and insights:
            raise GraphError(
                500,
                1,
                "Please reduce the amount of data you're asking for, then retry your request",
                type_="OAuthException",
            )
        usage = 90.0 if fault == "usage_high" else None
        body = self._route(request, parts, token or "", fail_run=(fault == "async_failed"))
        return self._json(body, 200, request, usage_pct=usage, insights=insights)

    def _endpoint_name(self, method: str, parts: list[str]) -> str:
        if len(parts) == 2 and parts[0].startswith("act_") and parts[1] == "insights":
            return "insights_async_start" if method == "POST" else "insights"
        if len(parts) == 2 and parts[1] == "insights":
            return "report_run_insights"
        if len(parts) == 1 and parts[0] in self._runs:
            return "report_run"
        if len(parts) == 1 and method == "POST":
            return "campaign_update"
        return parts[-1] if parts else "root"

    # -- routes -------------------------------------------------------------------------------
    def _account(self, node: str, token: str) -> SandboxAccount:
        acct = self.registry.accounts.get(node.removeprefix("act_"))
        if acct is None or not node.startswith("act_"):
            raise GraphError(
                400,
                100,
                f"(#100) Unsupported get request. Object with ID '{node}' does not exist",
                subcode=33,
                type_="GraphMethodException",
            )
        if not self._reaches(token, acct.account_id):
            raise GraphError(
                400, 200, "(#200) Ad account owner has NOT grant ads_read permission", type_="OAuthException"
            )
        return acct

    # -- Facebook Login ------------------------------------------------------------------------
    def _dialog(self, request: Request) -> Response:
        """``GET /{v}/dialog/oauth``: the consent page; its form posts back here (approve or cancel)."""
        q = {k: v for k, v in request.values.items() if k != "decision"}
        problem = self.oauth.authorize_problem(q.get("client_id", ""), q.get("redirect_uri", ""))
        if problem is not None:
            status, headers, body = page(400, f"Invalid App ID or redirect_uri: {problem}")
            return Response(body, status=status, headers=headers)
        if request.method == "GET":
            return Response(self.oauth.consent_page(request.path, q, "Log in with Facebook"), mimetype="text/html")
        if request.values.get("decision") != "approve":
            return Response(status=302, headers={"Location": redirect_to(q["redirect_uri"], {
                "error": "access_denied", "error_code": 200, "error_description": "Permissions error",
                "error_reason": "user_denied", "state": q.get("state")})})
        code = self.oauth.issue_code(q["client_id"], q["redirect_uri"], q.get("scope", ""))
        return Response(status=302, headers={"Location": redirect_to(q["redirect_uri"], {
            "code": code, "state": q.get("state")}) + "#_=_"})

    def _oauth_token(self, request: Request) -> dict[str, Any]:
        """``GET /{v}/oauth/access_token``: a code for a short-lived token, or ``fb_exchange_token`` for a long one."""
        v = request.values
        if not self.oauth.client_ok(v.get("client_id", ""), v.get("client_secret", "")):
            raise GraphError(400, 1, "Error validating client secret.")
        if v.get("grant_type") == "fb_exchange_token":
            old = v.get("fb_exchange_token", "")
            if self.registry.token_state(old) != "ok":
                raise GraphError(400, 190, "Error validating access token: Session has expired.", subcode=463)
            accounts = frozenset(self.registry.reach(old))
            token = self.oauth.access_token(accounts, "fb_exchange_token", lifetime=LONG_LIVED_SECONDS)
            return {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS}
        code = self.oauth.redeem(v.get("code", ""), v.get("client_id", ""), v.get("redirect_uri", ""))
        if code is None:
            raise GraphError(400, 100, "This authorization code has been used, has expired or does not match "
                             "the redirect_uri.", subcode=36009)
        token = self.oauth.access_token(code.accounts, "authorization_code")
        return {"access_token": token, "token_type": "bearer", "expires_in": SHORT_LIVED_SECONDS}

    def _me(self, request: Request, edge: str, token: str) -> Any:
        """``/me/adaccounts`` (the accounts the token reaches) and ``DELETE /me/permissions`` (revoke)."""
        if edge == "permissions" and request.method == "DELETE":
            self.oauth.revoke(token)
            return {"success": True}
        if edge == "adaccounts" and request.method == "GET":
            reach = self.registry.reach(token)
            rows = [{"id": f"act_{a.account_id}", "account_id": a.account_id, "name": a.name,
                     "currency": a.currency, "timezone_name": a.timezone, "account_status": 1}
                    for a in sorted(self.registry.accounts.values(), key=lambda a: a.account_id)
                    if a.account_id in reach]
            return self._page(rows, request)
        if edge == "businesses" and request.method == "GET":
            reach = self.registry.reach(token)
            return self._page([{"id": bid, "name": b["name"]} for bid, b in sorted(self.businesses.items())
                               if bid in reach], request)
        raise GraphError(400, 100, f"(#100) Unsupported request to /me/{edge}", type_="GraphMethodException")

    def _business_accounts(self, request: Request, business_id: str, edge: str, token: str) -> Any:
        """``/{business-id}/owned_ad_accounts`` and ``/client_ad_accounts``: AdAccount nodes."""
        if business_id not in self.registry.reach(token):
            raise GraphError(400, 100, f"(#100) Unsupported get request. Object with ID '{business_id}' does not "
                             "exist, cannot be loaded due to missing permissions, or does not support this "
                             "operation", subcode=33, type_="GraphMethodException")
        ids = self.businesses[business_id]["owned" if edge == "owned_ad_accounts" else "client"]
        rows = [{"id": f"act_{a.account_id}", "account_id": a.account_id, "name": a.name, "currency": a.currency,
                 "timezone_name": a.timezone, "account_status": 1}
                for a in (self.registry.accounts[i] for i in sorted(ids))]
        return self._page(rows, request)

    def _route(self, request: Request, parts: list[str], token: str, *, fail_run: bool) -> Any:
        v = request.values
        if len(parts) == 2 and parts[0] == "me":
            return self._me(request, parts[1], token)
        if len(parts) == 2 and parts[0] in self.businesses and parts[1] in ("owned_ad_accounts", "client_ad_accounts"):
            return self._business_accounts(request, parts[0], parts[1], token)
        if len(parts) == 1 and parts[0].startswith("act_") and request.method == "GET":
            a = self._account(parts[0], token)
            return {
                "id": f"act_{a.account_id}",
                "account_id": a.account_id,
                "name": a.name,
                "currency": a.currency,
                "timezone_name": a.timezone,
                "account_status": 1,
            }
        if len(parts) == 2 and parts[0].startswith("act_"):
            a = self._account(parts[0], token)
            edge = parts[1]
            if edge == "campaigns":
                return self._page(self._campaigns(a, _parse_list(v.get("fields"))), request)
            if edge == "adsets":
                return self._page(self._adsets(a), request)
            if edge == "ads":
                return self._page(self._ads(a), request)
            if edge == "insights" and request.method == "GET":
                return self._page(self._insights(a, v), request)
            if edge == "insights" and request.method == "POST":
                self._insights(a, v)  # validate now: the real API rejects bad params at start
                run_id = str(next(self._ids))
                self._runs[run_id] = {
                    "account_id": a.account_id,
                    "params": dict(v.items()),
                    "polls": 0,
                    "fail": fail_run,
                    "time_ref": int(time.time()),
                }
                return {"report_run_id": run_id}
        if len(parts) == 1 and parts[0] in self._runs:
            return self._poll(parts[0])
        if len(parts) == 2 and parts[0] in self._runs and parts[1] == "insights":
            run = self._runs[parts[0]]
            if self._run_status(run)[0] != "Job Completed":
                raise GraphError(400, 100, "(#100) The report is not ready yet", type_="OAuthException")
            a = self._account(f"act_{run['account_id']}", token)
            params = dict(run["params"])
            params.update({k: val for k, val in v.items() if k in ("limit", "after")})
            return self._page(self._insights(a, params), request)
        if len(parts) == 2 and parts[1] == "products" and parts[0] in self._product_sets:
            acct_id, cid = self._product_sets[parts[0]]
            a = self._account(f"act_{acct_id}", token)
            items = []
            for p in a.products.get(cid, []):
                if p.get("source") != "product_set":
                    continue
                ref = a.catalog.get(p["product_id"], {})
                pid = p["product_id"].rsplit("/", 1)[-1]
                for vid in ref.get("variant_ids", [pid]):
                    items.append({"id": f"9{pid}{vid}"[:17], "retailer_id": f"shopify_US_{pid}_{vid}"})
            return self._page(items, request)
        if len(parts) == 1:
            owner = self.registry.owner_of_campaign(parts[0])
            if owner is None:
                raise GraphError(
                    400,
                    100,
                    f"(#100) Object with ID '{parts[0]}' does not exist",
                    subcode=33,
                    type_="GraphMethodException",
                )
            self._account(f"act_{owner.account_id}", token)
            if request.method == "POST":
                return self._update_campaign(owner, parts[0], v)
            return self._campaigns(owner, _parse_list(v.get("fields")), only=parts[0])[0]
        raise GraphError(400, 2500, "Unknown path components: /" + "/".join(parts), type_="OAuthException")

    def _page(self, items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
        limit = min(int(request.values.get("limit") or 25), self.max_page_size)
        after = request.values.get("after")
        start = _decode_cursor(after) if after else 0
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if items:
            body["paging"] = {
                "cursors": {"before": _encode_cursor(start), "after": _encode_cursor(start + len(chunk))}
            }
            if start + limit < len(items):
                query = {k: val for k, val in request.values.items() if k != "access_token"}
                query["after"] = _encode_cursor(start + limit)
                body["paging"]["next"] = f"{request.host_url.rstrip('/')}{request.path}?{urlencode(query)}"
        return body

    def _campaigns(
        self, a: SandboxAccount, fields: list[str], only: str | None = None
    ) -> list[dict[str, Any]]:
        unknown = set(fields) - CAMPAIGN_FIELDS
        if unknown:
            raise GraphError(
                400,
                100,
                f"(#100) Tried accessing nonexisting field ({min(unknown)}) on node type (Campaign)",
                type_="OAuthException",
            )
        out = []
        for cid, c in sorted(a.campaigns.items()):
            if only and cid != only:
                continue
            budget = c.get("daily_budget_amount")
            full = {
                "id": cid,
                "name": c.get("campaign_name"),
                "status": c.get("status") or "ACTIVE",
                "effective_status": c.get("status") or "ACTIVE",
                "objective": c.get("objective") or "OUTCOME_SALES",
                "account_id": a.account_id,
                "buying_type": "AUCTION",
                "updated_time": _meta_time(c.get("updated_at")),
            }
            if budget is not None:
                full["daily_budget"] = str(int(Decimal(budget) * 100))
            out.append({k: val for k, val in full.items() if k in fields or k == "id"})
        return out

    def _adsets(self, a: SandboxAccount) -> list[dict[str, Any]]:
        out = []
        for cid in sorted(a.campaigns):
            promoted = any(p.get("source") == "product_set" for p in a.products.get(cid, []))
            item: dict[str, Any] = {"id": f"23{cid}", "campaign_id": cid}
            if promoted:
                item["promoted_object"] = {
                    "product_set_id": self.product_set_id(cid),
                    "product_catalog_id": f"88{a.account_id}",
                }
            out.append(item)
        return out

    def _ads(self, a: SandboxAccount) -> list[dict[str, Any]]:
        out = []
        domain = a.shop_domain or f"{a.brand_id}.myshopify.com"
        for cid in sorted(a.campaigns):
            for i, p in enumerate(a.products.get(cid, [])):
                if p.get("source") != "destination_url":
                    continue
                handle = a.catalog.get(p["product_id"], {}).get("handle", "")
                out.append(
                    {
                        "id": f"24{cid}{i}",
                        "campaign_id": cid,
                        "creative": {
                            "id": f"25{cid}{i}",
                            "link_url": f"https://{domain}/products/{handle}?utm_source=facebook&utm_medium=paid",
                        },
                    }
                )
        return out

    def _insights(self, a: SandboxAccount, v: Any) -> list[dict[str, Any]]:
        key = (
            a.account_id,
            a.version,
            *(str(v.get(k)) for k in ("level", "time_increment", "fields", "breakdowns", "time_range")),
        )
        return self._reports.get(key, lambda: self._compute_insights(a, v))

    def _compute_insights(self, a: SandboxAccount, v: Any) -> list[dict[str, Any]]:
        level = v.get("level") or "account"
        if level != "campaign":
            raise GraphError(
                400, 100, "(#100) The sandbox serves level=campaign only", type_="OAuthException"
            )
        if str(v.get("time_increment") or "") != "1":
            raise GraphError(
                400, 100, "(#100) The sandbox serves time_increment=1 only", type_="OAuthException"
            )
        fields = _parse_list(v.get("fields"))
        unknown = set(fields) - INSIGHTS_FIELDS
        if unknown:
            raise GraphError(
                400, 100, f"(#100) {min(unknown)} is not valid for fields param.", type_="OAuthException"
            )
        breakdowns = _parse_list(v.get("breakdowns"))
        if breakdowns not in ([], ["region"], ["country"]):
            raise GraphError(
                400,
                100,
                f"(#100) breakdowns {breakdowns} are not served by the sandbox",
                type_="OAuthException",
            )
        try:
            tr = json.loads(v.get("time_range") or "{}")
            since, until = date.fromisoformat(tr["since"]), date.fromisoformat(tr["until"])
        except (ValueError, KeyError) as e:
            raise GraphError(
                400, 100, "(#100) time_range must be {'since','until'}", type_="OAuthException"
            ) from e
        if until < since:
            raise GraphError(400, 100, "(#100) time_range until is before since", type_="OAuthException")
        by = breakdowns[0] if breakdowns else None
        def breakdown(r: dict[str, Any]) -> str:
            if by == "region":
                return geo.meta_region_name(r["region_code"]) if r["region_code"] else "Unknown"
            return r["country_code"] if by == "country" else ""

        groups = a.totals_between(since, until, breakdown)
        rows = []
        for (d, cid, value), g in sorted(groups.items()):
            full: dict[str, Any] = {
                "account_id": a.account_id,
                "account_name": a.name,
                "account_currency": a.currency,
                "campaign_id": cid,
                "campaign_name": g["campaign_name"],
                "spend": str(g["spend"]),
                "impressions": str(g["impressions"]),
                "clicks": str(g["clicks"]),
            }
            # Type 1 breakdowns (region, dma) return no off-Meta actions since April 2021.
            if by != "region":
                actions = [{"action_type": "link_click", "value": str(g["clicks"])}]
                values: list[dict[str, str]] = []
                if g["purchases"]:
                    for t in PURCHASE_ACTION_TYPES:
                        actions.append({"action_type": t, "value": _fmt_number(g["purchases"])})
                        values.append({"action_type": t, "value": str(g["value"])})
                full["actions"] = actions
                if values:
                    full["action_values"] = values
            row = {k: val for k, val in full.items() if k in fields}
            row["date_start"] = row["date_stop"] = d.isoformat()
            if by:
                row[by] = value
            rows.append(row)
        return rows

    def _run_status(self, run: dict[str, Any]) -> tuple[str, int]:
        if run["polls"] >= self.polls_to_complete:
            return ("Job Failed", 100) if run["fail"] else ("Job Completed", 100)
        if run["polls"] == 0:
            return "Job Not Started", 0
        return "Job Running", int(100 * run["polls"] / self.polls_to_complete)

    def _poll(self, run_id: str) -> dict[str, Any]:
        run = self._runs[run_id]
        run["polls"] += 1
        status, pct = self._run_status(run)
        body: dict[str, Any] = {
            "id": run_id,
            "account_id": run["account_id"],
            "time_ref": run["time_ref"],
            "async_status": status,
            "async_percent_completion": pct,
        }
        if status == "Job Completed":
            body["time_completed"] = run["time_ref"] + 1
        if status == "Job Failed":
            body.update(
                {
                    "error_code": 2,
                    "error_message": "An unexpected error has occurred.",
                    "error_subcode": 1487534,
                    "error_user_title": "Report failed",
                    "error_user_msg": "The report could not be completed. Please try again.",
                }
            )
        return body

    def _update_campaign(self, a: SandboxAccount, campaign_id: str, v: Any) -> dict[str, Any]:
        raw = v.get("daily_budget")
        if raw is None or not str(raw).isdigit():
            raise GraphError(
                400,
                100,
                "(#100) Invalid parameter: daily_budget must be an integer in minor units",
                type_="OAuthException",
            )
        c = a.campaigns[campaign_id]
        if c.get("daily_budget_amount") is None:
            raise GraphError(
                400, 100, "(#100) This campaign uses ad set budgets", subcode=1885621, type_="OAuthException"
            )
        with self.registry.lock():
            c["daily_budget_amount"] = Decimal(int(raw)).scaleb(-2)
        return {"success": True}


def _meta_time(value: Any) -> str:
    if value is None:
        return "2026-01-01T00:00:00+0000"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%dT%H:%M:%S+0000")
    return str(value)
