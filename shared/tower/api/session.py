"""``/api/session``: signing in to the page, and out.

``POST /api/session`` takes one credential — ``{"api_key"}``, ``{"id_token"}`` (a Firebase Auth ID
token) or ``Authorization: Bearer <Shopify session token>`` (the embedded app's) — and answers the
principal and the CSRF token, setting the HttpOnly session cookie (:mod:`tower.identity.sessions`). A
Shopify session token signs in the merchant owner of the brand installed for its shop; a Firebase user
signs in with the role their membership (an accepted invitation) gives. ``GET`` says who is signed in
(and the CSRF token again, for a page that was reloaded); ``DELETE`` signs out.

A failed sign-in counts toward the address's failed-authentication limit like a bad API key.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from tower.api.auth import AUTH_HEADERS, bearer_token, check_failure_limit, current_limiter_failed
from tower.api.embedded import session_token_principal
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.identity import firebase, keys, sessions
from tower.identity.roles import IdentityError, Principal

bp = Blueprint("session", __name__, url_prefix="/api")


class SessionBody(BaseModel):
    """``POST /api/session``: one credential (or none, with the Shopify session token in Authorization)."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    api_key: str | None = Field(default=None, min_length=1, max_length=200, description="An API key.")
    id_token: str | None = Field(default=None, min_length=1, max_length=8192,
                                 description="A Firebase Auth / Identity Platform ID token.")


def identity_error(e: IdentityError) -> ApiError:
    """The API's error for an identity refusal."""
    return ApiError(e.status, e.code, e.message, headers=AUTH_HEADERS if e.status == 401 else None)


def _refused(e: IdentityError) -> ApiError:
    if e.status == 401:
        current_limiter_failed()
    return identity_error(e)


def _shopify_principal(token: str) -> Principal:
    """The merchant owner of the brand installed for the session token's shop (as every API request
    carrying one is, :mod:`tower.api.embedded`)."""
    return session_token_principal(current_runtime(), token)


GOOGLE_IDENTITY_TOOLKIT = "https://identitytoolkit.googleapis.com/v1"
_GOOGLE_TOKEN_ORIGINS = ("https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com")


def identity_toolkit(settings: Any) -> tuple[str, tuple[str, ...]]:
    """Where the page signs people in (Identity Toolkit's REST API) and the origins it must reach (none
    on a demo-* project without its emulator: nobody can sign in there by e-mail)."""
    emulator = settings.firebase_auth_emulator_host.strip()
    if emulator:
        return f"http://{emulator}/identitytoolkit.googleapis.com/v1", (f"http://{emulator}",)
    if settings.firebase_project_id.startswith("demo-") or not settings.firebase_project_id:
        return "", ()
    return GOOGLE_IDENTITY_TOOLKIT, _GOOGLE_TOKEN_ORIGINS


@bp.get("/auth/config")
@operation("How the page signs people in by e-mail: the Firebase project, the Identity Toolkit URL, the Web API key.",
           response="AuthConfig", public=True, tag="session")
def auth_config() -> ResponseReturnValue:
    """Public: all of it is what a browser needs to call Firebase Auth, and none of it is a secret."""
    settings = current_runtime().settings
    url, _ = identity_toolkit(settings)
    return {"project_id": settings.firebase_project_id, "identity_toolkit_url": url,
            "api_key": settings.firebase_web_api_key or ("emulator" if settings.firebase_auth_emulator_host else "")}


def _answer(principal: Principal, csrf: str, expires_at: Any) -> dict[str, Any]:
    return {"principal": principal.as_json(), "csrf_token": csrf, "expires_at": expires_at}


@bp.post("/session")
@operation("Sign in: an API key, a Firebase ID token, or a Shopify session token (Authorization: Bearer); "
           "sets the HttpOnly session cookie.", response="Session", body=SessionBody, body_required=False,
           errors=(400, 401, 403, 503), public=True, tag="session")
def session_create() -> ResponseReturnValue:
    """Exactly one credential. The answer's ``csrf_token`` goes in ``X-CSRF-Token`` on every signed-in
    POST, PUT or DELETE; the session itself is the cookie (never readable by the page's scripts)."""
    check_failure_limit()
    runtime, now = current_runtime(), current_now()
    body = json_body(SessionBody, optional=True)
    header = request.headers.get("Authorization")
    given = [c for c in (body.api_key, body.id_token, header) if c]
    if len(given) != 1:
        raise ApiError(400, "invalid_body", "sign in with exactly one of: api_key, id_token, or "
                       "Authorization: Bearer <Shopify session token>")
    uid = None
    try:
        if body.api_key:
            found = keys.key_principal(runtime.store, body.api_key.strip(), now=now)
            if found is None:
                raise IdentityError(401, "unauthorized", "unknown API key")
            principal = found
        elif body.id_token:
            user = firebase.verify_id_token(runtime.settings, body.id_token, now=now)
            member = sessions.member_principal(runtime.store, user.uid)
            if member is None:
                raise IdentityError(403, "no_role", "this account has no role here yet: accept an invitation first")
            principal, uid = member, user.uid
        else:
            token = bearer_token(header)
            if token.startswith(keys.KEY_PREFIX):
                # a key is never taken from a header here: the body says which credential it is
                raise ApiError(400, "invalid_body", 'an API key signs in in the body: {"api_key": "tower_..."}; '
                               "Authorization: Bearer is for a Shopify session token")
            principal = _shopify_principal(token)
    except IdentityError as e:
        raise _refused(e) from None
    response = make_response()
    started = sessions.start_session(response, principal, store=runtime.store, now=now, uid=uid)
    response.set_data(jsonify(_answer(principal, started["csrf_token"], started["expires_at"])).get_data())
    response.mimetype = "application/json"
    return response


@bp.get("/session")
@operation("Who is signed in (the session cookie, or the API key in Authorization) and the CSRF token.",
           response="Session", tag="session")
def session_get() -> ResponseReturnValue:
    """For a page that was reloaded: its cookie still signs it in, and it needs the CSRF token again."""
    caller = current_caller()
    csrf = getattr(g, "csrf_token", None)
    return _answer(caller, csrf or "", getattr(g, "session_expires_at", None))


@bp.delete("/session")
@operation("Sign out: the session ends on the server and the cookie is cleared.", response="Removed",
           tag="session")
def session_delete() -> ResponseReturnValue:
    """Idempotent: signing out twice, or with an API key (there is no session), answers removed: false."""
    session_id = request.cookies.get(sessions.COOKIE, "")
    removed = bool(current_caller().session_id) and bool(session_id)
    if removed:
        sessions.end_session(current_runtime().store, session_id)
    response = jsonify({"removed": removed})
    sessions.clear_cookie(response)
    return response
