"""The document-store caches: recommendations, alerts, decisions and AI insights under the brand.

Layout (Firestore shape; the local adapter is SQLite)::

    brands/{brand_id}/recommendations/{rec_id}   card + status (open | accepting | applied | dismissed |
                                                 undoing | undone | failed | superseded), week, data_version
    brands/{brand_id}/alerts/{alert_id}           alert + status (open | resolved), raised_on, last_seen_on,
                                                 resolved_on, occurrences, data_version
    brands/{brand_id}/decisions/{decision_id}     accept / dismiss / undo: who, when, the budget changes
    brands/{brand_id}/insights/summary_{week}     weekly summary + data_version, author, grounding
    brands/{brand_id}/insights/explain_{week}_{alert_id}   an alert's explanation + data_version
    recommendation_index/{rec_id}                 {brand_id}: lets a bare id find its brand

Everything is keyed by ISO week and carries the data version (a hash of the figures it was made from),
so a page load only reads, and a rebuild whose figures did not change finds its cache and stops.
A recommendation someone acted on (accepted, dismissed, …) keeps its status and its card through
rebuilds of the same week: its id is stable, and only ``open`` cards are refreshed or superseded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from tower.decisions.alerts import SEVERITY_ORDER, Alert, AlertChanges
from tower.decisions.scoring import iso_week
from tower.ports import DocQuery, DocumentStore, Where

REFRESHABLE = ("open", "superseded")
ACTED = ("accepting", "applied", "dismissed", "undoing", "undone", "failed")


class NotFoundError(LookupError):
    """No recommendation (or brand document) with that id."""


def brand_doc(store: DocumentStore, brand_id: str) -> dict[str, Any]:
    """``brands/{id}`` (empty when absent)."""
    return store.get(f"brands/{brand_id}") or {}


def rec_path(brand_id: str, rec_id: str) -> str:
    return f"brands/{brand_id}/recommendations/{rec_id}"


def save_recommendations(
    store: DocumentStore, brand_id: str, week: str, data_version: str, cards: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, list[str]]:
    """Write this run's ranked cards for the week.

    New ids are created open; open ones are refreshed with the new figures; acted-on ones are left
    as they are; open cards of the week that this run no longer makes become ``superseded``.

    Returns:
        Ids by what happened: ``created``, ``refreshed``, ``kept``, ``superseded``.
    """
    existing = dict(store.query(DocQuery(f"brands/{brand_id}/recommendations", [Where("week", "==", week)])))
    existing = {path.rsplit("/", 1)[-1]: doc for path, doc in existing.items()}
    out: dict[str, list[str]] = {"created": [], "refreshed": [], "kept": [], "superseded": []}
    batch = store.batch()
    seen = set()
    for rank, card in enumerate(cards, 1):
        rec_id = str(card["id"])
        seen.add(rec_id)
        prev = existing.get(rec_id)
        if prev is not None and prev.get("status") in ACTED:
            batch.merge(rec_path(brand_id, rec_id), {"rank": rank, "last_seen_at": now})
            out["kept"].append(rec_id)
            continue
        # set, not merge: a refreshed card must not keep figures the new one no longer has
        doc = {**dict(card), "status": "open", "rank": rank, "data_version": data_version, "updated_at": now,
               "last_seen_at": now, "created_at": (prev or {}).get("created_at") or now}
        out["created" if prev is None else "refreshed"].append(rec_id)
        batch.set(rec_path(brand_id, rec_id), doc)
        batch.set(f"recommendation_index/{rec_id}", {"brand_id": brand_id, "week": week})
    for rec_id, doc in existing.items():
        if rec_id not in seen and doc.get("status") == "open":
            batch.merge(rec_path(brand_id, rec_id), {"status": "superseded", "updated_at": now})
            out["superseded"].append(rec_id)
    batch.commit()
    return out


def list_recommendations(store: DocumentStore, brand_id: str, week: str | None = None,
                         include_hidden: bool = False) -> list[dict[str, Any]]:
    """The brand's recommendations (of a week), best first; dismissed and superseded ones only if asked."""
    where = [Where("week", "==", week)] if week else []
    docs = [doc for _, doc in store.query(DocQuery(f"brands/{brand_id}/recommendations", where))]
    if not include_hidden:
        docs = [d for d in docs if d.get("status") not in ("dismissed", "superseded")]
    return sorted(docs, key=lambda d: (str(d.get("week") or ""), -(d.get("score") or 0), d.get("rank") or 99,
                                       str(d.get("id"))), reverse=False)


def find_recommendation(store: DocumentStore, rec_id: str) -> tuple[str, dict[str, Any]]:
    """A recommendation by its bare id: (brand_id, document).

    Raises:
        NotFoundError: Unknown id.
    """
    index = store.get(f"recommendation_index/{rec_id}")
    if not index:
        raise NotFoundError(f"no recommendation {rec_id!r}")
    doc = store.get(rec_path(index["brand_id"], rec_id))
    if not doc:
        raise NotFoundError(f"no recommendation {rec_id!r}")
    return index["brand_id"], doc


def alert_path(brand_id: str, alert_id: str) -> str:
    return f"brands/{brand_id}/alerts/{alert_id}"


def stored_alerts(store: DocumentStore, brand_id: str) -> dict[str, dict[str, Any]]:
    """Every stored alert of the brand by id."""
    return {path.rsplit("/", 1)[-1]: doc for path, doc in store.query(DocQuery(f"brands/{brand_id}/alerts"))}


def save_alerts(store: DocumentStore, brand_id: str, changes: AlertChanges, today: date, data_version: str,
                now: datetime, existing: Mapping[str, Mapping[str, Any]]) -> None:
    """Write raised (new or re-opened), still-open (refreshed figures) and resolved alerts.

    Seven parameters: the store and brand, the changes to write, the day and data version they are of,
    the time of writing, and the alerts already stored (read once by the caller, which also needs them).

    An alert the summarize step has already explained this week gets its explanation here: the two
    steps answer the same event in either order, and whichever writes second joins the two
    (:func:`explanation_fields`).
    """
    batch = store.batch()
    day = today.isoformat()
    week = iso_week(today)
    for a in changes.raised:
        prev = existing.get(a.id) or {}
        batch.set(alert_path(brand_id, a.id), {
            **_alert_doc(a), "status": "open", "raised_on": day, "last_seen_on": day, "resolved_on": None,
            "occurrences": int(prev.get("occurrences") or 0) + 1, "data_version": data_version, "updated_at": now,
            **explanation_fields(store.get(explanation_path(brand_id, week, a.id))),
        })
    for a in changes.still_open:
        batch.merge(alert_path(brand_id, a.id), {**_alert_doc(a), "last_seen_on": day, "data_version": data_version,
                                                 "updated_at": now,
                                                 **explanation_fields(store.get(explanation_path(brand_id, week, a.id)))})
    for alert_id in changes.resolved:
        batch.merge(alert_path(brand_id, alert_id), {"status": "resolved", "resolved_on": day, "updated_at": now})
    batch.commit()


def _alert_doc(a: Alert) -> dict[str, Any]:
    return a.to_dict()


def list_alerts(store: DocumentStore, brand_id: str, status: str | None = "open") -> list[dict[str, Any]]:
    """The brand's alerts (open by default), most severe first."""
    where = [Where("status", "==", status)] if status else []
    docs = [doc for _, doc in store.query(DocQuery(f"brands/{brand_id}/alerts", where))]
    return sorted(docs, key=lambda d: (SEVERITY_ORDER.get(str(d.get("severity")), 9), str(d.get("type")),
                                       str(d.get("id"))))


def summary_path(brand_id: str, week: str) -> str:
    return f"brands/{brand_id}/insights/summary_{week}"


def explanation_path(brand_id: str, week: str, alert_id: str) -> str:
    return f"brands/{brand_id}/insights/explain_{week}_{alert_id}"


def explanation_fields(explanation: Mapping[str, Any] | None) -> dict[str, Any]:
    """What an alert document shows of its stored explanation (nothing when there is none yet)."""
    if not explanation or not explanation.get("explanation"):
        return {}
    return {"ai_explanation": explanation["explanation"], "ai_explanation_author": explanation.get("author")}


def cached(store: DocumentStore, path: str, data_version: str) -> dict[str, Any] | None:
    """The cached insight at path if it was made from the same data version."""
    doc = store.get(path)
    return doc if doc and doc.get("data_version") == data_version else None


def latest_summary(store: DocumentStore, brand_id: str) -> dict[str, Any] | None:
    """The newest weekly summary of the brand (what a page load shows; never calls Claude)."""
    docs = [d for _, d in store.query(DocQuery(f"brands/{brand_id}/insights", [Where("kind", "==", "summary")]))]
    return max(docs, key=lambda d: str(d.get("week"))) if docs else None
