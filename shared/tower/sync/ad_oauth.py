"""Connecting ad accounts by OAuth: Meta (Facebook Login for Business), TikTok (advertiser authorization),
Google Ads (OAuth 2.0 with offline access).

One flow for the three, as each platform documents it:

1. :func:`authorize_url` stores a state nonce (document store, single use, ``TOWER_AD_OAUTH_STATE_SECONDS``,
   bound to the brand, the platform, who asked and, through the API, the browser) and builds the platform's authorize URL:
   Meta ``https://www.facebook.com/<version>/dialog/oauth?client_id&redirect_uri&state&scope=ads_read,
   ads_management,business_management[&config_id]``; TikTok
   ``https://business-api.tiktok.com/portal/auth?app_id&state&redirect_uri``; Google ``https://accounts.google.com/o/oauth2/v2/auth?...&scope=.../adwords&
   access_type=offline&prompt=consent``.
2. The platform sends the person back to ``/oauth/<platform>/callback`` with the code (TikTok:
   ``auth_code``) and the state. :func:`consume_state` checks and deletes the nonce in one transaction;
   :func:`exchange_code` trades the code: Meta ``GET /<version>/oauth/access_token`` (a short-lived
   token) then ``grant_type=fb_exchange_token`` (about sixty days); TikTok ``POST
   /open_api/v1.3/oauth2/access_token/`` (a token that lasts until revoked, and the advertiser ids);
   Google's token endpoint (an access token for an hour and a refresh token).
3. :func:`store_grant` puts the grant in the secret store, only there: one secret per brand and
   platform (``integration-<brand>-<platform>-oauth``); every account connected from it refers to it.
4. :func:`list_accounts` is the account picker: Meta ``/me/adaccounts`` + the person's businesses'
   ``owned_ad_accounts`` and ``client_ad_accounts`` (``business_management``), TikTok
   ``oauth2/advertiser/get`` + ``advertiser/info``, Google ``CustomerService.ListAccessibleCustomers``
   + each one's ``customer_client`` tree (a manager's clients, with ``login-customer-id`` = the manager):
   name, currency and time zone, and for Google the ``manager_id`` a client is reached through.
5. :func:`connect_accounts` records the picked accounts (``integrations``, ``secret_ref`` the grant's
   secret) and enqueues their first sync on the sync queue, as the hourly schedule does.

Google's access token is refreshed through google-auth before it expires and when Google rejects it
early (:class:`tower.connectors.google_ads.client.RefreshGrant`); each new token is written back to
the grant. A refused refresh (``invalid_grant``), an expired Meta token (Graph code 190) or a revoked
TikTok token (40105) stops the sync with ``needs_reauth``: the integration needs reconnecting, and
``/api/brands/<id>/integrations``, ``tower status`` and the digests say so with the reason.

Every failure raises :class:`OAuthRefused` with an HTTP status and a code, and names the problem,
never a token, code or secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets as pysecrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tower import names
from tower.config import Settings
from tower.connectors.ad_platforms import AdSyncUsageError, normalise_account_id
from tower.connectors.google_ads.client import ADWORDS_SCOPE
from tower.connectors.retry import ConnectorError, NeedsReauth, RetryPolicy
from tower.logs import run_fields
from tower.ports import DocQuery, DocumentStore, Secrets, Transaction, Where
from tower.sync.connect import google_developer_token, integration, record_ad_integration
from tower.sync.grants import (
    GRANT_KIND,
    AppCredentials,
    OAuthRefused,
    app_of,
    google_app,
    google_refresh,
    grant_secret_id,
    load_grant,
    parse_grant,
    platform_of,
)
from tower.sync.nonces import take_once
from tower.sync.run import SyncPorts

STATE_COLLECTION = "ad_oauth_states"
#: The sync queue's handler of each ad platform (tower.pipeline.SYNC_TASKS, the entry points of tower.wiring).
SYNC_TASKS = {"meta": "sync_meta", "tiktok": "sync_tiktok", "google_ads": "sync_google_ads"}
META_SCOPES = ("ads_read", "ads_management", "business_management")
TIKTOK_API = "/open_api/v1.3"
_NONCE = re.compile(r"[A-Za-z0-9_-]{20,100}")


def app_credentials(settings: Settings, secrets: Secrets, platform: str) -> AppCredentials:
    """The platform app's client id (setting) and secret (setting, else the secret store).

    Raises:
        OAuthRefused: 404 ``unknown_platform``; 503 ``app_not_configured`` naming what is missing.
    """
    platform = platform_of(platform)
    if platform == "google_ads":
        return google_app(settings, secrets)
    # Spelt out per platform (not a table) so the deployment checks can read which secret each one needs.
    if platform == "meta":
        secret = settings.meta_app_secret or (secrets.get(names.SECRET_META_APP_SECRET)
                                              if secrets.exists(names.SECRET_META_APP_SECRET) else "")
        return app_of("meta", settings.meta_app_id, secret, names.SECRET_META_APP_SECRET)
    secret = settings.tiktok_app_secret or (secrets.get(names.SECRET_TIKTOK_APP_SECRET)
                                            if secrets.exists(names.SECRET_TIKTOK_APP_SECRET) else "")
    return app_of("tiktok", settings.tiktok_app_id, secret, names.SECRET_TIKTOK_APP_SECRET)


def redirect_uri(settings: Settings, platform: str) -> str:
    """``<TOWER_AD_OAUTH_REDIRECT_BASE or TOWER_SHOPIFY_APP_URL>/oauth/<platform>/callback``.

    Raises:
        OAuthRefused: 503 when neither is set.
    """
    base = (settings.ad_oauth_redirect_base or settings.shopify_app_url).strip().rstrip("/")
    if not base:
        raise OAuthRefused(503, "app_not_configured",
                           "set TOWER_AD_OAUTH_REDIRECT_BASE (or TOWER_SHOPIFY_APP_URL): the callback's origin")
    return f"{base}/oauth/{platform}/callback"


# -- 1. the authorize URL and its state ----------------------------------------------------------------
def authorize_url(settings: Settings, store: DocumentStore, app: AppCredentials, *, brand_id: str, actor: str,
                  now: datetime, browser: str | None = None, confirm_shop: str | None = None) -> tuple[str, datetime]:
    """The platform's authorize URL with a fresh state nonce stored for the callback: (url, state expiry).

    Eight parameters: the settings, the store and the app, then the five facts the state is bound to and
    stamped with, each named at the call.

    Args:
        browser: A secret the starting browser keeps (the API's cookie): the state stores its hash, and
            only a callback carrying the same secret may finish the flow (:func:`same_browser`).
        confirm_shop: The shop whose embedded app started the flow (no cookie is possible in the admin's
            frame): the callback keeps the grant pending (:func:`keep_pending`) and the app, inside that
            shop's admin, confirms it (:func:`confirm_pending`).
    """
    platform = app.platform
    callback = redirect_uri(settings, platform)  # before the nonce: a misconfigured app stores nothing
    nonce = pysecrets.token_urlsafe(32)
    expires = now + timedelta(seconds=settings.ad_oauth_state_seconds)
    store.set(f"{STATE_COLLECTION}/{nonce}", {"brand_id": brand_id, "platform": platform, "actor": actor,
                                              "browser": _browser_hash(browser) if browser else None,
                                              "confirm_shop": confirm_shop, "created_at": now,
                                              "expires_at": expires})
    if platform == "meta":
        query = {"client_id": app.client_id, "redirect_uri": callback, "state": nonce,
                 "scope": ",".join(META_SCOPES), "response_type": "code"}
        if settings.meta_login_config_id:
            query["config_id"] = settings.meta_login_config_id
        base = f"{settings.meta_dialog_origin.rstrip('/')}/{settings.meta_api_version}/dialog/oauth"
    elif platform == "tiktok":
        query = {"app_id": app.client_id, "state": nonce, "redirect_uri": callback}
        base = f"{settings.tiktok_api_origin.rstrip('/')}/portal/auth"
    else:
        query = {"client_id": app.client_id, "redirect_uri": callback, "response_type": "code",
                 "scope": ADWORDS_SCOPE, "access_type": "offline", "prompt": "consent",
                 "include_granted_scopes": "true", "state": nonce}
        base = settings.google_oauth_authorize_url
    return f"{base}?{urllib.parse.urlencode(query)}", expires


def consume_state(store: DocumentStore, platform: str, nonce: str, now: datetime) -> dict[str, Any]:
    """Check the nonce and delete it in one transaction (a second callback with it finds nothing).

    Returns:
        The state document: ``brand_id``, ``platform``, ``actor``.

    Raises:
        OAuthRefused: 400 ``missing_state``; 401 ``invalid_state`` (malformed, unknown, used, another
            platform's) or ``expired_state``.
    """
    if not nonce:
        raise OAuthRefused(400, "missing_state", "state is missing from the callback")
    if not _NONCE.fullmatch(nonce):
        raise OAuthRefused(401, "invalid_state", "state is malformed")

    doc = take_once(store, f"{STATE_COLLECTION}/{nonce}")
    if doc is None:
        raise OAuthRefused(401, "invalid_state", "state is unknown or was already used; connect the account again")
    if doc["platform"] != platform:
        raise OAuthRefused(401, "invalid_state", "state was issued for another platform")
    expires = doc["expires_at"]
    if (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) <= now:
        raise OAuthRefused(401, "expired_state", "state has expired; connect the account again")
    return doc


def _browser_hash(browser: str) -> str:
    return hashlib.sha256(browser.encode()).hexdigest()


def same_browser(state: Mapping[str, Any], browser: str | None) -> bool:
    """Whether the callback comes from the browser that started the flow (False when the state was not
    bound to one, or the callback carries no secret or another one)."""
    expected = state.get("browser")
    return bool(expected) and bool(browser) and hmac.compare_digest(str(expected), _browser_hash(str(browser)))


# -- 2. the code for a grant -----------------------------------------------------------------------------
def _http(settings: Settings, method: str, url: str, *, form: Mapping[str, str] | None = None,
          body: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    """One call to a platform's OAuth endpoint: (HTTP status, JSON answer). Transport failures are 502s."""
    data, hdrs = None, {"Accept": "application/json", **(headers or {})}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=settings.ad_oauth_timeout_seconds) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise OAuthRefused(502, "platform_unavailable", f"the platform's OAuth endpoint failed: {type(e).__name__}"
                           ) from None
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        raise OAuthRefused(502, "platform_unavailable", f"the platform answered HTTP {status} without JSON") from None


def _graph_error(answer: Any) -> str:
    err = answer.get("error") if isinstance(answer, dict) else None
    return f"Graph error {err.get('code')}" if isinstance(err, dict) else "no access_token"


def _meta_token(settings: Settings, query: Mapping[str, str]) -> dict[str, Any]:
    url = f"{settings.meta_api_origin.rstrip('/')}/{settings.meta_api_version}/oauth/access_token"
    status, answer = _http(settings, "GET", f"{url}?{urllib.parse.urlencode(query)}")
    if status != 200 or not isinstance(answer, dict) or not answer.get("access_token"):
        raise OAuthRefused(401, "code_refused", f"Meta refused to issue a token ({_graph_error(answer)}); "
                           "connect the account again")
    return answer


def _tiktok_call(settings: Settings, method: str, path: str, *, body: Mapping[str, Any] | None = None,
                 query: Mapping[str, str] | None = None, token: str | None = None) -> Any:
    """A TikTok Business API call; its envelope's ``data`` (a non-zero ``code`` is refused)."""
    url = f"{settings.tiktok_api_origin.rstrip('/')}{TIKTOK_API}/{path}/"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    status, answer = _http(settings, method, url, body=body, headers={"Access-Token": token} if token else None)
    code = answer.get("code") if isinstance(answer, dict) else None
    if status != 200 or code != 0:
        if code in (40102, 40104, 40105):
            raise OAuthRefused(409, "needs_reconnect",
                               f"TikTok rejected the token (code {code}); connect the account again")
        raise OAuthRefused(401 if code is not None and 40000 <= code < 50000 else 502, "code_refused"
                           if path.endswith("access_token") else "platform_refused",
                           f"TikTok refused {path} (code {code}, HTTP {status})")
    return answer.get("data") or {}


def exchange_code(settings: Settings, app: AppCredentials, code: str, *, now: datetime) -> dict[str, Any]:
    """Trade the callback's code for a grant (``access_token``, ``expires_at``, ``refresh_token``...).

    Raises:
        OAuthRefused: 400 ``missing_code``; 401 ``code_refused`` (used, expired, another app's);
            502 the platform failed or answered without a token.
    """
    if not code:
        raise OAuthRefused(400, "missing_code", "code is missing from the callback")
    grant: dict[str, Any] = {"kind": GRANT_KIND, "platform": app.platform, "obtained_at": now.isoformat()}
    if app.platform == "meta":
        short = _meta_token(settings, {"client_id": app.client_id, "client_secret": app.secret, "code": code,
                                       "redirect_uri": redirect_uri(settings, "meta")})
        # The code's token lasts hours; the exchange gives the ~60-day token the syncs use.
        long = _meta_token(settings, {"grant_type": "fb_exchange_token", "client_id": app.client_id,
                                      "client_secret": app.secret, "fb_exchange_token": short["access_token"]})
        grant["access_token"] = long["access_token"]
        if long.get("expires_in"):
            grant["expires_at"] = (now + timedelta(seconds=int(long["expires_in"]))).isoformat()
    elif app.platform == "tiktok":
        data = _tiktok_call(settings, "POST", "oauth2/access_token",
                            body={"app_id": app.client_id, "secret": app.secret, "auth_code": code})
        if not data.get("access_token"):
            raise OAuthRefused(502, "code_refused", "TikTok's token answer has no access_token")
        grant["access_token"] = data["access_token"]
        grant["advertiser_ids"] = [str(a) for a in data.get("advertiser_ids") or []]
    else:
        status, answer = _http(settings, "POST", settings.google_oauth_token_uri, form={
            "grant_type": "authorization_code", "code": code, "client_id": app.client_id,
            "client_secret": app.secret, "redirect_uri": redirect_uri(settings, "google_ads")})
        if status != 200 or not isinstance(answer, dict) or not answer.get("access_token"):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise OAuthRefused(401 if status in (400, 401) else 502, "code_refused",
                               f"Google refused to issue a token ({error or f'HTTP {status}'}); connect the "
                               "account again")
        if not answer.get("refresh_token"):
            raise OAuthRefused(502, "no_refresh_token", "Google issued no refresh token (offline access was not "
                               "granted); connect the account again")
        grant.update(access_token=answer["access_token"], refresh_token=answer["refresh_token"],
                     expires_at=(now + timedelta(seconds=int(answer.get("expires_in") or 3600))).isoformat(),
                     scope=answer.get("scope"))
    return grant


# -- 3. the grant in the secret store ----------------------------------------------------------------------
# A flow started by the embedded app (``confirm_shop``) cannot be bound to a browser: the admin's frame
# neither sets nor sends a cookie. Its callback keeps the grant *pending* (its own secret, a document naming
# it) and sends the window into the starting shop's admin; the app there, authenticated by that shop's
# session token, confirms it into the brand's grant. Someone who opens a forwarded consent link lands in an
# admin they cannot open, so their grant never reaches the brand. A pending grant lives as long as a state
# (``TOWER_AD_OAUTH_STATE_SECONDS``): every callback and confirmation first sweeps the expired ones, secret
# and document (:func:`sweep_pending`), so none outlives the next flow by more than that.
PENDING_COLLECTION = "ad_oauth_pending"
_PENDING = re.compile(r"[A-Za-z0-9_-]{43}")


def _pending_path(pending_id: str) -> str:
    # the document is keyed by the id's hash: the store never holds what the URL carried
    return f"{PENDING_COLLECTION}/{hashlib.sha256(pending_id.encode()).hexdigest()}"


def keep_pending(store: DocumentStore, secrets: Secrets, state: Mapping[str, Any], grant: Mapping[str, Any], *,
                 ttl_seconds: int, now: datetime) -> str:
    """Keep an embedded flow's grant until the app confirms it: its own secret and a document (brand,
    platform, actor, shop, expiry). Returns the pending id the admin's app URL carries."""
    sweep_pending(store, secrets, now)
    pending_id = pysecrets.token_urlsafe(32)
    path = _pending_path(pending_id)
    secret_id = names.integration_secret_id(str(state["brand_id"]), str(state["platform"]),
                                            f"pending-{path.rsplit('/', 1)[1][:24]}")
    secrets.put(secret_id, json.dumps(dict(grant), sort_keys=True))
    store.set(path, {"brand_id": state["brand_id"], "platform": state["platform"], "actor": state.get("actor"),
                     "shop": state.get("confirm_shop"), "secret_id": secret_id, "created_at": now,
                     "expires_at": now + timedelta(seconds=ttl_seconds)})
    return pending_id


def confirm_pending(store: DocumentStore, secrets: Secrets, pending_id: str, *, brand_id: str, platform: str,
                    actor: str, now: datetime) -> dict[str, Any]:
    """The pending grant, taken (single use) when it is this brand's and platform's and ``actor`` started it.

    Six parameters: the two stores and the id, then the three facts it must match, each named at the call.

    Raises:
        OAuthRefused: 400 ``invalid_pending`` (malformed); 404 ``unknown_pending`` (never issued, or
            confirmed already); 410 ``expired_pending``; 403 ``other_brand`` / ``other_person`` (it
            stays for its own brand and starter).
    """
    if not _PENDING.fullmatch(pending_id or ""):
        raise OAuthRefused(400, "invalid_pending", "pending must be the id the authorization's return carried")
    path = _pending_path(pending_id)

    def take(tx: Transaction) -> tuple[str, dict[str, Any] | None]:
        doc = tx.get(_pending_path(pending_id))
        if doc is None:
            return "unknown", None
        if doc["brand_id"] != brand_id or doc["platform"] != platform:
            return "other_brand", doc
        if doc.get("actor") != actor:
            return "other_person", doc
        tx.delete(path)
        return ("expired" if _aware(doc["expires_at"]) <= now else "ok"), doc

    outcome, doc = store.transaction(take)
    sweep_pending(store, secrets, now)  # after this one's own check: its expiry is answered as such
    if outcome == "unknown" or doc is None:
        raise OAuthRefused(404, "unknown_pending", "this authorization is unknown or was confirmed already; "
                           "connect the account again")
    if outcome in ("other_brand", "other_person"):
        whose = "brand or platform" if outcome == "other_brand" else "person"
        raise OAuthRefused(403, outcome, f"this authorization was started for another {whose}; "
                           "connect the account again from here")
    secret_id = str(doc["secret_id"])
    grant = parse_grant(secrets.get(secret_id)) if secrets.exists(secret_id) else None
    if secrets.exists(secret_id):
        secrets.delete(secret_id)
    if outcome == "expired" or grant is None:
        raise OAuthRefused(410, "expired_pending", "this authorization waited too long to be confirmed; "
                           "connect the account again")
    return grant


def sweep_pending(store: DocumentStore, secrets: Secrets, now: datetime, limit: int = 100) -> int:
    """Delete the pending grants past their expiry (secret first, then document); how many."""
    expired = store.query(DocQuery(PENDING_COLLECTION, [Where("expires_at", "<=", now)], limit=limit))
    for path, doc in expired:
        secret_id = str(doc.get("secret_id") or "")
        if secret_id and secrets.exists(secret_id):
            secrets.delete(secret_id)
        store.delete(path)
    return len(expired)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- 4. the account picker -------------------------------------------------------------------------------
_META_ACCOUNT_FIELDS = "account_id,name,currency,timezone_name"


def _graph_pages(settings: Settings, path: str, token: str, fields: str, *, optional: bool = False
                 ) -> Iterator[dict[str, Any]]:
    """Every node of a Graph edge (``me/adaccounts``...), page after page.

    Args:
        optional: A permission refusal (codes 10, 200: a grant from before ``business_management`` was
            asked) answers nothing instead of failing.
    """
    url: str | None = (f"{settings.meta_api_origin.rstrip('/')}/{settings.meta_api_version}/{path}?"
                       + urllib.parse.urlencode({"fields": fields, "limit": 100, "access_token": token}))
    while url:
        status, answer = _http(settings, "GET", url)
        err = answer.get("error") if isinstance(answer, dict) else None
        if status != 200 or err:
            code = err.get("code") if isinstance(err, dict) else None
            if code == 190:
                raise OAuthRefused(409, "needs_reconnect",
                                   "Meta rejected the token (Graph error 190); connect the account again")
            if optional and code in (10, 200):
                return
            raise OAuthRefused(502, "platform_refused", f"Meta refused /{path} ({_graph_error(answer)})")
        yield from answer.get("data", [])
        nxt = (answer.get("paging") or {}).get("next")
        # The next page's URL carries no token (Graph's does; ours must be added back on a sandbox's).
        url = nxt if not nxt or "access_token=" in nxt else f"{nxt}&access_token={urllib.parse.quote(token)}"


def _meta_accounts(settings: Settings, token: str) -> list[dict[str, Any]]:
    """``me/adaccounts`` (the person's own and assigned accounts), then each of the person's businesses'
    ``owned_ad_accounts`` and ``client_ad_accounts`` (an agency's access to its clients' accounts)."""
    nodes = list(_graph_pages(settings, "me/adaccounts", token, _META_ACCOUNT_FIELDS))
    for business in _graph_pages(settings, "me/businesses", token, "id,name", optional=True):
        for edge in ("owned_ad_accounts", "client_ad_accounts"):
            nodes += _graph_pages(settings, f"{business['id']}/{edge}", token, _META_ACCOUNT_FIELDS, optional=True)
    out: dict[str, dict[str, Any]] = {}
    for a in nodes:
        account_id = str(a.get("account_id") or str(a.get("id", "")).removeprefix("act_"))
        out.setdefault(account_id, {"id": account_id, "name": a.get("name"), "currency": a.get("currency"),
                                    "time_zone": a.get("timezone_name")})
    return list(out.values())


def _tiktok_accounts(settings: Settings, app: AppCredentials, token: str) -> list[dict[str, Any]]:
    listed = _tiktok_call(settings, "GET", "oauth2/advertiser/get",
                          query={"app_id": app.client_id, "secret": app.secret}, token=token).get("list") or []
    ids = [str(a["advertiser_id"]) for a in listed]
    info: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):  # advertiser/info takes up to 100 ids
        data = _tiktok_call(settings, "GET", "advertiser/info",
                            query={"advertiser_ids": json.dumps(ids[start:start + 100])}, token=token)
        info.update({str(a.get("advertiser_id")): a for a in data.get("list") or []})
    return [{"id": str(a["advertiser_id"]), "name": a.get("advertiser_name") or info.get(str(a["advertiser_id"]),
             {}).get("name"), "currency": info.get(str(a["advertiser_id"]), {}).get("currency"),
             "time_zone": info.get(str(a["advertiser_id"]), {}).get("timezone")} for a in listed]


#: Each accessible customer's tree, asked with ``login-customer-id`` = that customer: a manager answers its
#: direct and indirect clients (level 1, 2...), an advertiser itself alone (level 0). Managers are left out
#: (Google serves no metrics for them), and so are clients that are not ENABLED (cancelled, suspended, closed).
CUSTOMER_CLIENT_QUERY = (
    "SELECT customer_client.id, customer_client.level, customer_client.descriptive_name, "
    "customer_client.currency_code, customer_client.time_zone FROM customer_client "
    "WHERE customer_client.manager = FALSE AND customer_client.status = 'ENABLED'")


def _google_accounts(settings: Settings, secrets: Secrets, brand_id: str, grant: Mapping[str, Any]
                     ) -> list[dict[str, Any]]:
    """Google's picker: ``ListAccessibleCustomers`` (what the person reaches directly, managers included),
    then each one's :data:`CUSTOMER_CLIENT_QUERY`. A client reached through a manager carries
    ``manager_id`` (its syncs sign in through it); an account reached directly carries None."""
    from tower.connectors.google_ads.client import GoogleAdsApiClient  # lazy: the SDK

    try:
        developer_token = google_developer_token(settings, secrets)
    except AdSyncUsageError as e:
        raise OAuthRefused(503, "app_not_configured", str(e)) from None
    # No login customer of its own: each request names the customer whose tree it asks for.
    client = GoogleAdsApiClient(
        str(grant["access_token"]), developer_token=developer_token, login_customer_id=None,
        endpoint=settings.google_ads_endpoint, version=settings.google_ads_api_version, policy=RetryPolicy(),
        refresh=google_refresh(settings, secrets, brand_id, grant))
    try:
        service = client.service("CustomerService")
        accessible = client.call(lambda: list(service.list_accessible_customers(request={}).resource_names))
        found: dict[str, dict[str, Any]] = {}
        for cid in sorted(r.rsplit("/", 1)[-1] for r in accessible):
            try:
                rows = client.search(cid, CUSTOMER_CLIENT_QUERY, login_customer_id=cid)
            except NeedsReauth as e:
                if e.code == "UNAUTHENTICATED":
                    raise
                # Reachable but not readable (a closed account): listed by id, as it is reached directly.
                found[cid] = {"id": cid, "name": None, "currency": None, "time_zone": None, "manager_id": None}
                continue
            for row in rows:
                c = row.customer_client
                direct = c.level == 0
                # Reached directly beats reached through a manager (no login customer needed); among
                # managers, the first by id keeps it (the same client under two managers).
                if str(c.id) not in found or (direct and found[str(c.id)]["manager_id"]):
                    found[str(c.id)] = {"id": str(c.id), "name": c.descriptive_name or None,
                                        "currency": c.currency_code or None, "time_zone": c.time_zone or None,
                                        "manager_id": None if direct else cid}
        return list(found.values())
    except NeedsReauth as e:
        raise OAuthRefused(409, "needs_reconnect", f"{e}; connect the account again") from None
    except ConnectorError as e:
        raise OAuthRefused(502, "platform_refused", f"Google Ads refused the account list: {e}") from None
    finally:
        client.close()


def list_accounts(settings: Settings, secrets: Secrets, brand_id: str, platform: str) -> list[dict[str, Any]]:
    """The accounts the brand's grant reaches: ``[{"id", "name", "currency", "time_zone", "manager_id"}]``, by id.

    ``manager_id``: the Google manager account a client is reached through (None: reached directly).

    Raises:
        OAuthRefused: 409 ``not_authorized`` (no grant) or ``needs_reconnect`` (the platform rejects it),
            502 the platform failed.
    """
    grant = load_grant(secrets, brand_id, platform)
    if platform == "meta":
        accounts = _meta_accounts(settings, str(grant["access_token"]))
    elif platform == "tiktok":
        accounts = _tiktok_accounts(settings, app_credentials(settings, secrets, "tiktok"), str(grant["access_token"]))
    else:
        accounts = _google_accounts(settings, secrets, brand_id, grant)
    return sorted(({"manager_id": None, **a} for a in accounts), key=lambda a: a["id"])


# -- 5. connecting the picked accounts ----------------------------------------------------------------------
def connect_accounts(ports: SyncPorts, tasks: Any, brand_id: str, platform: str, account_ids: Iterable[str], *,
                     now: datetime) -> list[dict[str, Any]]:
    """Record the picked accounts (their ``secret_ref`` the grant) and enqueue the platform's first sync.

    Args:
        tasks: The task queue (the sync queue's ``sync_<platform>`` handler runs the sync).

    Raises:
        OAuthRefused: 400 ``unknown_account`` naming an id the grant does not reach; as :func:`list_accounts`.
    """
    wanted = [normalise_account_id(platform, str(a)) for a in account_ids]
    reachable = {a["id"]: a for a in list_accounts(ports.settings, ports.secrets, brand_id, platform)}
    unknown = [a for a in wanted if a not in reachable]
    if unknown:
        raise OAuthRefused(400, "unknown_account", f"the {platform} grant does not reach account(s) "
                           f"{', '.join(unknown)}; pick from GET .../integrations/{platform}/accounts")
    default_login = (ports.settings.google_ads_login_customer_id if platform == "google_ads" else "") or None
    for account_id in dict.fromkeys(wanted):
        a = reachable[account_id]
        # A Google client reached through a manager syncs signed in through that manager, kept on its row.
        record_ad_integration(ports, brand_id, platform, account_id, by_oauth=True, timezone=a["time_zone"],
                              currency=a["currency"], login_customer_id=a.get("manager_id") or default_login,
                              now=now)
    # One first sync per connect, for the platform's sync function.
    tasks.enqueue(names.QUEUE_SYNC, SYNC_TASKS[platform], {"brand_id": brand_id, "platform": platform,
                                                           **run_fields()},
                  task_id=f"connect-{brand_id}-{platform}-{now:%Y%m%d%H%M%S}")
    return [r for r in (integration(ports.warehouse, brand_id, platform, a) for a in dict.fromkeys(wanted)) if r]


def revoke_grant(ports: SyncPorts, brand_id: str, platform: str, *, now: datetime) -> bool:
    """Revoke the brand's grant at the platform, delete it, and mark its accounts ``revoked`` (False: no grant).

    Meta ``DELETE /me/permissions``; TikTok ``oauth2/revoke_token``; Google's revoke endpoint (the
    refresh token, which takes its access tokens with it). A platform that already forgot the token
    does not stop the delete. The accounts stay listed, needing a reconnect, until connected again.
    """
    settings, secrets = ports.settings, ports.secrets
    secret_id = grant_secret_id(brand_id, platform)
    if not secrets.exists(secret_id):
        return False
    grant = parse_grant(secrets.get(secret_id)) or {}
    token = str(grant.get("access_token") or "")
    if platform == "meta":
        _http(settings, "DELETE", f"{settings.meta_api_origin.rstrip('/')}/{settings.meta_api_version}/me/"
              f"permissions?{urllib.parse.urlencode({'access_token': token})}")
    elif platform == "tiktok":
        app = app_credentials(settings, secrets, "tiktok")
        _http(settings, "POST", f"{settings.tiktok_api_origin.rstrip('/')}{TIKTOK_API}/oauth2/revoke_token/",
              body={"app_id": app.client_id, "secret": app.secret, "access_token": token})
    else:
        _http(settings, "POST", settings.google_oauth_revoke_uri,
              form={"token": str(grant.get("refresh_token") or token)})
    secrets.delete(secret_id)
    ports.warehouse.execute(
        "UPDATE integrations SET status = 'revoked', updated_at = @now "
        "WHERE brand_id = @brand_id AND platform = @platform AND secret_ref = @secret_ref",
        {"now": now, "brand_id": brand_id, "platform": platform, "secret_ref": secret_id})
    return True
