"""Invitations into an agency or a brand by e-mail link: one-time, expiring, stored only as a hash.

``POST /api/agencies/<agency_id>/invitations`` (an agency admin of that agency, or the operator) and
``POST /api/brands/<brand_id>/invitations`` (a merchant owner of that brand, or the operator) store
``invitations/{sha256 of the token}`` = ``{agency_id | brand_id, email, role, invited_by, created_at,
expires_at, invitation_id}`` and e-mail ``<TOWER_NOTIFY_PUBLIC_URL>/invitations/<token>`` through the
notifications' SMTP path. ``invitation_id`` is a separate random name by which the pending invitation
is listed and revoked (the hash is never shown). Accepting (``POST /api/invitations/<token>/accept``
with the invitee's Firebase ID token) deletes the invitation in the same transaction that reads it (a
second use finds nothing), checks the token's e-mail is the invited one, and makes the user a member
(:func:`tower.identity.memberships.join`). A person belongs to one agency (accepting another agency's
invitation moves them) and to any number of brands.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

from tower.identity.memberships import Target, check_role, join, target_of
from tower.identity.roles import IdentityError, Role
from tower.ports import DocQuery, Where

if TYPE_CHECKING:  # pragma: no cover
    from tower.config import Settings
    from tower.identity.firebase import FirebaseUser
    from tower.ports import DocumentStore, Secrets, Transaction

COLLECTION = "invitations"
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\"]{2,}$")


def invitation_path(token: str) -> str:
    """The invitation's document: the hash of the link's token."""
    return f"{COLLECTION}/{hashlib.sha256(token.encode()).hexdigest()}"


def create_invitation(store: DocumentStore, target: Target, *, email: str, role: str, invited_by: str,
                      now: datetime, hours: int) -> tuple[str, dict[str, Any]]:
    """Store an invitation into the target; return (the link's token, the document).

    Seven parameters: the store and the target, then one keyword per field of the invitation and its
    time and length. A brand target must exist (the caller checks: brands live in the warehouse).

    Raises:
        IdentityError: 400 for an unusable e-mail or a role the target's members cannot have, 404
            unknown agency.
    """
    address = (email or "").strip().lower()
    if not _EMAIL.match(address) or len(address) > 254:
        raise IdentityError(400, "invalid_email", f"{email!r} is not an e-mail address")
    check_role(target, role)
    if target.kind == "agency" and not store.get(f"agencies/{target.id}"):
        raise IdentityError(404, "unknown_agency", f"no agency {target.id!r}")
    token = secrets.token_urlsafe(32)
    doc = {**target.as_json(), "email": address, "role": role, "invited_by": invited_by, "created_at": now,
           "expires_at": now + timedelta(hours=hours), "invitation_id": secrets.token_hex(8)}
    store.set(invitation_path(token), doc)
    return token, doc


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """A pending invitation as listed: never its token or hash."""
    return {"invitation_id": doc.get("invitation_id"), **target_of(doc).as_json(), "email": doc.get("email"),
            "role": doc.get("role"), "invited_by": doc.get("invited_by"), "created_at": doc.get("created_at"),
            "expires_at": doc.get("expires_at")}


def pending_invitations(store: DocumentStore, target: Target, *, now: datetime) -> list[dict[str, Any]]:
    """The target's invitations not yet used nor expired, newest first."""
    found = store.query(DocQuery(COLLECTION, [Where(target.field, "==", target.id)]))
    live = [d for _, d in found if d.get("invitation_id") and _aware(d["expires_at"]) > now]
    live.sort(key=lambda d: (str(d.get("created_at") or ""), str(d["invitation_id"])), reverse=True)
    return [describe(d) for d in live]


def revoke_invitation(store: DocumentStore, target: Target, invitation_id: str) -> dict[str, Any]:
    """Delete a pending invitation of the target (its link stops working); the invitation as it was.

    Raises:
        IdentityError: 404 when the target has no invitation of that id (another target's answers alike).
    """
    found = [(p, d) for p, d in store.query(DocQuery(COLLECTION, [Where("invitation_id", "==", invitation_id)]))
             if target_of(d) == target]
    if not found:
        raise IdentityError(404, "unknown_invitation", f"no pending invitation {invitation_id!r} of this {target.kind}")
    for path, _ in found:
        store.delete(path)
    return describe(found[0][1])


def invitation_link(settings: Settings, token: str) -> str:
    """Where the invitee opens the invitation (the page's accept screen)."""
    return f"{settings.notify_public_url.rstrip('/')}/invitations/{token}"


_AS = {Role.AGENCY_ADMIN.value: "an admin", Role.AGENCY_MEMBER.value: "a member",
       Role.MERCHANT_OWNER.value: "an owner", Role.MERCHANT_VIEWER.value: "a viewer (read only)"}


def invitation_message(settings: Settings, doc: dict[str, Any], token: str, target_name: str) -> EmailMessage:
    """The invitation e-mail: plain text, the link, who invited, until when."""
    msg = EmailMessage()
    msg["From"] = settings.notify_from_address
    msg["To"] = doc["email"]
    msg["Subject"] = f"You are invited to {target_name} on Control Tower"
    msg["Date"] = format_datetime(doc["created_at"])
    msg["Message-ID"] = make_msgid(domain=settings.notify_from_address.partition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    role = _AS.get(str(doc["role"]), "a member")
    until = doc["expires_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    msg.set_content(
        f"You are invited to join {target_name} on Control Tower as {role}.\n\n"
        f"Open this link and sign in with this e-mail address to accept:\n{invitation_link(settings, token)}\n\n"
        f"The link works once, until {until}. If you did not expect it, ignore this message.\n")
    return msg


def send_invitation(settings: Settings, secrets_port: Secrets, doc: dict[str, Any], token: str,
                    target_name: str) -> tuple[bool, str | None]:
    """E-mail the invitation through the notifications' SMTP path; (sent, why not)."""
    from tower.notify.deliveries import SendError  # lazy: smtplib and the e-mail package load only to invite
    from tower.notify.mail import send  # lazy: as above

    try:
        send(settings, secrets_port, invitation_message(settings, doc, token, target_name))
    except SendError as e:
        return False, str(e)
    return True, None


def accept_invitation(store: DocumentStore, token: str, user: FirebaseUser, *, now: datetime) -> dict[str, Any]:
    """Use the invitation (once) and make the user a member of its agency or brand; the membership.

    Raises:
        IdentityError: 404 unknown or already used, 410 expired, 403 the ID token's e-mail is not the
            invited one (the invitation stays usable by the right person).
    """
    def use(tx: Transaction) -> dict[str, Any]:
        path = invitation_path(token or "")
        doc = tx.get(path)
        if not doc:
            raise IdentityError(404, "unknown_invitation", "this invitation does not exist or was already used")
        if _aware(doc["expires_at"]) <= now:
            tx.delete(path)
            return {"expired": True}
        if user.email.strip().lower() != doc["email"]:
            raise IdentityError(403, "wrong_invitee", "sign in with the e-mail address the invitation was sent to")
        member = join(tx, target_of(doc), user.uid, email=doc["email"], role=doc["role"], now=now,
                      invited_by=doc.get("invited_by"))
        tx.delete(path)
        return member

    member: dict[str, Any] = store.transaction(use)
    if member.get("expired"):
        raise IdentityError(410, "invitation_expired", "this invitation has expired; ask for a new one")
    return member
