"""API keys: issued once in plain text, stored only as their SHA-256, checked on every request.

``api_keys/{sha256 hex}`` holds ``{"name", "created_at", "key_prefix"}`` and the key's scope: either
``"agency_id"`` (every brand the agency document ``agencies/{id}`` lists, read at request time so a
brand added to the agency is visible at once), ``"brand_ids"`` (those brands only) or ``"operator"``
(whoever runs the deployment: it may register agencies and attach brands to them, and reads no
brand's data). The key itself
is never stored or logged; ``key_prefix`` (its first characters) lets a person tell keys apart.

A key is 32 random bytes, so a plain SHA-256 is the right hash: there is nothing to brute-force
that a slow password hash would protect, and a lookup by hash needs no per-key salt.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tower.api.errors import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore

KEY_PREFIX = "tower_"
COLLECTION = "api_keys"
_AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="tower"'}


class BadApiKeyRequest(ValueError):
    """The arguments of a new key are unusable (CLI exit 2); the message names the problem."""


def hash_key(key: str) -> str:
    """The SHA-256 hex digest of a key (its document id)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(store: DocumentStore, *, agency_id: str | None = None, brand_ids: list[str] | None = None,
                   name: str, now: datetime | None = None, operator: bool = False) -> str:
    """Issue a key scoped to an agency, to brands or to the operator; return the plain key (shown once, never stored).

    Six parameters: the store, then one keyword per scope and the key's name and time.

    Args:
        store: The document store (``api_keys`` collection).
        agency_id: Scope: every brand of this agency.
        brand_ids: Scope: these brands.
        name: Who or what the key is for (shown in logs and on decisions as ``api:<name>``).
        now: Creation time.
        operator: Scope: the deployment's operator (agencies and their brands; no brand's data).

    Raises:
        BadApiKeyRequest: Not exactly one scope, an empty brand id or an empty name.
    """
    brands = sorted({b.strip() for b in brand_ids or []})
    if sum((bool(agency_id), bool(brands), operator)) != 1:
        raise BadApiKeyRequest("give exactly one scope: an agency id, one or more brand ids, or operator")
    if brand_ids is not None and any(not b.strip() for b in brand_ids):
        raise BadApiKeyRequest("brand ids must not be empty")
    if not (name or "").strip():
        raise BadApiKeyRequest("the key needs a name (who or what it is for)")
    doc: dict[str, Any] = {"name": name.strip(), "created_at": now or datetime.now(UTC)}
    if operator:
        doc["operator"] = True
    elif agency_id:
        doc["agency_id"] = agency_id.strip()
    else:
        doc["brand_ids"] = brands
    while True:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        # create(), not set(): a (vanishingly unlikely) collision must not take over another key's scope
        if store.create(f"{COLLECTION}/{hash_key(key)}", {**doc, "key_prefix": key[: len(KEY_PREFIX) + 4]}):
            return key


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's name and the brands it may see."""

    name: str
    key_hash: str
    agency_id: str | None
    brand_ids: frozenset[str] = field(default_factory=frozenset)
    operator: bool = False

    @property
    def actor(self) -> str:
        """How decisions record who asked (``requested_by``)."""
        return f"api:{self.name}"

    def may_see(self, brand_id: str) -> bool:
        return brand_id in self.brand_ids


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header.

    Raises:
        ApiError: 401 when the header is missing or not a bearer token.
    """
    if not header:
        raise ApiError(401, "unauthorized", "missing Authorization header; send 'Authorization: Bearer <api key>'",
                       headers=_AUTH_HEADERS)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "the Authorization header must be 'Bearer <api key>'",
                       headers=_AUTH_HEADERS)
    return token.strip()


def authenticate(store: DocumentStore, header: str | None) -> Caller:
    """The caller behind an Authorization header.

    Raises:
        ApiError: 401 for a missing, malformed or unknown key.
    """
    key_hash = hash_key(bearer_token(header))
    doc = store.get(f"{COLLECTION}/{key_hash}")
    if not doc:
        raise ApiError(401, "unauthorized", "unknown API key", headers=_AUTH_HEADERS)
    agency_id = doc.get("agency_id") or None
    if agency_id:
        agency = store.get(f"agencies/{agency_id}") or {}
        brands = frozenset(str(b) for b in agency.get("brand_ids") or [])
    else:
        brands = frozenset(str(b) for b in doc.get("brand_ids") or [])
    return Caller(name=str(doc.get("name") or "key"), key_hash=key_hash, agency_id=agency_id, brand_ids=brands,
                  operator=doc.get("operator") is True)


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
