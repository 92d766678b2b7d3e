"""A brand's and an agency's people: invitations, members, removal.

* ``POST /api/brands/<brand_id>/invitations`` {"email", "role"}: invite into the brand as
  merchant_owner or merchant_viewer (the link is e-mailed, as an agency's invitations are:
  :func:`tower.api.access.send_invite`).
* ``GET /api/brands/<brand_id>/members``: the members and the pending invitations;
  ``DELETE /api/brands/<brand_id>/members/<uid>``: remove one (409 ``last_owner`` for the brand's last
  owner); ``DELETE /api/brands/<brand_id>/invitations/<invitation_id>``: revoke a pending invitation.
* The same under ``/api/agencies/<agency_id>`` for an agency (inviting stays ``access.invite``).

Who may: on a brand, its merchant owner (an API key, a Shopify session token's owner, or a person
whose own role on that brand is owner; :meth:`~tower.identity.roles.Principal.for_brand`) and the
operator; on an agency, its admin and the operator. Everyone else is refused 403 before the view runs
(``Action.TEAM`` and ``Action.INVITE``). Removing someone ends every session they signed in, so their
next request is refused (401) even where another membership would still let them in.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from tower.api.access import InvitationBody, send_invite
from tower.api.auth import check_scope
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime
from tower.api.session import identity_error
from tower.brands import UnknownBrand, brand_row
from tower.identity import invitations, memberships, sessions
from tower.identity.memberships import Target
from tower.identity.roles import IdentityError, Role

bp = Blueprint("members", __name__, url_prefix="/api")


def _brand(brand_id: str) -> tuple[Target, str]:
    """The brand as a target and its name, once the caller's scope covers it (the operator: any brand)."""
    caller = current_caller()
    if caller.role is not Role.OPERATOR:
        check_scope(caller, brand_id)
    try:
        row = brand_row(current_runtime().warehouse, brand_id)
    except UnknownBrand:
        raise ApiError(404, "not_found", f"unknown brand {brand_id!r}") from None
    return Target("brand", brand_id), str(row.get("brand_name") or brand_id)


def _agency(agency_id: str) -> Target:
    """The agency as a target, when the caller administers it (the operator: any registered agency)."""
    caller = current_caller()
    if caller.role is not Role.OPERATOR and caller.agency_id != agency_id:
        raise ApiError(403, "forbidden", f"you are not an admin of agency {agency_id!r}")
    if not current_runtime().store.get(f"agencies/{agency_id}"):
        raise ApiError(404, "not_found", f"unknown agency {agency_id!r}")
    return Target("agency", agency_id)


def _team(target: Target) -> ResponseReturnValue:
    store = current_runtime().store
    return {**target.as_json(), "members": memberships.list_members(store, target),
            "invitations": invitations.pending_invitations(store, target, now=current_now())}


def _remove(target: Target, uid: str) -> ResponseReturnValue:
    store = current_runtime().store
    try:
        gone = memberships.remove_member(store, target, uid)
    except IdentityError as e:
        raise identity_error(e) from None
    ended = sessions.end_user_sessions(store, uid)
    return {"removed": True, "member": gone, "sessions_ended": ended}


def _revoke(target: Target, invitation_id: str) -> ResponseReturnValue:
    try:
        gone = invitations.revoke_invitation(current_runtime().store, target, invitation_id)
    except IdentityError as e:
        raise identity_error(e) from None
    return {"removed": True, "invitation": gone}


@bp.post("/brands/<brand_id>/invitations")
@operation("Invite an e-mail address into the brand as merchant_owner or merchant_viewer (its owner or the "
           "operator); the link is e-mailed.", response="Invitation", body=InvitationBody, errors=(400, 403, 404),
           tag="access", created=True)
def brand_invite(brand_id: str) -> ResponseReturnValue:
    """201; ``sent`` says whether the SMTP server took the mail. The link's token is never in the answer."""
    target, name = _brand(brand_id)
    return send_invite(target, name)


@bp.get("/brands/<brand_id>/members")
@operation("The brand's members and pending invitations (its owner or the operator).", response="Team",
           errors=(403, 404), tag="access")
def brand_members(brand_id: str) -> ResponseReturnValue:
    """Members by e-mail with their role; invitations not yet used nor expired, newest first."""
    return _team(_brand(brand_id)[0])


@bp.delete("/brands/<brand_id>/members/<uid>")
@operation("Remove a member from the brand; their sessions end. The last owner cannot be removed (409).",
           response="RemovedMember", errors=(403, 404, 409), tag="access")
def brand_member_remove(brand_id: str, uid: str) -> ResponseReturnValue:
    """404 for someone who is not a member; 409 ``last_owner`` when they are the brand's only owner."""
    return _remove(_brand(brand_id)[0], uid)


@bp.delete("/brands/<brand_id>/invitations/<invitation_id>")
@operation("Revoke a pending invitation into the brand: its link stops working.", response="RevokedInvitation",
           errors=(403, 404), tag="access")
def brand_invitation_revoke(brand_id: str, invitation_id: str) -> ResponseReturnValue:
    """404 for an invitation already used, expired or of another brand."""
    return _revoke(_brand(brand_id)[0], invitation_id)


@bp.get("/agencies/<agency_id>/members")
@operation("The agency's members and pending invitations (its admin or the operator).", response="Team",
           errors=(403, 404), tag="access")
def agency_members(agency_id: str) -> ResponseReturnValue:
    """Members by e-mail with their role; invitations not yet used nor expired, newest first."""
    return _team(_agency(agency_id))


@bp.delete("/agencies/<agency_id>/members/<uid>")
@operation("Remove a member from the agency; their sessions end.", response="RemovedMember",
           errors=(403, 404), tag="access")
def agency_member_remove(agency_id: str, uid: str) -> ResponseReturnValue:
    """404 for someone who is not a member of the agency; their brand memberships, if any, stay."""
    return _remove(_agency(agency_id), uid)


@bp.delete("/agencies/<agency_id>/invitations/<invitation_id>")
@operation("Revoke a pending invitation into the agency: its link stops working.", response="RevokedInvitation",
           errors=(403, 404), tag="access")
def agency_invitation_revoke(agency_id: str, invitation_id: str) -> ResponseReturnValue:
    """404 for an invitation already used, expired or of another agency."""
    return _revoke(_agency(agency_id), invitation_id)
