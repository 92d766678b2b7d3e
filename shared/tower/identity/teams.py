"""A brand's people forgotten when its shop is erased (``shop/redact``, 48 hours after the uninstall).

The team's e-mail addresses are personal data, and nobody should keep reaching a brand whose shop asked
to be forgotten. So every membership of the brand goes (``brand_members/{brand}`` and the brand's entry
in each person's ``members/{uid}``; a person left with no role at all loses the document), with the
brand's pending invitations, the sessions of its members and those a Shopify session token or the
install opened for the brand. An API key that reaches only this brand
is revoked; one that reaches other brands too loses this one. Agency members keep their agency: which
brands an agency holds is the operator's to change (:mod:`tower.agencies`).

Each step reads what is left, so a redelivered ``shop/redact`` finds nothing more to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tower.identity import sessions
from tower.identity.memberships import BRAND_TEAMS, MEMBERS
from tower.ports import DocQuery, Where

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore, Transaction

# The collections this reads, named here so the writers check (tests/unit/core/test_writers.py) can
# follow them; each equals its module's COLLECTION (the test of this module says so).
INVITATIONS = "invitations"
API_KEYS = "api_keys"
SESSIONS = "sessions"


def _leave(store: DocumentStore, uid: str, brand_id: str) -> None:
    def drop(tx: Transaction) -> None:
        path = f"{MEMBERS}/{uid}"
        person = dict(tx.get(path) or {})
        person["brands"] = {b: r for b, r in (person.get("brands") or {}).items() if b != brand_id}
        if person.get("agency_id") or person["brands"]:
            tx.set(path, person)
        else:
            tx.delete(path)

    store.transaction(drop)


def forget_brand_people(store: DocumentStore, brand_id: str) -> dict[str, int]:
    """Remove every way a person reaches the brand; how many members, invitations, keys and sessions went."""
    team = store.get(f"{BRAND_TEAMS}/{brand_id}") or {}
    uids = sorted((team.get("members") or {}).keys())
    ended = 0
    for uid in uids:
        _leave(store, uid, brand_id)
        ended += sessions.end_user_sessions(store, uid)
    store.delete(f"{BRAND_TEAMS}/{brand_id}")
    pending = store.query(DocQuery(INVITATIONS, [Where("brand_id", "==", brand_id)]))
    for path, _ in pending:
        store.delete(path)
    revoked = 0
    for path, doc in store.query(DocQuery(API_KEYS, [Where("brand_ids", "array_contains", brand_id)])):
        left: list[Any] = [b for b in doc.get("brand_ids") or [] if b != brand_id]
        if left or doc.get("agency_id") or doc.get("operator"):
            store.set(path, {**doc, "brand_ids": left})
        else:
            store.delete(path)
            revoked += 1
    # Sessions stored with their scope (a Shopify session token's merchant, an install's): a rare event
    # over the sessions there are, so they are read whole rather than indexed by a nested field.
    for path, doc in store.query(DocQuery(SESSIONS)):
        if brand_id in ((doc.get("scope") or {}).get("brand_ids") or []):
            store.delete(path)
            ended += 1
    return {"members": len(uids), "invitations": len(pending), "api_keys_revoked": revoked,
            "sessions_ended": ended}
