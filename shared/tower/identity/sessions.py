"""Server-side sessions behind an HttpOnly cookie, and the CSRF rule of cookie-authenticated requests.

A session is 32 random bytes in the cookie :data:`COOKIE` (HttpOnly, SameSite=Lax, Path=/, Secure on
https); the store keeps ``sessions/{sha256 of it}``, so a copy of the store opens no session. The
document holds who signed in (an API key's hash, a Firebase uid, or a principal's role and scope), a
CSRF token, and an absolute expiry (``TOWER_SESSION_HOURS``); deleting it (sign-out, or the key or
membership behind it going away) ends the session at the next request.

**CSRF rule.** A request authenticated by the cookie with an unsafe method (POST, PUT, PATCH, DELETE)
must carry the header :data:`CSRF_HEADER` equal to the session's CSRF token, which ``POST`` and ``GET
/api/session`` answer (``csrf_token``) and the page keeps in memory only. Another site can make a
browser send the cookie (SameSite=Lax still sends it on top-level navigations), but cannot read the
token nor set a custom header cross-origin without CORS, which the API does not grant. Requests with
``Authorization: Bearer`` carry no ambient credential and need no token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tower.identity.keys import key_hash_principal
from tower.identity.memberships import person_principal
from tower.identity.roles import Principal, principal_from, scope_doc, with_session
from tower.ports import DocQuery, Where

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore

COOKIE = "tower_session"
#: A cookie beside it the page's scripts may read: it says a session may be open (so a reloaded page asks
#: GET /api/session instead of showing the sign-in form) and holds nothing that authenticates.
MARKER_COOKIE = "tower_signed_in"
CSRF_HEADER = "X-CSRF-Token"
COLLECTION = "sessions"
#: Where the API app keeps its runtime in ``Flask.extensions`` (tower.api.request reads it too).
RUNTIME_EXTENSION = "tower"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_HOURS = 12


def session_path(session_id: str) -> str:
    """The session's document: the hash of the cookie's value, never the value."""
    return f"{COLLECTION}/{hashlib.sha256(session_id.encode()).hexdigest()}"


def create_session(store: DocumentStore, principal: Principal, *, now: datetime, hours: int = DEFAULT_HOURS,
                   uid: str | None = None) -> tuple[str, dict[str, Any]]:
    """Store a new session for the principal; return (cookie value, document).

    A principal from an API key is stored as the key's hash (revoking the key ends the session); one
    from a Firebase user as the uid (its membership is read per request); any other (a Shopify session
    token's merchant, an install's) as its role and scope.
    """
    session_id = secrets.token_urlsafe(32)
    doc: dict[str, Any] = {"name": principal.name, "csrf": secrets.token_urlsafe(24), "created_at": now,
                           "expires_at": now + timedelta(hours=hours)}
    if principal.key_hash:
        doc["key_hash"] = principal.key_hash
    elif uid:
        doc["uid"] = uid
    else:
        doc.update(scope=scope_doc(principal), subject=principal.subject)
    store.set(session_path(session_id), doc)
    return session_id, doc


@dataclass(frozen=True)
class LiveSession:
    """A session that still signs someone in."""

    principal: Principal
    csrf: str
    expires_at: datetime


def resolve_session(store: DocumentStore, session_id: str, *, now: datetime) -> LiveSession | None:
    """The principal, CSRF token and expiry of a live session (None: unknown, expired, or its key or member gone)."""
    if not session_id:
        return None
    path = session_path(session_id)
    doc = store.get(path)
    if not doc:
        return None
    expires = doc.get("expires_at")
    if isinstance(expires, datetime) and not expires.tzinfo:
        expires = expires.replace(tzinfo=UTC)
    if not isinstance(expires, datetime) or expires <= now:
        store.delete(path)
        return None
    principal: Principal | None
    if doc.get("key_hash"):
        principal = key_hash_principal(store, str(doc["key_hash"]), now=now)
    elif doc.get("uid"):
        principal = member_principal(store, str(doc["uid"]))
    else:
        principal = principal_from(store, doc.get("scope") or {}, name=str(doc.get("name") or "session"),
                                   subject=str(doc.get("subject") or ""))
    if principal is None:
        store.delete(path)
        return None
    return LiveSession(with_session(principal, path.rsplit("/", 1)[1]), str(doc.get("csrf") or ""), expires)


def member_principal(store: DocumentStore, uid: str) -> Principal | None:
    """The principal of a Firebase user from their memberships (None: no role here)."""
    return person_principal(store, uid)


def end_user_sessions(store: DocumentStore, uid: str) -> int:
    """Delete every session a Firebase user signed in (a removed member's next request is refused); how many."""
    found = store.query(DocQuery(COLLECTION, [Where("uid", "==", uid)])) if uid else []
    for path, _ in found:
        store.delete(path)
    return len(found)


def end_session(store: DocumentStore, session_id: str) -> None:
    """Delete the session (sign-out)."""
    if session_id:
        store.delete(session_path(session_id))


def csrf_ok(expected: str, sent: str | None) -> bool:
    """Whether the CSRF header matches the session's token (constant-time)."""
    return bool(expected) and bool(sent) and hmac.compare_digest(expected.encode(), str(sent).encode())


def _is_https() -> bool:
    from flask import has_request_context, request

    if not has_request_context():
        return False
    # behind a load balancer the scheme arrives as X-Forwarded-Proto; a cookie marked Secure that the
    # browser then withholds on http would only break sign-in, never weaken it
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip() == "https"


def set_cookie(response: Any, session_id: str, expires_at: datetime) -> None:
    """Put the session cookie on a Flask/Werkzeug response."""
    secure = _is_https()
    response.set_cookie(COOKIE, session_id, expires=expires_at, path="/", httponly=True, samesite="Lax", secure=secure)
    response.set_cookie(MARKER_COOKIE, "1", expires=expires_at, path="/", samesite="Lax", secure=secure)


def clear_cookie(response: Any) -> None:
    """Tell the browser to drop the session cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=_is_https())
    response.delete_cookie(MARKER_COOKIE, path="/", samesite="Lax", secure=_is_https())


def start_session(response: Any, principal: Principal, *, store: DocumentStore | None = None,
                  now: datetime | None = None, uid: str | None = None, hours: int | None = None) -> dict[str, Any]:
    """Sign the principal in on ``response``: a stored session and its cookie. Returns ``{"csrf_token", "expires_at"}``.

    For code that has just authenticated someone itself (the Shopify install's callback, a sign-in):
    inside a request of the API app the store and the session length come from the app's runtime.

    Args:
        response: The Flask response the cookie goes on (a redirect, a JSON answer).
        principal: Who signed in (:class:`~tower.identity.roles.Principal`).
        store: The document store (default: the current API app's).
        now: The time now (default: the system clock).
        uid: The Firebase uid, when the principal is a Firebase user's membership.
        hours: The session's length (default: the app's ``TOWER_SESSION_HOURS``, else 12).
    """
    from flask import current_app, has_app_context

    runtime = current_app.extensions.get(RUNTIME_EXTENSION) if has_app_context() else None
    if store is None:
        if runtime is None:
            raise RuntimeError("start_session needs a store outside a request of the API app")
        store = runtime.store
    if hours is None:
        hours = runtime.settings.session_hours if runtime is not None else DEFAULT_HOURS
    at = now or datetime.now(UTC)
    session_id, doc = create_session(store, principal, now=at, hours=hours, uid=uid)
    set_cookie(response, session_id, doc["expires_at"])
    return {"csrf_token": doc["csrf"], "expires_at": doc["expires_at"]}
