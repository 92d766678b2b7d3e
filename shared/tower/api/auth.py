"""Authentication and the role check of every non-public request.

A request is authenticated by ``Authorization: Bearer <api key>`` or by the session cookie
(:mod:`tower.identity.sessions`), in that order: a bearer header is never ignored in favour of a cookie.
A cookie-authenticated request with an unsafe method must carry ``X-CSRF-Token`` (the session's CSRF
token) or is refused 403 ``csrf_token_missing`` — the CSRF rule is written out in
:mod:`tower.identity.sessions`.

Then the role: each endpoint does one :class:`~tower.identity.roles.Action` (:data:`ACTIONS`; a GET
reads, an unsafe method not listed decides), and a role that may not do it is refused 403 before the view
runs. Scope (which brands, which agency) is the views' own check (:func:`check_scope`).

API keys themselves (issuing, hashing, listing, rotation) are :mod:`tower.identity.keys`; the names
below are re-exported for the callers that import them from here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tower.api.errors import ApiError
from tower.api.limits import AuthFailureLimiter, client_address
from tower.identity.keys import (
    COLLECTION,
    KEY_PREFIX,
    BadApiKeyRequest,
    create_api_key,
    hash_key,
    key_principal,
    revoke_api_key,
)
from tower.identity.roles import Action, Principal
from tower.identity.sessions import (
    COOKIE,
    CSRF_HEADER,
    RUNTIME_EXTENSION,
    UNSAFE_METHODS,
    csrf_ok,
    resolve_session,
)

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import Headers

    from tower.ports import DocumentStore

__all__ = ["ACTIONS", "COLLECTION", "KEY_PREFIX", "BadApiKeyRequest", "Caller", "authenticate",
           "authenticate_request", "bearer_token", "check_action", "check_operator", "check_scope",
           "create_api_key", "hash_key", "revoke_api_key"]

#: The request's caller (kept under its old name: views and tests import ``Caller``).
Caller = Principal
AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="tower"'}

#: What each endpoint does, where that is not "a GET reads, anything else decides".
ACTIONS: dict[str, Action] = {
    "brands.ask": Action.READ,
    "onboarding.post_subscribe": Action.SETTINGS,  # the brand's plan: its owner (or its agency's admin)
    # A brand's ad-platform grant and which accounts feed it are its setup, not a decision on a
    # recommendation: the owner or the agency's admin. The picker lists every account the grant
    # reaches (other stores' too), so only those who may connect one read it.
    "ad_oauth.authorize": Action.SETTINGS,
    "ad_oauth.accounts": Action.SETTINGS,
    "ad_oauth.connect": Action.SETTINGS,
    "ad_oauth.revoke": Action.SETTINGS,
    "ad_oauth.confirm": Action.SETTINGS,  # the embedded app's end of authorize: the same hands
    "brands.accept": Action.DECIDE,
    "brands.dismiss": Action.DECIDE,
    "brands.undo": Action.DECIDE,
    "brand_settings.settings_put": Action.SETTINGS,
    "brand_settings.regions_put": Action.SETTINGS,
    "brand_settings.regions_delete": Action.SETTINGS,
    "agencies.agencies_list": Action.OPERATE,
    "agencies.agencies_add": Action.OPERATE,
    "agencies.agencies_attach": Action.OPERATE,
    "notify.recipients_add": Action.AGENCY_SETUP,
    "notify.recipients_remove": Action.AGENCY_SETUP,
    "notify.mutes_add": Action.AGENCY_SETUP,
    "notify.mutes_remove": Action.AGENCY_SETUP,
    "session.session_delete": Action.READ,
    "access.keys_list": Action.KEYS,
    "access.keys_create": Action.KEYS,
    "access.keys_rotate": Action.KEYS,
    "access.keys_revoke": Action.KEYS,
    "access.invite": Action.INVITE,
    # a brand's people: its owner (or the operator); listing them is no viewer's read
    "members.brand_invite": Action.TEAM,
    "members.brand_members": Action.TEAM,
    "members.brand_member_remove": Action.TEAM,
    "members.brand_invitation_revoke": Action.TEAM,
    "members.agency_members": Action.INVITE,
    "members.agency_member_remove": Action.INVITE,
    "members.agency_invitation_revoke": Action.INVITE,
}


def action_of(endpoint: str, method: str) -> Action:
    """The action of a request to the endpoint."""
    found = ACTIONS.get(endpoint)
    if found is not None:
        return found
    return Action.DECIDE if method.upper() in UNSAFE_METHODS else Action.READ


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header.

    Raises:
        ApiError: 401 when the header is missing or not a bearer token.
    """
    if not header:
        raise ApiError(401, "unauthorized", "missing Authorization header; send 'Authorization: Bearer <api key>' "
                       "or sign in (POST /api/session)", headers=AUTH_HEADERS)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "the Authorization header must be 'Bearer <api key>'",
                       headers=AUTH_HEADERS)
    return token.strip()


def authenticate(store: DocumentStore, header: str | None, *, now: datetime | None = None) -> Caller:
    """The caller behind an Authorization header (an API key).

    Raises:
        ApiError: 401 for a missing, malformed or unknown key.
    """
    principal = key_principal(store, bearer_token(header), now=now or datetime.now(UTC))
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown API key", headers=AUTH_HEADERS)
    return principal


def authenticate_request(store: DocumentStore, headers: Headers, cookies: dict[str, str], method: str, *,
                         now: datetime) -> Caller:
    """The caller of a request: its bearer key, else its session cookie (with the CSRF rule).

    Raises:
        ApiError: 401 (no credential, unknown key, ended session), 403 ``csrf_token_missing``.
    """
    header = headers.get("Authorization")
    session_id = cookies.get(COOKIE, "")
    if header or not session_id:
        return authenticate(store, header, now=now)
    live = resolve_session(store, session_id, now=now)
    if live is None:
        raise ApiError(401, "session_ended", "the session has expired or was ended; sign in again",
                       headers=AUTH_HEADERS)
    if method.upper() in UNSAFE_METHODS and not csrf_ok(live.csrf, headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf_token_missing", f"a signed-in {method.upper()} must carry the {CSRF_HEADER} "
                       "header with the csrf_token of GET /api/session")
    from flask import g, has_app_context

    if has_app_context():  # GET /api/session answers them again
        g.csrf_token, g.session_expires_at = live.csrf, live.expires_at
    return live.principal


LIMITER = "tower_auth_failures"


def _limiter_and_client() -> tuple[AuthFailureLimiter, str]:
    from flask import current_app, request

    runtime = current_app.extensions[RUNTIME_EXTENSION]
    limiter: AuthFailureLimiter = current_app.extensions[LIMITER]
    return limiter, client_address(request.environ, runtime.settings.api_trusted_proxies)


def check_failure_limit() -> None:
    """429 when the request's address failed to authenticate too often (public sign-in routes call it)."""
    limiter, client = _limiter_and_client()
    wait = limiter.retry_after(client)
    if wait is not None:
        raise ApiError(429, "too_many_failed_authentications",
                       f"too many failed authentications from this address; try again in {wait} s",
                       headers={"Retry-After": str(wait)})


def current_limiter_failed() -> None:
    """Count a failed authentication of the current request's address."""
    limiter, client = _limiter_and_client()
    limiter.failed(client)


def check_action(caller: Caller, action: Action) -> None:
    """403 unless the caller's role may do the action."""
    if not caller.may(action):
        raise ApiError(403, "forbidden", f"the {caller.role.value} role may not {_WHAT[action]}")


_WHAT = {
    Action.READ: "read this", Action.DECIDE: "accept, dismiss or undo recommendations",
    Action.SETTINGS: "change a brand's settings", Action.AGENCY_SETUP: "change the agency's notifications",
    Action.INVITE: "invite people", Action.TEAM: "manage a brand's people", Action.KEYS: "manage API keys", Action.OPERATE: "manage agencies (only an operator key may)",
}


def check_scope(caller: Caller, brand_id: str) -> None:
    """403 unless the caller's key covers the brand.

    Out-of-scope and unknown brands answer alike, so a key cannot probe which brand ids exist.
    """
    if not caller.may_see(brand_id):
        raise ApiError(403, "forbidden", f"this API key does not cover brand {brand_id!r}")


def check_operator(caller: Caller, what: str) -> None:
    """403 unless the caller's key is the operator's.

    Args:
        caller: Who is calling.
        what: What was asked ("register an agency"), for the message.
    """
    if not caller.operator:
        raise ApiError(403, "forbidden", f"only an operator key may {what} "
                       "(tower api-key create --operator); agency and brand keys cannot")
