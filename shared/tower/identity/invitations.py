"""Invitations into an agency by e-mail link: one-time, expiring, stored only as a hash.

``POST /api/agencies/<agency_id>/invitations`` (an agency admin of that agency, or the operator)
stores ``invitations/{sha256 of the token}`` = ``{agency_id, email, role, invited_by, created_at,
expires_at}`` and e-mails ``<TOWER_NOTIFY_PUBLIC_URL>/invitations/<token>`` through the notifications'
SMTP path. Accepting (``POST /api/invitations/<token>/accept`` with the invitee's Firebase ID token)
deletes the invitation in the same transaction that reads it (a second use finds nothing), checks the
token's e-mail is the invited one, and makes the user a member: ``members/{uid}`` = ``{agency_id, role,
email}``. A person belongs to one agency; accepting another agency's invitation moves them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

from tower.identity.roles import AGENCY_ROLES, IdentityError, Role

if TYPE_CHECKING:  # pragma: no cover
    from tower.config import Settings
    from tower.identity.firebase import FirebaseUser
    from tower.ports import DocumentStore, Transaction

COLLECTION = "invitations"
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\"]{2,}$")


def invitation_path(token: str) -> str:
    """The invitation's document: the hash of the link's token."""
    return f"{COLLECTION}/{hashlib.sha256(token.encode()).hexdigest()}"


def create_invitation(store: DocumentStore, *, agency_id: str, email: str, role: str, invited_by: str,
                      now: datetime, hours: int) -> tuple[str, dict[str, Any]]:
    """Store an invitation; return (the link's token, the document).

    Seven parameters: the store, then one keyword per field of the invitation and its time and length.

    Raises:
        IdentityError: 400 for an unusable e-mail or a role that is not an agency's, 404 unknown agency.
    """
    address = (email or "").strip().lower()
    if not _EMAIL.match(address) or len(address) > 254:
        raise IdentityError(400, "invalid_email", f"{email!r} is not an e-mail address")
    if role not in {r.value for r in AGENCY_ROLES}:
        raise IdentityError(400, "invalid_role", "an agency invitation's role is agency_admin or agency_member")
    if not store.get(f"agencies/{agency_id}"):
        raise IdentityError(404, "unknown_agency", f"no agency {agency_id!r}")
    token = secrets.token_urlsafe(32)
    doc = {"agency_id": agency_id, "email": address, "role": role, "invited_by": invited_by, "created_at": now,
           "expires_at": now + timedelta(hours=hours)}
    store.set(invitation_path(token), doc)
    return token, doc


def invitation_link(settings: Settings, token: str) -> str:
    """Where the invitee opens the invitation (the page's accept screen)."""
    return f"{settings.notify_public_url.rstrip('/')}/invitations/{token}"


def invitation_message(settings: Settings, doc: dict[str, Any], token: str, agency_name: str) -> EmailMessage:
    """The invitation e-mail: plain text, the link, who invited, until when."""
    msg = EmailMessage()
    msg["From"] = settings.notify_from_address
    msg["To"] = doc["email"]
    msg["Subject"] = f"You are invited to {agency_name} on Control Tower"
    msg["Date"] = format_datetime(doc["created_at"])
    msg["Message-ID"] = make_msgid(domain=settings.notify_from_address.partition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    role = "an admin" if doc["role"] == Role.AGENCY_ADMIN.value else "a member"
    until = doc["expires_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    msg.set_content(
        f"You are invited to join {agency_name} on Control Tower as {role}.\n\n"
        f"Open this link and sign in with this e-mail address to accept:\n{invitation_link(settings, token)}\n\n"
        f"The link works once, until {until}. If you did not expect it, ignore this message.\n")
    return msg


def accept_invitation(store: DocumentStore, token: str, user: FirebaseUser, *, now: datetime) -> dict[str, Any]:
    """Use the invitation (once) and make the user a member of the agency; the membership document.

    Raises:
        IdentityError: 404 unknown or already used, 410 expired, 403 the ID token's e-mail is not the
            invited one (the invitation stays usable by the right person).
    """
    def use(tx: Transaction) -> dict[str, Any]:
        path = invitation_path(token or "")
        doc = tx.get(path)
        if not doc:
            raise IdentityError(404, "unknown_invitation", "this invitation does not exist or was already used")
        expires = doc["expires_at"] if doc["expires_at"].tzinfo else doc["expires_at"].replace(tzinfo=UTC)
        if expires <= now:
            tx.delete(path)
            return {"expired": True}
        if user.email.strip().lower() != doc["email"]:
            raise IdentityError(403, "wrong_invitee", "sign in with the e-mail address the invitation was sent to")
        tx.delete(path)
        member = {"agency_id": doc["agency_id"], "role": doc["role"], "email": doc["email"], "joined_at": now,
                  "invited_by": doc.get("invited_by")}
        tx.set(f"members/{user.uid}", member)
        return member

    member: dict[str, Any] = store.transaction(use)
    if member.get("expired"):
        raise IdentityError(410, "invitation_expired", "this invitation has expired; ask for a new one")
    return member
