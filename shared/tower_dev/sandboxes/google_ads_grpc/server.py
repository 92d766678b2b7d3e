"""A real gRPC server speaking the Google Ads API, built on the google-ads package's own messages.

The package ships protos and message classes but no servicer base classes, so the methods are
registered with ``grpc.method_handlers_generic_handler`` under their real full names
(``google.ads.googleads.v26.services.GoogleAdsService/SearchStream``,
``.../CampaignBudgetService/MutateCampaignBudgets``), (de)serialising with the package's own
request/response messages.

* ``SearchStream`` runs a small GAQL interpreter (``SELECT ... FROM resource WHERE ... [ORDER BY]
  [LIMIT]``) over ``customer``, ``campaign``, ``user_location_view``, ``geographic_view``,
  ``shopping_performance_view``, ``ad_group_ad``, ``click_view`` and ``geo_target_constant`` (the sandbox's own table
  of the US states and the Canadian provinces: :func:`geo_target_constants`), and streams the rows in batches of
  ``batch_size`` with a ``field_mask``. A field the resource does not have, or ``segments.date``
  without a finite date range, is refused as the API does (``INVALID_ARGUMENT`` + ``QueryError``).
  ``click_view`` serves the account's planted clicks and, as Google documents, only for a filter on one
  ``segments.date`` no more than 90 days before the account's ``today``; anything else is refused.
* Manager accounts (:meth:`GoogleAdsSandbox.add_manager`): ``customer_client`` answers a customer's whole
  tree (itself at level 0, then its direct and indirect clients), as Google documents. A person whose token
  reaches only the manager reaches its clients (at any depth) through it: a request for a client must then
  carry ``login-customer-id`` = that manager (one the token reaches directly), else ``PERMISSION_DENIED`` +
  ``AuthorizationError.USER_PERMISSION_DENIED``, as the real API answers. ``ListAccessibleCustomers``
  ignores ``login-customer-id`` and lists only what the token reaches directly.
* Auth: the OAuth ``authorization: Bearer`` call credential and the ``developer-token`` header are
  required; ``login-customer-id`` is recorded. Failures carry a serialised ``GoogleAdsFailure`` in
  the ``google.ads.googleads.v26.errors.googleadsfailure-bin`` trailer, as Google's servers do.
* The transport is gRPC over *local* channel credentials (``LOCAL_TCP``): plaintext on loopback,
  while still carrying the OAuth call credential like TLS would.
* Faults (:class:`~tower_dev.sandboxes.ad_sandbox.FaultPlan` kinds): ``quota`` (``RESOURCE_EXHAUSTED`` +
  ``QuotaError`` with ``retry_delay``), ``internal`` (``INTERNAL``), ``unavailable``
  (``UNAVAILABLE``), ``stream_break`` (the first batch, then ``UNAVAILABLE`` mid-stream),
  ``token_expired`` (``UNAUTHENTICATED`` + ``AuthenticationError.OAUTH_TOKEN_EXPIRED``). Those are drawn
  for every ``search_stream`` request; a second draw names the resource queried
  (``search_stream:<resource>``) and serves only faults scheduled for it: ``permission_denied``
  (``PERMISSION_DENIED`` + ``AuthorizationError.ACTION_NOT_PERMITTED``) and ``account_type``
  (``PERMISSION_DENIED`` + ``AuthorizationError.ACCESS_DENIED_FOR_ACCOUNT_TYPE``).
  :meth:`GoogleAdsSandbox.fail_mapping_reads` refuses only the queries that map campaigns to products
  (``shopping_performance_view``, ``ad_group_ad``: :data:`MAPPING_ENDPOINTS`).
  A resource can be refused for one account alone (``search_stream:<resource>@<customer id>``):
  :meth:`GoogleAdsSandbox.refuse_click_view`.
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Iterator
from concurrent import futures
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import import_module, resources
from typing import Any

from tower.connectors import geo
from tower.connectors.ads_records import to_micros
from tower_dev.sandboxes.ad_oauth import OAuthProvider, page, redirect_to
from tower_dev.sandboxes.ad_sandbox import AccountRegistry, FaultPlan, HttpServerThread, SandboxAccount
from tower_dev.sandboxes.identity import grpc_identity_handler

VERSION = "v26"
AUTHORIZE_PATH = "/o/oauth2/v2/auth"
SCOPE = "https://www.googleapis.com/auth/adwords"
ACCESS_TOKEN_SECONDS = 3600
#: The endpoints (FaultPlan names) of the queries that only map campaigns to the products they promote.
MAPPING_ENDPOINTS = ("search_stream:shopping_performance_view", "search_stream:ad_group_ad")
# Resource-level refusals: fault kind -> (AuthorizationError name, the message Google sends with it).
_RESOURCE_DENIALS = {
    "permission_denied": ("ACTION_NOT_PERMITTED",
                          "The user does not have permission to perform this action on the resource or call a method."),
    "account_type": ("ACCESS_DENIED_FOR_ACCOUNT_TYPE",
                     "This customer's account type does not allow access to the requested resource."),
}
_STATUS_MAP = {
    "active": "ENABLED",
    "enabled": "ENABLED",
    "enable": "ENABLED",
    "paused": "PAUSED",
    "disable": "PAUSED",
    "removed": "REMOVED",
}

RESOURCE_FIELDS: dict[str, set[str]] = {
    "customer": {
        "customer.id",
        "customer.descriptive_name",
        "customer.currency_code",
        "customer.time_zone",
        "customer.resource_name",
    },
    "campaign": {
        "campaign.id",
        "campaign.name",
        "campaign.status",
        "campaign.advertising_channel_type",
        "campaign.campaign_budget",
        "campaign.resource_name",
        "campaign_budget.amount_micros",
        "campaign_budget.resource_name",
        "campaign_budget.explicitly_shared",
        "campaign_budget.id",
    },
    "user_location_view": {
        "campaign.id",
        "campaign.name",
        "segments.date",
        "segments.geo_target_region",
        "user_location_view.country_criterion_id",
        "user_location_view.targeting_location",
        "metrics.cost_micros",
        "metrics.impressions",
        "metrics.clicks",
        "metrics.conversions",
        "metrics.conversions_value",
    },
    "geographic_view": {
        "campaign.id",
        "campaign.name",
        "segments.date",
        "segments.geo_target_region",
        "geographic_view.country_criterion_id",
        "geographic_view.location_type",
        "metrics.cost_micros",
        "metrics.impressions",
        "metrics.clicks",
        "metrics.conversions",
        "metrics.conversions_value",
    },
    "shopping_performance_view": {
        "campaign.id",
        "segments.product_item_id",
        "segments.date",
        "metrics.impressions",
        "metrics.clicks",
        "metrics.cost_micros",
    },
    "ad_group_ad": {"campaign.id", "ad_group_ad.ad.id", "ad_group_ad.ad.final_urls"},
    "click_view": {
        "click_view.gclid",
        "click_view.resource_name",
        "campaign.id",
        "ad_group.id",
        "segments.date",
        "metrics.clicks",
    },
    "customer_client": {
        "customer_client.resource_name",
        "customer_client.client_customer",
        "customer_client.id",
        "customer_client.level",
        "customer_client.manager",
        "customer_client.descriptive_name",
        "customer_client.currency_code",
        "customer_client.time_zone",
        "customer_client.status",
        "customer_client.hidden",
        "customer_client.test_account",
    },
    "geo_target_constant": {
        "geo_target_constant.id",
        "geo_target_constant.resource_name",
        "geo_target_constant.name",
        "geo_target_constant.canonical_name",
        "geo_target_constant.country_code",
        "geo_target_constant.target_type",
        "geo_target_constant.status",
    },
}
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_BETWEEN = re.compile(r"(\S+)\s+BETWEEN\s+'([^']*)'\s+AND\s+'([^']*)'", re.IGNORECASE)
_COND = re.compile(r"^(\S+)\s*(=|!=|>=|<=|>|<|IN|NOT IN)\s*(.+)$", re.IGNORECASE)


@lru_cache(maxsize=1)
def geo_target_constants() -> list[dict[str, Any]]:
    """The sandbox's own geo target constants (``geo_target_constants.csv`` beside this module): the US and
    its states as Google publishes them, Canada and its provinces and territories.

    The Canadian ids run 20113 Alberta … 20125 Yukon in the order of the provinces' postal abbreviations
    (AB BC MB NB NL NS NT NU ON PE QC SK YT), as Google numbers the US states by theirs; 20114 British
    Columbia and 20121 Ontario are the ids the product's issue cites. The product never relies on them:
    it asks ``geo_target_constant`` (this table, here) for the name and country of any id it meets.
    """
    text = resources.files(__package__).joinpath("geo_target_constants.csv").read_text(encoding="utf-8")
    return [{**r, "criterion_id": int(r["criterion_id"])} for r in csv.DictReader(text.splitlines())]


@lru_cache(maxsize=1)
def region_criterion_ids() -> dict[str, int]:
    """ISO 3166-2 code → the criterion id this sandbox reports a region under."""
    return {t["iso_3166_2"]: t["criterion_id"] for t in geo_target_constants() if t["iso_3166_2"]}


def click_view_first_day(acct: SandboxAccount) -> date:
    """The earliest day click_view still answers for: 90 days before the account's today."""
    return (acct.today or date.today()) - timedelta(days=90)


class GaqlError(Exception):
    """A query the API would refuse (``QueryError``)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def _messages() -> dict[str, Any]:
    """The raw protobuf classes of the messages the sandbox speaks (imported on first use)."""
    gas = import_module(f"google.ads.googleads.{VERSION}.services.types.google_ads_service")
    cbs = import_module(f"google.ads.googleads.{VERSION}.services.types.campaign_budget_service")
    errs = import_module(f"google.ads.googleads.{VERSION}.errors.types.errors")
    cs = import_module(f"google.ads.googleads.{VERSION}.services.types.customer_service")
    return {
        "StreamRequest": gas.SearchGoogleAdsStreamRequest.pb(),
        "StreamResponse": gas.SearchGoogleAdsStreamResponse.pb(),
        "Row": gas.GoogleAdsRow.pb(),
        "MutateRequest": cbs.MutateCampaignBudgetsRequest.pb(),
        "MutateResponse": cbs.MutateCampaignBudgetsResponse.pb(),
        "Failure": errs.GoogleAdsFailure.pb(),
        "ListAccessibleRequest": cs.ListAccessibleCustomersRequest.pb(),
        "ListAccessibleResponse": cs.ListAccessibleCustomersResponse.pb(),
    }


def parse_gaql(query: str) -> dict[str, Any]:
    """The parts of a GAQL query the sandbox interprets."""
    m = _QUERY.match(query)
    if not m:
        raise GaqlError("UNEXPECTED_END_OF_QUERY", f"Query could not be parsed: {query[:80]!r}")
    resource = m.group("resource").lower()
    if resource not in RESOURCE_FIELDS:
        raise GaqlError("INVALID_RESOURCE_NAME", f"The sandbox does not serve resource {resource!r}")
    fields = [f.strip() for f in m.group("fields").split(",") if f.strip()]
    unknown = [f for f in fields if f not in RESOURCE_FIELDS[resource]]
    if unknown:
        raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{unknown[0]}'.")
    conds: list[tuple[str, str, Any]] = []
    where = m.group("where") or ""
    for field, lo, hi in _BETWEEN.findall(where):
        conds.append((field, "BETWEEN", (lo, hi)))
    where = _BETWEEN.sub("", where)
    for part in re.split(r"\s+AND\s+", where, flags=re.IGNORECASE):
        part = part.strip()
        if not part:
            continue
        cm = _COND.match(part)
        if not cm:
            raise GaqlError("UNEXPECTED_INPUT", f"Cannot parse condition {part!r}")
        field, op, raw = cm.group(1), cm.group(2).upper(), cm.group(3).strip()
        if op in ("IN", "NOT IN"):
            value: Any = [v.strip().strip("'\"") for v in raw.strip("()").split(",")]
        else:
            value = raw.strip("'\"")
        conds.append((field, op, value))
    dated = [c for c in conds if c[0] == "segments.date"]
    if "segments.date" in fields and not dated:
        raise GaqlError(
            "EXPECTED_FILTERS_ON_DATE_RANGE",
            "Filters on segments.date are required when segments.date is selected.",
        )
    if resource == "click_view":
        _one_day(dated)
    return {
        "resource": resource,
        "fields": fields,
        "conds": conds,
        "limit": int(m.group("limit")) if m.group("limit") else None,
    }


def _one_day(dated: list[tuple[str, str, Any]]) -> None:
    """click_view's rule: the query names exactly one day (``segments.date = 'YYYY-MM-DD'``)."""
    days = {v for _, op, v in dated if op == "="} | {v[0] for _, op, v in dated if op == "BETWEEN" and v[0] == v[1]}
    if len(dated) != 1 or len(days) != 1:
        raise GaqlError(
            "EXPECTED_FILTERS_ON_DATE_RANGE",
            "Queries including ClickView must have a filter limiting the results to one day.",
        )
    try:
        date.fromisoformat(next(iter(days)))
    except ValueError:
        raise GaqlError("INVALID_DATE_FORMAT", f"Invalid date in the query: {next(iter(days))!r}.") from None


def _date_range(conds: list[tuple[str, str, Any]]) -> tuple[date, date]:
    """The widest ``segments.date`` range the conditions allow (to build only those rows)."""
    lo, hi = date.min, date.max
    for field, op, value in conds:
        if field != "segments.date":
            continue
        try:
            if op == "BETWEEN":
                lo, hi = max(lo, date.fromisoformat(value[0])), min(hi, date.fromisoformat(value[1]))
            elif op in (">=", ">", "="):
                lo = max(lo, date.fromisoformat(value))
            if op in ("<=", "<", "="):
                hi = min(hi, date.fromisoformat(value))
        except ValueError:
            continue  # _matches compares the strings and finds nothing
    return lo, hi


def _literal(have: Any, value: Any) -> Any:
    """A GAQL literal as the field's type compares it: ``TRUE``/``FALSE`` for booleans, numbers for numbers
    (``customer_client.level <= 1``), else the string."""
    if isinstance(have, bool):
        return str(value).upper() == "TRUE"
    if isinstance(have, int | float):
        try:
            return type(have)(value)
        except ValueError:
            return value
    return str(value)


def _matches(row: dict[str, Any], conds: list[tuple[str, str, Any]]) -> bool:
    for field, op, value in conds:
        have = row.get(field)
        if isinstance(have, bool | int | float) and op not in ("BETWEEN", "IN", "NOT IN"):
            if not _compare(have, op, _literal(have, value)):
                return False
            continue
        have_s = str(have)
        if op == "BETWEEN":
            if not value[0] <= have_s <= value[1]:
                return False
        elif (
            op == "="
            and have_s != str(value)
            or op == "!="
            and have_s == str(value)
            or op == ">="
            and not have_s >= str(value)
            or op == "<="
            and not have_s <= str(value)
            or op == ">"
            and not have_s > str(value)
            or op == "<"
            and not have_s < str(value)
            or op == "IN"
            and have_s not in value
            or op == "NOT IN"
            and have_s in value
        ):
            return False
    return True


def _compare(have: Any, op: str, want: Any) -> bool:
    try:
        return {"=": have == want, "!=": have != want, ">=": have >= want, "<=": have <= want,
                ">": have > want, "<": have < want}[op]
    except TypeError:  # a literal of another type (a string for a number) matches nothing
        return False


class GoogleAdsSandbox:
    """The Google Ads API sandbox (see the module docstring)."""

    def __init__(
        self,
        accounts: list[SandboxAccount],
        *,
        host: str = "127.0.0.1",
        batch_size: int = 1000,
        workers: int = 8,
        port: int = 0,
    ) -> None:
        import grpc

        self.registry = AccountRegistry("google_ads", accounts)
        #: What ``/tower_dev.Sandbox/Describe`` answers: the world served (None: hand-made accounts).
        self.identity: dict[str, Any] | None = None
        self.faults = FaultPlan()
        self.batch_size = batch_size
        self.queries: list[tuple[str, str]] = []  # (customer_id, query)
        self.metadata: list[dict[str, str]] = []  # request headers seen (tokens removed)
        self._msgs = _messages()
        self._offline: dict[str, bool] = {}  # code → whether its authorize request asked for offline access
        self._grpc = grpc
        #: Manager account id → its direct clients' ids (advertisers or managers): :meth:`add_manager`.
        self.managers: dict[str, list[str]] = {}
        #: A customer's ``CustomerStatus`` when not ENABLED (``CANCELED``, ``SUSPENDED``, ``CLOSED``).
        self.customer_status: dict[str, str] = {}
        self._budget_ids: dict[str, str] = {}
        for acct in self.registry.accounts.values():
            for cid, c in acct.campaigns.items():
                self._budget_ids[cid] = self._budget_resource(acct, cid, c)
        prefix = f"google.ads.googleads.{VERSION}.services"
        m = self._msgs
        handlers = [
            grpc.method_handlers_generic_handler(
                f"{prefix}.GoogleAdsService",
                {
                    "SearchStream": grpc.unary_stream_rpc_method_handler(
                        self._search_stream,
                        request_deserializer=m["StreamRequest"].FromString,
                        response_serializer=m["StreamResponse"].SerializeToString,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                f"{prefix}.CampaignBudgetService",
                {
                    "MutateCampaignBudgets": grpc.unary_unary_rpc_method_handler(
                        self._mutate_budgets,
                        request_deserializer=m["MutateRequest"].FromString,
                        response_serializer=m["MutateResponse"].SerializeToString,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                f"{prefix}.CustomerService",
                {
                    "ListAccessibleCustomers": grpc.unary_unary_rpc_method_handler(
                        self._list_accessible,
                        request_deserializer=m["ListAccessibleRequest"].FromString,
                        response_serializer=m["ListAccessibleResponse"].SerializeToString,
                    ),
                },
            ),
            grpc_identity_handler("google_ads", lambda: self.identity),
        ]
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), handlers=handlers)
        creds = grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        self.port = self._add_port(host, port, creds)
        self.host = host
        self._server.start()
        #: Google's OAuth 2.0 endpoints over HTTP (their own origin: accounts.google.com and
        #: oauth2.googleapis.com in production). Access tokens last an hour; refresh tokens until revoked.
        self.oauth = OAuthProvider(self.registry, access_lifetime=ACCESS_TOKEN_SECONDS)
        self._oauth_server = HttpServerThread(self._oauth_wsgi, host, 0)

    @property
    def oauth_origin(self) -> str:
        """Where the OAuth endpoints answer (``/o/oauth2/v2/auth``, ``/token``, ``/revoke``)."""
        return self._oauth_server.origin

    def oauth_settings(self) -> dict[str, str]:
        """The Settings fields that point the product's Google OAuth at this sandbox."""
        return {"google_oauth_authorize_url": f"{self.oauth_origin}{AUTHORIZE_PATH}",
                "google_oauth_token_uri": f"{self.oauth_origin}/token",
                "google_oauth_revoke_uri": f"{self.oauth_origin}/revoke"}

    def _oauth_wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        if request.path == AUTHORIZE_PATH:
            status, headers, body = self._consent(request)
            return Response(body, status=status, headers=headers)(environ, start_response)
        if request.path == "/token" and request.method == "POST":
            status, answer = self._token(request.form)
        elif request.path == "/revoke" and request.method == "POST":
            known = self.oauth.revoke(request.values.get("token", ""))
            status, answer = (200, {}) if known else (400, {"error": "invalid_token", "error_description": "Bad Request"})
        else:
            status, answer = 404, {"error": "not_found"}
        resp = Response(json.dumps(answer), status=status, mimetype="application/json")
        resp.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
        return resp(environ, start_response)

    def _consent(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        q = {k: v for k, v in request.values.items() if k != "decision"}
        problem = self.oauth.authorize_problem(q.get("client_id", ""), q.get("redirect_uri", ""))
        if problem is None and q.get("response_type") != "code":
            problem = "Required parameter is missing: response_type"
        if problem is not None:
            return page(400, f"Error 400: invalid_request. {problem}")
        if request.method == "GET":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, \
                self.oauth.consent_page(request.path, q, "Sign in with Google")
        if request.values.get("decision") != "approve":
            return 302, {"Location": redirect_to(q["redirect_uri"], {"error": "access_denied",
                                                                     "state": q.get("state")})}, b""
        code = self.oauth.issue_code(q["client_id"], q["redirect_uri"], q.get("scope", ""))
        # A refresh token only with offline access (and consent asked again), as Google does.
        self._offline[code] = q.get("access_type") == "offline"
        return 302, {"Location": redirect_to(q["redirect_uri"], {"state": q.get("state"), "code": code,
                                                                 "scope": q.get("scope")})}, b""

    def _token(self, form: Any) -> tuple[int, dict[str, Any]]:
        client_id = form.get("client_id", "")
        if not self.oauth.client_ok(client_id, form.get("client_secret", "")):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code_text = form.get("code", "")
            code = self.oauth.redeem(code_text, client_id, form.get("redirect_uri", ""))
            if code is None:
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
            answer: dict[str, Any] = {"expires_in": ACCESS_TOKEN_SECONDS - 1, "scope": code.scope,
                                      "token_type": "Bearer"}
            refresh = self.oauth.refresh_token(client_id, code.accounts) if self._offline.pop(code_text, False) \
                else None
            answer["access_token"] = self.oauth.access_token(code.accounts, grant, refresh_token=refresh)
            if refresh:
                answer["refresh_token"] = refresh
            return 200, answer
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            accounts = self.oauth.refreshable(refresh, client_id)
            if accounts is None:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 200, {"access_token": self.oauth.access_token(accounts, grant, refresh_token=refresh),
                         "expires_in": ACCESS_TOKEN_SECONDS - 1, "scope": SCOPE, "token_type": "Bearer"}
        return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}

    def _add_port(self, host: str, port: int, creds: Any) -> int:
        """Bind ``port`` (0: a free one); grpc answers 0 or raises when it is taken."""
        try:
            bound = int(self._server.add_secure_port(f"{host}:{port}", creds))
        except RuntimeError:
            bound = 0
        if not bound:
            raise OSError(f"port {port} on {host} is taken")
        return bound

    @property
    def endpoint(self) -> str:
        """``host:port`` to give the connector (``TOWER_GOOGLE_ADS_ENDPOINT``)."""
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop(grace=None).wait(5)
        self._oauth_server.stop()

    def issue_token(self, *customer_ids: str) -> str:
        """A fresh OAuth access token reaching the given customers."""
        return self.registry.issue_token(*[c.replace("-", "") for c in customer_ids])

    def add_manager(self, manager_id: str, name: str, client_ids: list[str], *, currency: str = "USD",
                    timezone: str = "America/New_York") -> None:
        """Serve a manager (MCC) account whose direct clients are ``client_ids`` (accounts served already,
        or managers added before). It has no campaigns; its clients are reached through it."""
        manager_id = manager_id.replace("-", "")
        unknown = [c for c in client_ids if c.replace("-", "") not in self.registry.accounts]
        if unknown:
            raise ValueError(f"a manager's clients must be served accounts; unknown: {', '.join(unknown)}")
        self.registry.add(SandboxAccount("google_ads", manager_id, brand_id="", currency=currency,
                                         timezone=timezone, name=name))
        self.managers[manager_id] = [c.replace("-", "") for c in client_ids]

    def tree(self, customer_id: str) -> dict[str, int]:
        """The customer and every client below it (through managers), with its level: 0 itself, 1 its
        direct clients... (a client reached by two paths keeps the shorter)."""
        levels = {customer_id: 0}
        frontier = [customer_id]
        while frontier:
            nxt = []
            for parent in frontier:
                for child in self.managers.get(parent, []):
                    if child not in levels:
                        levels[child] = levels[parent] + 1
                        nxt.append(child)
            frontier = nxt
        return levels

    def fail_mapping_reads(self, kind: str = "permission_denied") -> None:
        """Refuse every query that maps campaigns to products (:data:`MAPPING_ENDPOINTS`) until
        ``faults.clear()``: ``permission_denied`` or ``account_type``. Other queries keep answering."""
        if kind not in _RESOURCE_DENIALS:
            raise ValueError(f"a mapping read fails with one of {', '.join(_RESOURCE_DENIALS)}, not {kind!r}")
        self.faults.deny(kind, MAPPING_ENDPOINTS)

    def refuse_click_view(self, account_id: str, kind: str = "permission_denied") -> None:
        """Refuse ``click_view`` queries of one account (``permission_denied`` or ``account_type``) until
        ``faults.clear()``; its other queries, and other accounts' click_view, keep answering."""
        if kind not in _RESOURCE_DENIALS:
            raise ValueError(f"click_view fails with one of {', '.join(_RESOURCE_DENIALS)}, not {kind!r}")
        self.faults.deny(kind, (f"search_stream:click_view@{account_id.replace('-', '')}",))

    @staticmethod
    def _budget_resource(acct: SandboxAccount, cid: str, c: dict[str, Any]) -> str:
        bid = str(c.get("budget_id") or "")
        if bid.startswith("customers/"):
            return bid
        return f"customers/{acct.account_id}/campaignBudgets/{bid or '9' + cid}"

    # -- errors -------------------------------------------------------------------------------
    def _abort(
        self,
        context: Any,
        code: Any,
        message: str,
        error_field: str,
        error_name: str,
        retry_seconds: int | None = None,
    ) -> None:
        failure = self._msgs["Failure"]()
        err = failure.errors.add()
        enum_field = err.error_code.DESCRIPTOR.fields_by_name[error_field]
        setattr(err.error_code, error_field, enum_field.enum_type.values_by_name[error_name].number)
        err.message = message
        if retry_seconds is not None:
            qd = err.details.quota_error_details
            qd.rate_scope = (
                qd.DESCRIPTOR.fields_by_name["rate_scope"].enum_type.values_by_name["DEVELOPER"].number
            )
            qd.rate_name = "Number of operations for basic access"
            qd.retry_delay.seconds = retry_seconds
        request_id = uuid.uuid4().hex[:22]
        failure.request_id = request_id
        context.set_trailing_metadata(
            (
                (f"google.ads.googleads.{VERSION}.errors.googleadsfailure-bin", failure.SerializeToString()),
                ("request-id", request_id),
            )
        )
        context.abort(code, message)

    def _authorise(self, context: Any, customer_id: str, endpoint: str) -> tuple[SandboxAccount, str | None]:
        token, fault = self._authenticate(context, endpoint)
        return self._customer(context, token, customer_id), fault

    def _authenticate(self, context: Any, endpoint: str) -> tuple[str, str | None]:
        """The developer token and the OAuth token checked (and the faults drawn): (token, fault)."""
        grpc = self._grpc
        md = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        token = md.get("authorization", "").removeprefix("Bearer ").strip()
        self.metadata.append(
            {k: v for k, v in md.items() if k not in ("authorization", "developer-token")}
            | {"has_developer_token": str(bool(md.get("developer-token")))}
        )
        fault = self.faults.draw(endpoint)
        if fault == "token_expired" and token:
            self.registry.expire_token(token)
        if not md.get("developer-token"):
            self._abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "The developer token is missing.",
                "authentication_error",
                "DEVELOPER_TOKEN_NOT_ON_ALLOWLIST",
            )
        state = self.registry.token_state(token)
        if state != "ok":
            # Google tells an expired token (its hour is up, or the fault) from one it never issued or revoked.
            expired = fault == "token_expired" or state == "expired"
            self._abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential.",
                "authentication_error",
                "OAUTH_TOKEN_EXPIRED" if expired else "OAUTH_TOKEN_INVALID",
            )
        if fault == "quota":
            self._abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "Too many requests. Retry in 3 seconds.",
                "quota_error",
                "RESOURCE_EXHAUSTED",
                retry_seconds=3,
            )
        if fault == "internal":
            self._abort(
                context,
                grpc.StatusCode.INTERNAL,
                "Internal error encountered.",
                "internal_error",
                "INTERNAL_ERROR",
            )
        if fault == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable.")
        return token, fault

    def _customer(self, context: Any, token: str, customer_id: str) -> SandboxAccount:
        """The customer a request names, when the token reaches it: directly, or, with a served manager as
        ``login-customer-id``, through that manager (which the token must reach, and whose tree holds it)."""
        grpc = self._grpc
        acct = self.registry.accounts.get(customer_id.replace("-", ""))
        if acct is None:
            self._abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Invalid customer ID '{customer_id}'.",
                "request_error",
                "INVALID_CUSTOMER_ID",
            )
        md = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        login = md.get("login-customer-id", "").replace("-", "")
        if login in self.managers:
            allowed = self.registry.token_ok(token, login) and acct.account_id in self.tree(login)
        else:  # no login customer, or one the sandbox does not serve as a manager: direct access only
            allowed = self.registry.token_ok(token, acct.account_id)
        if not allowed:
            self._abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                "User doesn't have permission to access customer.",
                "authorization_error",
                "USER_PERMISSION_DENIED",
            )
        return acct

    # -- CustomerService ----------------------------------------------------------------------
    def _list_accessible(self, request: Any, context: Any) -> Any:
        """``ListAccessibleCustomers``: the customers the OAuth token reaches (no customer id, no login id)."""
        token, _fault = self._authenticate(context, "list_accessible_customers")
        resp = self._msgs["ListAccessibleResponse"]()
        resp.resource_names.extend(f"customers/{c}" for c in sorted(self.registry.reach(token)))
        return resp

    # -- SearchStream -------------------------------------------------------------------------
    def _search_stream(self, request: Any, context: Any) -> Iterator[Any]:
        acct, fault = self._authorise(context, request.customer_id, "search_stream")
        self.queries.append((request.customer_id, request.query))
        try:
            q = parse_gaql(request.query)
        except GaqlError as e:
            self._abort(context, self._grpc.StatusCode.INVALID_ARGUMENT, str(e), "query_error", e.error)
            return
        if q["resource"] == "click_view" and _date_range(q["conds"])[0] < click_view_first_day(acct):
            self._abort(context, self._grpc.StatusCode.INVALID_ARGUMENT,
                        "ClickView can be requested for dates back to 90 days before the time of the request.",
                        "query_error", "BAD_VALUE")
            return
        # A refusal of the resource for every account, else for this account alone (``<endpoint>@<customer>``).
        endpoint = f"search_stream:{q['resource']}"
        denial = _RESOURCE_DENIALS.get(self.faults.draw(endpoint, named_only=True)
                                       or self.faults.draw(f"{endpoint}@{request.customer_id}", named_only=True) or "")
        if denial is not None:
            self._abort(context, self._grpc.StatusCode.PERMISSION_DENIED, denial[1], "authorization_error",
                        denial[0])
            return
        rows = [
            r for r in self._rows(acct, q["resource"], _date_range(q["conds"])) if _matches(r, q["conds"])
        ]
        if q["limit"] is not None:
            rows = rows[: q["limit"]]
        request_id = uuid.uuid4().hex[:22]
        Resp = self._msgs["StreamResponse"]
        for i in range(0, max(1, len(rows)), self.batch_size):
            if fault == "stream_break" and i > 0:
                context.abort(self._grpc.StatusCode.UNAVAILABLE, "Stream removed")
            resp = Resp()
            for r in rows[i : i + self.batch_size]:
                _fill(resp.results.add(), r, q["fields"])
            resp.field_mask.paths.extend(q["fields"])
            resp.request_id = request_id
            yield resp

    def _rows(
        self, acct: SandboxAccount, resource: str, dates: tuple[date, date] = (date.min, date.max)
    ) -> list[dict[str, Any]]:
        if resource == "customer":
            return [
                {
                    "customer.id": int(acct.account_id),
                    "customer.descriptive_name": acct.name,
                    "customer.currency_code": acct.currency,
                    "customer.time_zone": acct.timezone,
                    "customer.resource_name": f"customers/{acct.account_id}",
                }
            ]
        if resource == "customer_client":
            return [self._customer_client(acct.account_id, cid, level) for cid, level in self.tree(acct.account_id).items()]
        if resource == "campaign":
            out = []
            for cid, c in sorted(acct.campaigns.items()):
                budget = c.get("daily_budget_amount")
                res = self._budget_ids[cid]
                shared = sum(1 for b in self._budget_ids.values() if b == res) > 1
                out.append(
                    {
                        "campaign.id": int(cid),
                        "campaign.name": c.get("campaign_name") or "",
                        "campaign.resource_name": f"customers/{acct.account_id}/campaigns/{cid}",
                        "campaign.status": _STATUS_MAP.get(
                            str(c.get("status") or "").lower(), str(c.get("status") or "ENABLED")
                        ),
                        "campaign.advertising_channel_type": c.get("objective") or "SHOPPING",
                        "campaign.campaign_budget": res,
                        "campaign_budget.resource_name": res,
                        "campaign_budget.id": int(res.rsplit("/", 1)[-1]),
                        "campaign_budget.amount_micros": to_micros(Decimal(budget))
                        if budget is not None
                        else 0,
                        "campaign_budget.explicitly_shared": shared,
                    }
                )
            return out
        if resource in ("user_location_view", "geographic_view"):
            return self._geo_rows(acct, resource, dates)
        if resource == "click_view":
            return [
                {
                    "click_view.gclid": c["gclid"],
                    "click_view.resource_name": f"customers/{acct.account_id}/clickViews/{d.isoformat()}~{c['gclid']}",
                    "campaign.id": int(c["campaign_id"]),
                    "ad_group.id": int(c["ad_group_id"]) if c.get("ad_group_id") else None,
                    "segments.date": d.isoformat(),
                    "metrics.clicks": 1,
                }
                for d, clicks in sorted(acct.clicks.items())
                if dates[0] <= d <= dates[1]
                for c in clicks
            ]
        if resource == "shopping_performance_view":
            out = []
            for cid, prods in sorted(acct.products.items()):
                days = sorted({d for (c, d) in acct.performance if c == cid})
                for p in prods:
                    if p.get("source") != "shopping_item":
                        continue
                    ref = acct.catalog.get(p["product_id"], {})
                    pid = p["product_id"].rsplit("/", 1)[-1]
                    for d in days[:1] + days[-1:]:
                        out.append(
                            {
                                "campaign.id": int(cid),
                                "segments.date": d.isoformat(),
                                "segments.product_item_id": f"shopify_us_{pid}_{ref.get('variant_ids', [pid])[0]}",
                                "metrics.impressions": 10,
                                "metrics.clicks": 1,
                                "metrics.cost_micros": 10000,
                            }
                        )
            return out
        if resource == "geo_target_constant":
            return [
                {
                    "geo_target_constant.id": t["criterion_id"],
                    "geo_target_constant.resource_name": f"geoTargetConstants/{t['criterion_id']}",
                    "geo_target_constant.name": t["name"],
                    "geo_target_constant.canonical_name": t["canonical_name"],
                    "geo_target_constant.country_code": t["country_code"],
                    "geo_target_constant.target_type": t["target_type"],
                    "geo_target_constant.status": t["status"],
                }
                for t in geo_target_constants()
            ]
        if resource == "ad_group_ad":
            domain = acct.shop_domain or f"{acct.brand_id}.myshopify.com"
            out = []
            for cid, prods in sorted(acct.products.items()):
                for i, p in enumerate(prods):
                    if p.get("source") != "destination_url":
                        continue
                    handle = acct.catalog.get(p["product_id"], {}).get("handle", "")
                    out.append(
                        {
                            "campaign.id": int(cid),
                            "ad_group_ad.ad.id": int(f"{cid}{i:02d}"),
                            "ad_group_ad.ad.final_urls": [f"https://{domain}/products/{handle}"],
                        }
                    )
            return out
        return []

    def _customer_client(self, owner: str, client_id: str, level: int) -> dict[str, Any]:
        client = self.registry.accounts[client_id]
        return {
            "customer_client.resource_name": f"customers/{owner}/customerClients/{client_id}",
            "customer_client.client_customer": f"customers/{client_id}",
            "customer_client.id": int(client_id),
            "customer_client.level": level,
            "customer_client.manager": client_id in self.managers,
            "customer_client.descriptive_name": client.name,
            "customer_client.currency_code": client.currency,
            "customer_client.time_zone": client.timezone,
            "customer_client.status": self.customer_status.get(client_id, "ENABLED"),
            "customer_client.hidden": False,
            "customer_client.test_account": False,
        }

    def _geo_rows(
        self, acct: SandboxAccount, resource: str, dates: tuple[date, date]
    ) -> list[dict[str, Any]]:
        out = []
        for (cid, d), rows in sorted(acct.performance.items()):
            if not dates[0] <= d <= dates[1]:
                continue
            for r in sorted(rows, key=lambda x: (x["country_code"], x["region_code"])):
                gid = region_criterion_ids().get(r["region_code"]) if r["region_code"] else None
                region = f"geoTargetConstants/{gid}" if gid else ""
                cost = to_micros(Decimal(r.get("spend_amount") or 0))
                imps, clicks = int(r.get("impressions") or 0), int(r.get("clicks") or 0)
                base = {
                    "campaign.id": int(cid),
                    "campaign.name": r.get("campaign_name") or "",
                    "segments.date": d.isoformat(),
                    "segments.geo_target_region": region,
                    f"{resource}.country_criterion_id": geo.google_country_criterion(r["country_code"]),
                }
                # Google splits a location's traffic by how it was matched; the parts add up.
                first, second = dict(base), dict(base)
                if resource == "user_location_view":
                    first["user_location_view.targeting_location"] = True
                    second["user_location_view.targeting_location"] = False
                else:
                    first["geographic_view.location_type"] = "LOCATION_OF_PRESENCE"
                    second["geographic_view.location_type"] = "AREA_OF_INTEREST"
                first.update(
                    {
                        "metrics.cost_micros": cost - cost // 3,
                        "metrics.impressions": imps - imps // 3,
                        "metrics.clicks": clicks - clicks // 3,
                        "metrics.conversions": float(r.get("purchases") or 0),
                        "metrics.conversions_value": float(Decimal(r.get("purchase_value_amount") or 0)),
                    }
                )
                second.update(
                    {
                        "metrics.cost_micros": cost // 3,
                        "metrics.impressions": imps // 3,
                        "metrics.clicks": clicks // 3,
                        "metrics.conversions": 0.0,
                        "metrics.conversions_value": 0.0,
                    }
                )
                out.extend([first, second])
        return out

    # -- CampaignBudgetService ----------------------------------------------------------------
    def _mutate_budgets(self, request: Any, context: Any) -> Any:
        acct, _fault = self._authorise(context, request.customer_id, "mutate_budgets")
        grpc = self._grpc
        resp = self._msgs["MutateResponse"]()
        updates: list[tuple[str, Decimal]] = []
        for op in request.operations:
            if op.WhichOneof("operation") != "update":
                self._abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "The sandbox supports update operations only.",
                    "request_error",
                    "UNKNOWN",
                )
            budget = op.update
            if "amount_micros" not in op.update_mask.paths:
                self._abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "update_mask must name amount_micros.",
                    "field_mask_error",
                    "FIELD_NOT_FOUND",
                )
            if budget.amount_micros <= 0 or budget.amount_micros % 10_000:
                self._abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "The budget amount must be positive and a multiple of the currency's minimum unit.",
                    "campaign_budget_error",
                    "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT",
                )
            owners = [
                cid
                for cid, res in self._budget_ids.items()
                if res == budget.resource_name and cid in acct.campaigns
            ]
            if not owners:
                self._abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Resource not found: {budget.resource_name}",
                    "mutate_error",
                    "RESOURCE_NOT_FOUND",
                )
            updates.append((budget.resource_name, Decimal(budget.amount_micros) / Decimal(1_000_000)))
        if request.validate_only:
            return resp
        with self.registry.lock():
            for res, amount in updates:
                for cid, r in self._budget_ids.items():
                    if r == res and cid in acct.campaigns:
                        acct.campaigns[cid]["daily_budget_amount"] = amount.quantize(Decimal("0.01"))
                resp.results.add().resource_name = res
        return resp


def _fill(row: Any, values: dict[str, Any], fields: list[str]) -> None:
    """Set the selected fields on a GoogleAdsRow protobuf (enums by name)."""
    for path in fields:
        value = values.get(path)
        if value is None:
            continue
        *parents, leaf = path.split(".")
        target = row
        for p in parents:
            target = getattr(target, p)
        fd = target.DESCRIPTOR.fields_by_name[leaf]
        if fd.enum_type is not None:
            setattr(target, leaf, fd.enum_type.values_by_name[str(value)].number)
        elif isinstance(value, list):
            getattr(target, leaf).extend(value)
        else:
            setattr(target, leaf, value)
