"""API keys: issued once in plain text, stored only as their SHA-256, listed, rotated and revoked.

``api_keys/{sha256 hex}`` holds ``{"name", "created_at", "key_prefix", "role", "last_used_at"}`` and
the key's scope: ``"agency_id"`` (every brand ``agencies/{id}`` lists, read per request), ``"brand_ids"``
or ``"operator"``. The key itself is never stored or logged; ``key_prefix`` (``tower_`` and the next
eight characters; four on keys issued before rotation existed) names a key in the API and the CLI.

A key is 32 random bytes, so a plain SHA-256 is the right hash: there is nothing to brute-force that a
slow password hash would protect, and a lookup by hash needs no per-key salt.

Last use is recorded at most once per :data:`LAST_USE_EVERY` per key: the document is read on every
request anyway, and its ``last_used_at`` says whether it is due, so a busy key costs one write every
few minutes, not one per request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tower.identity.roles import (
    AGENCY_ROLES,
    MERCHANT_ROLES,
    Action,
    IdentityError,
    Principal,
    Role,
    default_role,
    principal_from,
)
from tower.ports import DocQuery, Where

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore

KEY_PREFIX = "tower_"
PREFIX_CHARS = 8
COLLECTION = "api_keys"
LAST_USE_EVERY = timedelta(minutes=5)


class BadApiKeyRequest(ValueError):
    """The arguments of a new key are unusable (CLI exit 2, API 400); the message names the problem."""


def hash_key(key: str) -> str:
    """The SHA-256 hex digest of a key (its document id)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _role_for_scope(role: Role | str | None, *, agency: bool, operator: bool) -> Role:
    """The key's role: the one asked for, if it fits the scope; else the scope's default."""
    if role is None or role == "":
        return Role.OPERATOR if operator else Role.AGENCY_ADMIN if agency else Role.MERCHANT_OWNER
    try:
        chosen = Role(str(role))
    except ValueError:
        raise BadApiKeyRequest(f"unknown role {role!r}; roles are " + ", ".join(r.value for r in Role)) from None
    fits = (chosen is Role.OPERATOR) if operator else (chosen in AGENCY_ROLES) if agency else (chosen in MERCHANT_ROLES)
    if not fits:
        scope = "the operator scope" if operator else "an agency key" if agency else "a brand key"
        raise BadApiKeyRequest(f"role {chosen.value} does not fit {scope}")
    return chosen


def create_api_key(store: DocumentStore, *, agency_id: str | None = None, brand_ids: list[str] | None = None,
                   name: str, now: datetime | None = None, operator: bool = False,
                   role: Role | str | None = None) -> str:
    """Issue a key scoped to an agency, to brands or to the operator; return the plain key (shown once, never stored).

    Seven parameters: the store, then one keyword per scope, and the key's name, time and role.

    Args:
        store: The document store (``api_keys`` collection).
        agency_id: Scope: every brand of this agency.
        brand_ids: Scope: these brands.
        name: Who or what the key is for (shown in logs and on decisions as ``api:<name>``).
        now: Creation time.
        operator: Scope: the deployment's operator (agencies and their brands; no brand's data).
        role: The key's role (default: the scope's widest: operator, agency_admin, merchant_owner).

    Raises:
        BadApiKeyRequest: Not exactly one scope, an empty brand id, an empty name or a role that does
            not fit the scope.
    """
    brands = sorted({b.strip() for b in brand_ids or []})
    if sum((bool(agency_id), bool(brands), operator)) != 1:
        raise BadApiKeyRequest("give exactly one scope: an agency id, one or more brand ids, or operator")
    if brand_ids is not None and any(not b.strip() for b in brand_ids):
        raise BadApiKeyRequest("brand ids must not be empty")
    if not (name or "").strip():
        raise BadApiKeyRequest("the key needs a name (who or what it is for)")
    chosen = _role_for_scope(role, agency=bool(agency_id), operator=operator)
    doc: dict[str, Any] = {"name": name.strip(), "created_at": now or datetime.now(UTC), "role": chosen.value}
    if operator:
        doc["operator"] = True
    elif agency_id:
        doc["agency_id"] = agency_id.strip()
    else:
        doc["brand_ids"] = brands
    return _issue(store, doc)


def _issue(store: DocumentStore, doc: dict[str, Any]) -> str:
    while True:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        prefix = key[: len(KEY_PREFIX) + PREFIX_CHARS]
        if _by_prefix(store, prefix):
            continue  # the prefix names one key in the API and the CLI
        # create(), not set(): a (vanishingly unlikely) collision must not take over another key's scope
        if store.create(f"{COLLECTION}/{hash_key(key)}", {**doc, "key_prefix": prefix}):
            return key


def key_principal(store: DocumentStore, key: str, *, now: datetime) -> Principal | None:
    """The principal of a plain key (None for an unknown or revoked one); records its last use when due."""
    key_hash = hash_key(key)
    doc = store.get(f"{COLLECTION}/{key_hash}")
    if not doc:
        return None
    touch(store, key_hash, doc, now)
    return principal_from(store, doc, name=str(doc.get("name") or "key"), key_hash=key_hash)


def key_hash_principal(store: DocumentStore, key_hash: str, *, now: datetime) -> Principal | None:
    """:func:`key_principal` by the key's hash (a session started with a key keeps only the hash)."""
    doc = store.get(f"{COLLECTION}/{key_hash}")
    if not doc:
        return None
    touch(store, key_hash, doc, now)
    return principal_from(store, doc, name=str(doc.get("name") or "key"), key_hash=key_hash)


def touch(store: DocumentStore, key_hash: str, doc: dict[str, Any], now: datetime) -> bool:
    """Record the key's use if the last record is older than :data:`LAST_USE_EVERY`; whether it wrote."""
    last = doc.get("last_used_at")
    if isinstance(last, datetime):
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        if now - last < LAST_USE_EVERY:
            return False
    store.merge(f"{COLLECTION}/{key_hash}", {"last_used_at": now})
    return True


def _by_prefix(store: DocumentStore, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return store.query(DocQuery(COLLECTION, [Where("key_prefix", "==", prefix)]))


def manages(principal: Principal, doc: dict[str, Any]) -> bool:
    """Whether the principal may see and manage the key: the operator every key, an agency admin its
    agency's, a merchant owner those covering only their brands."""
    if principal.role is Role.OPERATOR:
        return True
    if principal.role is Role.AGENCY_ADMIN:
        return bool(principal.agency_id) and doc.get("agency_id") == principal.agency_id
    if principal.role is Role.MERCHANT_OWNER:
        brands = set(doc.get("brand_ids") or [])
        return bool(brands) and not doc.get("agency_id") and brands <= principal.brands_with(Action.KEYS)
    return False


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """A key as listed: never its hash, never the key."""
    return {"key_prefix": doc.get("key_prefix"), "name": doc.get("name"), "role": default_role(doc).value,
            "agency_id": doc.get("agency_id"), "brand_ids": list(doc.get("brand_ids") or []),
            "operator": doc.get("operator") is True, "created_at": doc.get("created_at"),
            "last_used_at": doc.get("last_used_at")}


def list_keys(store: DocumentStore, principal: Principal) -> list[dict[str, Any]]:
    """The keys the principal manages, newest first."""
    docs = [d for _, d in store.query(DocQuery(COLLECTION)) if manages(principal, d)]
    docs.sort(key=lambda d: (str(d.get("created_at") or ""), str(d.get("key_prefix"))), reverse=True)
    return [describe(d) for d in docs]


def _find(store: DocumentStore, principal: Principal, key_prefix: str) -> tuple[str, dict[str, Any]]:
    """The one key the prefix names among those the principal manages.

    Raises:
        IdentityError: 404 when none does (another scope's key answers alike), 409 when several do.
    """
    found = [(p, d) for p, d in _by_prefix(store, key_prefix.strip()) if manages(principal, d)]
    if not found:
        raise IdentityError(404, "unknown_api_key", f"no API key {key_prefix!r} that you manage")
    if len(found) > 1:
        raise IdentityError(409, "ambiguous_key_prefix",
                            f"{len(found)} keys share the prefix {key_prefix!r}; revoke them by rotating each")
    return found[0]


def revoke_api_key(store: DocumentStore, key: str) -> None:
    """Revoke a key its holder names in full (whoever holds a key may end it)."""
    store.delete(f"{COLLECTION}/{hash_key(key)}")


def revoke(store: DocumentStore, principal: Principal, key_prefix: str) -> dict[str, Any]:
    """Delete the key (its requests and its sessions are refused from the next one on); the key as it was.

    Raises:
        IdentityError: 404 unknown to the principal, 409 ambiguous prefix.
    """
    path, doc = _find(store, principal, key_prefix)
    store.delete(path)
    return describe(doc)


def rotate(store: DocumentStore, principal: Principal, key_prefix: str, *, now: datetime) -> tuple[str, dict[str, Any]]:
    """A new key with the old one's name, role and scope; the old one is revoked. Returns (plain key, listing).

    Raises:
        IdentityError: 404 unknown to the principal, 409 ambiguous prefix.
    """
    path, doc = _find(store, principal, key_prefix)
    fresh = {k: v for k, v in doc.items() if k in ("name", "role", "agency_id", "brand_ids", "operator")}
    key = _issue(store, {**fresh, "created_at": now, "rotated_from": doc.get("key_prefix")})
    store.delete(path)
    return key, describe(store.get(f"{COLLECTION}/{hash_key(key)}") or {})
