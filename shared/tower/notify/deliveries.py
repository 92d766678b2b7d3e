"""The delivery log: every alert and digest sent, held, skipped, retried or given up on.

One document per (recipient, alert and day raised) or (recipient, digest week) in
``notify_deliveries/{delivery_id}``::

    {delivery_id, kind: "alert" | "digest", agency_id, recipient_id, channel, status, reason,
     brand_id, alert_id, alert_type, severity, title, period, local_date, attempts, last_error,
     created_at, updated_at, sent_at, digest_id}

``status`` is ``sent``, ``held`` (waiting for the next digest), ``rolled`` (listed in a digest since),
``skipped`` (muted, a duplicate, …), ``retrying`` or ``dead`` (every attempt failed: a dead letter,
shown on the page and in ``tower status``). The id is natural, so a redelivered message or a re-run
digest finds its document and does not send twice.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from tower.ports import DocQuery, DocumentStore, Where
from tower.redact import redact
from tower.retry import RetryPolicy

log = logging.getLogger(__name__)

COLLECTION = "notify_deliveries"
STATUSES = ("sent", "held", "rolled", "skipped", "retrying", "dead")
DONE = ("sent", "dead", "skipped", "rolled")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class SendError(RuntimeError):
    """A send that failed; ``permanent`` when another attempt would fail the same way (a bad address)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def delivery_id(kind: str, *parts: str) -> str:
    """A document id from the kind and the natural key's parts (characters a path cannot hold become ``_``)."""
    return "--".join(_UNSAFE.sub("_", p) for p in (kind, *parts))[:500]


def delivery_path(doc_id: str) -> str:
    """``notify_deliveries/{delivery_id}``."""
    return f"{COLLECTION}/{doc_id}"


def get(store: DocumentStore, doc_id: str) -> dict[str, Any] | None:
    """The delivery's document, or None."""
    return store.get(delivery_path(doc_id))


def record(store: DocumentStore, doc_id: str, fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Create or update the delivery's document; the document afterwards."""
    existing = get(store, doc_id) or {}
    doc = {"delivery_id": doc_id, "attempts": 0, "last_error": None, "sent_at": None,
           "created_at": now.isoformat(), **existing, **fields, "updated_at": now.isoformat()}
    store.set(delivery_path(doc_id), doc)
    return doc


def attempt(store: DocumentStore, doc_id: str, send: Callable[[], Any], *, attempts: int, retry_seconds: float,
            now: Callable[[], datetime], sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Send through the product's retry policy, logging each attempt; the document afterwards.

    Seven parameters: the store, the delivery and its send, the policy's two numbers, the clock and the sleep.

    A delivery already ``sent`` or ``dead`` is not sent again (a redelivered message). A failure is
    retried up to ``attempts`` times in all, backing off from ``retry_seconds`` (a permanent
    :class:`SendError` is not retried); when none succeeds the delivery is ``dead``.
    """
    doc = get(store, doc_id) or {}
    if doc.get("status") in ("sent", "dead"):
        return doc

    def once() -> Any:
        tried = int((get(store, doc_id) or {}).get("attempts") or 0) + 1
        try:
            result = send()
        except Exception as e:
            record(store, doc_id, {"status": "retrying", "attempts": tried,
                                   "last_error": redact(f"{type(e).__name__}: {e}")[:500]}, now())
            raise
        record(store, doc_id, {"status": "sent", "attempts": tried, "sent_at": now().isoformat(),
                               "last_error": None}, now())
        return result

    policy = RetryPolicy(attempts=max(1, attempts), base_seconds=retry_seconds, max_seconds=max(retry_seconds, 60.0),
                         jitter=False, sleep=sleep)
    try:
        policy.run(once, retry_on=lambda e: not getattr(e, "permanent", False))
    except Exception:  # noqa: BLE001 - every attempt failed: a dead letter, kept with its last error for the page
        doc = record(store, doc_id, {"status": "dead"}, now())
        log.warning("notification dead-lettered", extra={"delivery_id": doc_id, "attempts": doc.get("attempts")})
        return doc
    return get(store, doc_id) or {}


def of_recipient(store: DocumentStore, recipient_id: str) -> list[dict[str, Any]]:
    """Every delivery to one recipient."""
    return [d for _, d in store.query(DocQuery(COLLECTION, [Where("recipient_id", "==", recipient_id)]))]


def of_agency(store: DocumentStore, agency_id: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """An agency's deliveries, newest first."""
    docs = [d for _, d in store.query(DocQuery(COLLECTION, [Where("agency_id", "==", agency_id)]))]
    return sorted(docs, key=lambda d: (str(d.get("updated_at")), str(d.get("delivery_id"))), reverse=True)[:limit]


def sent_on(docs: Iterable[Mapping[str, Any]], local_date: str) -> int:
    """How many alerts of these deliveries were sent on the recipient's local day ``local_date``."""
    return sum(1 for d in docs if d.get("kind") == "alert" and d.get("status") == "sent"
               and d.get("local_date") == local_date)


def last_sent(docs: Iterable[Mapping[str, Any]], brand_id: str, alert_id: str) -> datetime | None:
    """When this alert was last sent (None: never), among these deliveries."""
    times = [datetime.fromisoformat(str(d["sent_at"])) for d in docs
             if d.get("kind") == "alert" and d.get("status") == "sent" and d.get("sent_at")
             and d.get("brand_id") == brand_id and d.get("alert_id") == alert_id]
    return max(times, default=None)


def held(docs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The held alerts among these deliveries, oldest first."""
    return sorted((dict(d) for d in docs if d.get("kind") == "alert" and d.get("status") == "held"),
                  key=lambda d: str(d.get("created_at")))


def status_counts(store: DocumentStore) -> dict[str, int]:
    """How many deliveries are in each status (``tower status``)."""
    counts = Counter(str(d.get("status")) for _, d in store.query(DocQuery(COLLECTION)))
    return {s: counts.get(s, 0) for s in STATUSES}


def dead_letters(store: DocumentStore, *, limit: int = 20) -> list[dict[str, Any]]:
    """The dead-lettered deliveries, newest first."""
    docs = [d for _, d in store.query(DocQuery(COLLECTION, [Where("status", "==", "dead")]))]
    return sorted(docs, key=lambda d: str(d.get("updated_at")), reverse=True)[:limit]
