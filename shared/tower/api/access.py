"""API keys and invitations: ``/api/api-keys`` and ``/api/agencies/<id>/invitations``, ``/api/invitations``.

Keys: the operator manages every key; an agency admin its agency's (roles agency_admin and
agency_member); a merchant owner those covering only their brands (merchant_owner, merchant_viewer).
A new or rotated key is in the answer once (``api_key``); listings show its prefix, name, role, scope,
creation and last use (:mod:`tower.identity.keys`), never the key or its hash. A key another scope
manages answers 404, as an unknown one does.

Invitations: an agency admin (or the operator) invites an e-mail address into the agency as
agency_admin or agency_member (a brand's owner into the brand: :mod:`tower.api.members`, through
:func:`send_invite` here); the link is mailed through the notifications' SMTP path. Accepting is
public: the link's token and the invitee's Firebase ID token authenticate it; it signs the invitee in.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, make_response
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from tower.api.auth import check_failure_limit, current_limiter_failed
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.api.session import identity_error
from tower.identity import firebase, invitations, keys, memberships, sessions
from tower.identity.roles import Action, IdentityError, Principal, Role

bp = Blueprint("access", __name__, url_prefix="/api")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class ApiKeyBody(_Strict):
    """``POST /api/api-keys``: a new key in the caller's scope (the operator names the scope)."""

    name: str = Field(min_length=1, max_length=100, description="Who or what the key is for.")
    role: str | None = Field(default=None, description="merchant_owner | merchant_viewer (brand keys), "
                             "agency_admin | agency_member (agency keys), operator; default: the scope's widest.")
    brand_ids: list[str] | None = Field(default=None, max_length=500,
                                        description="Brand keys: these brands (a merchant owner's own by default).")
    agency_id: str | None = Field(default=None, max_length=63, description="Operator only: an agency's key.")
    operator: bool = Field(default=False, description="Operator only: another operator key.")


class InvitationBody(_Strict):
    """``POST /api/agencies/{agency_id}/invitations`` or ``/api/brands/{brand_id}/invitations``: invite an
    e-mail address into the agency or the brand."""

    email: str = Field(min_length=3, max_length=254, description="The invitee's e-mail address.",
                       examples=["ana@northstar.example"])
    role: str = Field(description="agency_admin or agency_member (an agency); merchant_owner or merchant_viewer "
                      "(a brand).", examples=["merchant_viewer"])


class AcceptBody(_Strict):
    """``POST /api/invitations/{token}/accept``: the invitee's Firebase ID token."""

    id_token: str = Field(min_length=1, max_length=8192, description="A Firebase Auth ID token of the invitee.")


def _new_key_scope(caller: Principal, body: ApiKeyBody) -> dict[str, Any]:
    """The scope the caller may give the new key (what they asked for, inside what they have)."""
    if caller.role is Role.OPERATOR:
        return {"agency_id": body.agency_id, "brand_ids": body.brand_ids, "operator": body.operator}
    if body.operator or (body.agency_id and body.agency_id != caller.agency_id):
        raise ApiError(403, "forbidden", "a key can only be issued inside your own scope")
    if caller.role is Role.AGENCY_ADMIN:
        if body.brand_ids:
            raise ApiError(400, "invalid_body", "an agency's keys cover the agency's brands: leave brand_ids out")
        return {"agency_id": caller.agency_id}
    # a person who owns some brands and views others issues keys for the owned ones only
    owned = caller.brands_with(Action.KEYS)
    brands = body.brand_ids if body.brand_ids is not None else sorted(owned)
    outside = sorted(set(brands) - owned)
    if outside:
        raise ApiError(403, "forbidden", f"this sign-in does not cover brand {outside[0]!r}")
    return {"brand_ids": brands}


@bp.get("/api-keys")
@operation("The API keys you manage, with their last use.", response="ApiKeys", errors=(403,), tag="access")
def keys_list() -> ResponseReturnValue:
    """Newest first; ``last_used_at`` is recorded at most every five minutes per key."""
    return {"api_keys": keys.list_keys(current_runtime().store, current_caller())}


@bp.post("/api-keys")
@operation("Create an API key (shown once in the answer).", response="NewApiKey", body=ApiKeyBody,
           errors=(400, 403), tag="access", created=True)
def keys_create() -> ResponseReturnValue:
    """201 with ``api_key`` (the only time it is shown) and its listing."""
    caller, store, now = current_caller(), current_runtime().store, current_now()
    body = json_body(ApiKeyBody)
    try:
        key = keys.create_api_key(store, name=body.name, now=now, role=body.role, **_new_key_scope(caller, body))
    except keys.BadApiKeyRequest as e:
        raise ApiError(400, "invalid_api_key_request", str(e)) from None
    listed = keys.describe(store.get(f"{keys.COLLECTION}/{keys.hash_key(key)}") or {})
    return {"api_key": key, "key": listed}, 201


@bp.post("/api-keys/<key_prefix>/rotate")
@operation("Rotate an API key: a new key with its name, role and scope; the old one stops working.",
           response="NewApiKey", errors=(403, 404, 409), tag="access")
def keys_rotate(key_prefix: str) -> ResponseReturnValue:
    """The new key is in the answer once; the old key's sessions end with it."""
    try:
        key, listed = keys.rotate(current_runtime().store, current_caller(), key_prefix, now=current_now())
    except IdentityError as e:
        raise identity_error(e) from None
    return {"api_key": key, "key": listed}


@bp.delete("/api-keys/<key_prefix>")
@operation("Revoke an API key: its requests and sessions are refused from the next one on.",
           response="RevokedApiKey", errors=(403, 404, 409), tag="access")
def keys_revoke(key_prefix: str) -> ResponseReturnValue:
    """A key already revoked answers 404 (it is unknown now)."""
    try:
        gone = keys.revoke(current_runtime().store, current_caller(), key_prefix)
    except IdentityError as e:
        raise identity_error(e) from None
    return {"removed": True, "key": gone}


def send_invite(target: memberships.Target, target_name: str) -> ResponseReturnValue:
    """Create the invitation the body asks for into the target, e-mail its link, answer 201 (the caller's
    rights on the target are checked before)."""
    caller, runtime, now = current_caller(), current_runtime(), current_now()
    body = json_body(InvitationBody)
    try:
        token, doc = invitations.create_invitation(runtime.store, target, email=body.email, role=body.role,
                                                   invited_by=caller.actor, now=now,
                                                   hours=runtime.settings.invitation_hours)
    except IdentityError as e:
        raise identity_error(e) from None
    sent, error = invitations.send_invitation(runtime.settings, runtime.secrets, doc, token, target_name)
    answer = {**target.as_json(), "invitation_id": doc["invitation_id"], "email": doc["email"], "role": doc["role"],
              "expires_at": doc["expires_at"], "sent": sent, "send_error": error}
    return {"invitation": answer}, 201


@bp.post("/agencies/<agency_id>/invitations")
@operation("Invite an e-mail address into the agency (agency admin or operator); the link is e-mailed.",
           response="Invitation", body=InvitationBody, errors=(400, 403, 404), tag="access", created=True)
def invite(agency_id: str) -> ResponseReturnValue:
    """201; ``sent`` says whether the SMTP server took the mail (``send_error`` why not). The link's
    token is never in the answer: only the invitee's mailbox has it."""
    caller = current_caller()
    if caller.role is not Role.OPERATOR and caller.agency_id != agency_id:
        raise ApiError(403, "forbidden", f"you are not an admin of agency {agency_id!r}")
    agency_name = str((current_runtime().store.get(f"agencies/{agency_id}") or {}).get("name") or agency_id)
    return send_invite(memberships.Target("agency", agency_id), agency_name)


@bp.post("/invitations/<token>/accept")
@operation("Accept an invitation with the invitee's Firebase ID token; signs them in (session cookie).",
           response="Session", body=AcceptBody, errors=(400, 401, 403, 404, 410, 503), public=True, tag="access")
def invitation_accept(token: str) -> ResponseReturnValue:
    """The link works once; the ID token's e-mail must be the invited one."""
    check_failure_limit()
    runtime, now = current_runtime(), current_now()
    body = json_body(AcceptBody)
    try:
        user = firebase.verify_id_token(runtime.settings, body.id_token, now=now)
        invitations.accept_invitation(runtime.store, token, user, now=now)
        principal = sessions.member_principal(runtime.store, user.uid)
    except IdentityError as e:
        if e.status in (401, 404):
            current_limiter_failed()
        raise identity_error(e) from None
    if principal is None:  # the membership was just written; only a concurrent removal gets here
        raise ApiError(409, "membership_removed", "the membership was removed while it was being created")
    response = make_response()
    started = sessions.start_session(response, principal, store=runtime.store, now=now, uid=user.uid)
    response.set_data(jsonify({"principal": principal.as_json(), "csrf_token": started["csrf_token"],
                               "expires_at": started["expires_at"]}).get_data())
    response.mimetype = "application/json"
    return response
