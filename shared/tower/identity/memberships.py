"""Who belongs where: a person's brand and agency memberships, listed and removed.

Two documents, always written together in one transaction:

* ``members/{uid}``, the person's own index, read on every signed-in request: ``{email, agency_id,
  role, brands: {brand_id: role}}`` (``agency_id``/``role`` only for an agency member; ``brands`` only
  for brand members). A person belongs to at most one agency (joining another moves them) and to any
  number of brands.
* ``brand_members/{brand_id}``, the brand's team: ``{brand_id, members: {uid: {email, role,
  joined_at, invited_by}}}``; one document, so "is this the last owner?" is read and written in the
  same transaction as the removal.

An agency's members are found by querying ``members`` on ``agency_id``. How a person's memberships
make one :class:`~tower.identity.roles.Principal` is written out in :mod:`tower.identity.roles`.
Removing someone here does not end their sessions by itself; :func:`tower.identity.sessions.end_user_sessions`
does, and every caller of :func:`remove_member` calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from tower.identity.roles import AGENCY_ROLES, MERCHANT_ROLES, IdentityError, Principal, Role, agency_brands
from tower.ports import DocQuery, Where

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore, Transaction

MEMBERS = "members"
BRAND_TEAMS = "brand_members"


@dataclass(frozen=True)
class Target:
    """What a person is invited into or removed from: an agency or a brand."""

    kind: Literal["agency", "brand"]
    id: str

    @property
    def field(self) -> str:
        """The field naming the target in an invitation (``agency_id`` or ``brand_id``)."""
        return f"{self.kind}_id"

    @property
    def roles(self) -> frozenset[Role]:
        """The roles a membership of this kind can have."""
        return AGENCY_ROLES if self.kind == "agency" else MERCHANT_ROLES

    def as_json(self) -> dict[str, str]:
        """``{"agency_id": id}`` or ``{"brand_id": id}``."""
        return {self.field: self.id}


def target_of(doc: dict[str, Any]) -> Target:
    """The target an invitation document names (an agency's when it has ``agency_id``)."""
    if doc.get("brand_id"):
        return Target("brand", str(doc["brand_id"]))
    return Target("agency", str(doc.get("agency_id") or ""))


def check_role(target: Target, role: str) -> Role:
    """The role, when a membership of the target can have it.

    Raises:
        IdentityError: 400 naming the roles the target's memberships take.
    """
    allowed = sorted(r.value for r in target.roles)
    if role not in allowed:
        raise IdentityError(400, "invalid_role", f"a {target.kind} invitation's role is " + " or ".join(allowed))
    return Role(role)


def join(tx: Transaction, target: Target, uid: str, *, email: str, role: str, now: datetime,
         invited_by: str | None) -> dict[str, Any]:
    """Make the person a member of the target inside ``tx`` (reads first, then writes); the membership.

    Six parameters: the transaction, the target and the person, then the membership's fields.
    """
    person = dict(tx.get(f"{MEMBERS}/{uid}") or {})
    team_path = f"{BRAND_TEAMS}/{target.id}"
    team = dict(tx.get(team_path) or {}) if target.kind == "brand" else {}
    membership = {"email": email, "role": role, "joined_at": now, "invited_by": invited_by}
    person["email"] = email
    if target.kind == "agency":
        person.update(agency_id=target.id, role=role, joined_at=now, invited_by=invited_by)
    else:
        person["brands"] = {**(person.get("brands") or {}), target.id: role}
        team["brand_id"] = target.id
        team["members"] = {**(team.get("members") or {}), uid: membership}
        tx.set(team_path, team)
    tx.set(f"{MEMBERS}/{uid}", person)
    return {**target.as_json(), **membership, "uid": uid}


def person_principal(store: DocumentStore, uid: str) -> Principal | None:
    """The principal of a signed-in person from ``members/{uid}`` (None: no membership left)."""
    person = store.get(f"{MEMBERS}/{uid}")
    if not person:
        return None
    brand_roles = {str(b): Role(str(r)) for b, r in (person.get("brands") or {}).items()}
    agency_id = str(person.get("agency_id") or "") or None
    if agency_id and person.get("role"):
        role = Role(str(person["role"]))
        brands = agency_brands(store, agency_id) | frozenset(brand_roles)
    elif brand_roles:
        agency_id = None
        role = Role.MERCHANT_OWNER if Role.MERCHANT_OWNER in brand_roles.values() else Role.MERCHANT_VIEWER
        brands = frozenset(brand_roles)
    else:
        return None
    return Principal(name=str(person.get("email") or uid), key_hash="", agency_id=agency_id, brand_ids=brands,
                     operator=False, role=role, subject=uid, brand_roles=tuple(sorted(brand_roles.items())))


def list_members(store: DocumentStore, target: Target) -> list[dict[str, Any]]:
    """The target's members, by e-mail: ``uid``, ``email``, ``role``, ``joined_at``, ``invited_by``."""
    if target.kind == "brand":
        team = store.get(f"{BRAND_TEAMS}/{target.id}") or {}
        found = [(uid, m) for uid, m in (team.get("members") or {}).items()]
    else:
        found = [(path.rsplit("/", 1)[1], m)
                 for path, m in store.query(DocQuery(MEMBERS, [Where("agency_id", "==", target.id)]))]
    rows = [{"uid": uid, "email": m.get("email"), "role": m.get("role"), "joined_at": m.get("joined_at"),
             "invited_by": m.get("invited_by")} for uid, m in found]
    return sorted(rows, key=lambda r: (str(r["email"] or ""), r["uid"]))


def remove_member(store: DocumentStore, target: Target, uid: str) -> dict[str, Any]:
    """End the person's membership of the target; the membership as it was.

    Raises:
        IdentityError: 404 not a member of the target, 409 ``last_owner`` (a brand keeps an owner).
    """
    def remove(tx: Transaction) -> dict[str, Any]:
        person_path = f"{MEMBERS}/{uid}"
        team_path = f"{BRAND_TEAMS}/{target.id}"
        person = dict(tx.get(person_path) or {})
        if target.kind == "agency":
            if person.get("agency_id") != target.id:
                raise IdentityError(404, "unknown_member", f"{uid!r} is not a member of agency {target.id!r}")
            gone = {"uid": uid, "email": person.get("email"), "role": person.get("role")}
            for name in ("agency_id", "role", "joined_at", "invited_by"):
                person.pop(name, None)
        else:
            team = dict(tx.get(team_path) or {})
            members = dict(team.get("members") or {})
            if uid not in members:
                raise IdentityError(404, "unknown_member", f"{uid!r} is not a member of brand {target.id!r}")
            owners = [u for u, m in members.items() if m.get("role") == Role.MERCHANT_OWNER.value]
            if owners == [uid]:
                raise IdentityError(409, "last_owner", f"{members[uid].get('email')} is the last owner of "
                                    f"{target.id!r}: make someone else an owner first")
            gone = {"uid": uid, "email": members[uid].get("email"), "role": members[uid].get("role")}
            del members[uid]
            tx.set(team_path, {**team, "members": members})
            person["brands"] = {b: r for b, r in (person.get("brands") or {}).items() if b != target.id}
        if person.get("agency_id") or person.get("brands"):
            tx.set(person_path, person)
        else:
            tx.delete(person_path)
        return {**target.as_json(), **gone}

    removed: dict[str, Any] = store.transaction(remove)
    return removed
