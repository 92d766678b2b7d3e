"""The five roles, the principal a request acts as, and what each role may do.

=================  ==========================================================================
merchant_owner     their brands: read, decide (Accept/Dismiss/Undo), settings, their brands' keys and
                   people (invite, list, remove)
merchant_viewer    their brands, read only (asking a question is reading)
agency_admin       the agency's brands: read, decide, settings; invitations, keys, notifications
agency_member      the agency's brands: read and decide; no invitations, keys or notification setup
operator           the deployment: agencies and which brands they hold, every key, invitations (an
                   agency's first admin, a brand's first owner) and people; no brand's data
=================  ==========================================================================

An agency principal's brands are read from ``agencies/{id}`` on every request, so a brand attached to
the agency is visible at once and a detached one at once invisible.

**A person with several memberships** (:mod:`tower.identity.memberships`: brands they were invited
into, and at most one agency) is one principal: ``brand_ids`` is every brand they reach, and
``brand_roles`` their role on each brand they hold directly. On a brand-scoped request the API acts
with :meth:`Principal.for_brand`: the direct role on that brand, else the principal's ``role``. That
``role`` (what brand-less routes see: keys, the agency's screens) is the agency role when they belong to
an agency, else merchant_owner when they own any brand, else merchant_viewer; what a brand-less route
lets them touch is limited to the brands where their role on it allows (:meth:`Principal.brands_with`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore


class Role(StrEnum):
    """A principal's role."""

    MERCHANT_OWNER = "merchant_owner"
    MERCHANT_VIEWER = "merchant_viewer"
    AGENCY_ADMIN = "agency_admin"
    AGENCY_MEMBER = "agency_member"
    OPERATOR = "operator"


class Action(StrEnum):
    """What a request does, as far as roles are concerned."""

    READ = "read"  # any GET, and asking a question
    DECIDE = "decide"  # Accept, Dismiss, Undo a recommendation
    SETTINGS = "settings"  # a brand's settings, location regions, plan, ad-platform grants and accounts
    AGENCY_SETUP = "agency_setup"  # the agency's recipients and mutes
    INVITE = "invite"  # invite people into an agency, list and remove its members
    TEAM = "team"  # a brand's people: invite, list, remove
    KEYS = "keys"  # create, rotate, revoke API keys
    OPERATE = "operate"  # register agencies, attach brands


AGENCY_ROLES = frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER})
MERCHANT_ROLES = frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_VIEWER})

_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.MERCHANT_OWNER: frozenset({Action.READ, Action.DECIDE, Action.SETTINGS, Action.KEYS, Action.TEAM}),
    Role.MERCHANT_VIEWER: frozenset({Action.READ}),
    Role.AGENCY_ADMIN: frozenset({Action.READ, Action.DECIDE, Action.SETTINGS, Action.AGENCY_SETUP,
                                  Action.INVITE, Action.KEYS}),
    Role.AGENCY_MEMBER: frozenset({Action.READ, Action.DECIDE}),
    Role.OPERATOR: frozenset({Action.READ, Action.OPERATE, Action.KEYS, Action.INVITE, Action.TEAM}),
}


class IdentityError(Exception):
    """A refusal the API answers as JSON (``status``, ``code``) and the CLI as exit 2 (``message``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def parse_role(value: str | None) -> Role:
    """A role from its name.

    Raises:
        IdentityError: 400 naming the roles there are.
    """
    try:
        return Role(str(value or "").strip())
    except ValueError:
        raise IdentityError(400, "invalid_role", f"unknown role {value!r}; roles are "
                            + ", ".join(r.value for r in Role)) from None


@dataclass(frozen=True)
class Principal:
    """Who is calling: a name for the record, a role, and the brands the role applies to.

    ``key_hash`` is the API key's hash when the principal came from a key (a key's sessions end with
    the key); ``subject`` the Firebase uid or the Shopify shop otherwise; ``session_id`` the hash of the
    session it arrived with (None for a bearer key).
    """

    name: str
    key_hash: str
    agency_id: str | None
    brand_ids: frozenset[str] = field(default_factory=frozenset)
    operator: bool = False
    role: Role = Role.MERCHANT_OWNER
    subject: str = ""
    session_id: str | None = None
    brand_roles: tuple[tuple[str, Role], ...] = ()

    @property
    def actor(self) -> str:
        """How decisions record who asked (``requested_by``)."""
        if self.key_hash:
            return f"api:{self.name}"
        return f"user:{self.subject or self.name}"

    def may_see(self, brand_id: str) -> bool:
        """Whether the brand is in the principal's scope."""
        return brand_id in self.brand_ids

    def may(self, action: Action) -> bool:
        """Whether the role allows the action (scope is checked apart)."""
        return action in _ALLOWED[self.role]

    def role_on(self, brand_id: str) -> Role:
        """The role the principal acts with on the brand: a direct membership's, else ``role``."""
        return dict(self.brand_roles).get(brand_id, self.role)

    def for_brand(self, brand_id: str) -> Principal:
        """The principal as a request scoped to the brand sees it (its role on that brand)."""
        role = self.role_on(brand_id)
        return self if role is self.role else replace(self, role=role)

    def brands_with(self, action: Action) -> frozenset[str]:
        """The brands in scope where the principal's role on the brand allows the action."""
        return frozenset(b for b in self.brand_ids if action in _ALLOWED[self.role_on(b)])

    def as_json(self) -> dict[str, Any]:
        """What ``/api/session`` answers about the principal (no hash, no session id)."""
        return {"name": self.name, "role": self.role.value, "agency_id": self.agency_id,
                "brand_ids": sorted(self.brand_ids), "via": "api_key" if self.key_hash else "sign_in",
                "brand_roles": {b: self.role_on(b).value for b in sorted(self.brand_ids)}}


def default_role(doc: Mapping[str, Any]) -> Role:
    """The role of a key or session document: its ``role``, else what its scope always allowed.

    Keys issued before roles existed keep every right they had: an operator key is the operator, an
    agency key the agency's admin (it managed recipients), a brand key the brands' owner.
    """
    if doc.get("role"):
        return Role(str(doc["role"]))
    if doc.get("operator") is True:
        return Role.OPERATOR
    if doc.get("agency_id"):
        return Role.AGENCY_ADMIN
    return Role.MERCHANT_OWNER


def agency_brands(store: DocumentStore, agency_id: str) -> frozenset[str]:
    """The brands ``agencies/{id}`` lists now."""
    agency = store.get(f"agencies/{agency_id}") or {}
    return frozenset(str(b) for b in agency.get("brand_ids") or [])


def principal_from(store: DocumentStore, doc: Mapping[str, Any], *, name: str, key_hash: str = "",
                   subject: str = "") -> Principal:
    """The principal a key, membership or session document describes (agency brands read now)."""
    role = default_role(doc)
    agency_id = str(doc.get("agency_id") or "") or None
    brands: Iterable[str] = agency_brands(store, agency_id) if agency_id else doc.get("brand_ids") or []
    return Principal(name=name, key_hash=key_hash, agency_id=agency_id, brand_ids=frozenset(str(b) for b in brands),
                     operator=role is Role.OPERATOR, role=role, subject=subject)


def scope_doc(principal: Principal) -> dict[str, Any]:
    """The principal's role and scope as stored (agency brands are not frozen in: they are read per request)."""
    doc: dict[str, Any] = {"role": principal.role.value}
    if principal.role is Role.OPERATOR:
        doc["operator"] = True
    elif principal.agency_id:
        doc["agency_id"] = principal.agency_id
    else:
        doc["brand_ids"] = sorted(principal.brand_ids)
    return doc


def with_session(principal: Principal, session_id: str) -> Principal:
    """The principal as it arrived through a session."""
    return replace(principal, session_id=session_id)
