"""Single-use nonces in the document store: an OAuth flow's ``state`` is read and deleted at once.

The Shopify install (:mod:`tower.sync.install`) and the ad platforms' OAuth (:mod:`tower.sync.ad_oauth`)
both keep their state nonces as documents; :func:`take_once` is how a callback uses one up, so two
callbacks racing with the same state cannot both find it.
"""

from __future__ import annotations

from typing import Any

from tower.ports import DocumentStore, Transaction


def take_once(store: DocumentStore, path: str) -> dict[str, Any] | None:
    """The document at ``path``, deleted in the same transaction (None: there was none, or it was taken)."""

    def take(tx: Transaction) -> dict[str, Any] | None:
        doc = tx.get(path)
        if doc is not None:
            tx.delete(path)
        return doc

    return store.transaction(take)
