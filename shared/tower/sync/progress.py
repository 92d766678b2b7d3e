"""A sync's progress as it goes, per brand and platform, for the onboarding wizard's live view.

One document per (brand, platform), ``sync_progress/<brand>~<platform>``, written by a
:class:`ProgressRecorder` that the pipeline's sync tasks pass to the sync as its ``progress`` callback
(:class:`tower.sync.run.RunOptions`), so it moves page by page (Shopify) and chunk by chunk (ads), not
only at the end; :func:`finish` stamps the outcome when the call returns. A call the deadline cut short
(``partial``) keeps its start and its counts: the task that resumes it goes on from there.

:func:`report` turns a document into what ``GET /api/brands/<id>/sync-progress`` answers: the stage, the
rows stored, when it started, the time left (``eta_seconds``: the work left over the rate so far, or
None while there is nothing to measure it by), the status, and an error that says what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from tower.ports import DocumentStore
from tower.redact import redact
from tower.sync.run import SyncPorts
from tower.sync.state import utc_now

COLLECTION = "sync_progress"
RUNNING = ("running", "partial")
_FIX = {
    "needs_reauth": "the platform refused the access this product was given: connect the account again "
                    "(onboarding, the ad accounts step, or `tower connect`)",
    "failed": "the sync is tried again at the next hourly round; if it keeps failing, `tower status` shows why",
}


def doc_path(brand_id: str, platform: str) -> str:
    key = f"{brand_id}~{platform}".replace("/", "-")  # a "/" in an id would open a sub-collection
    return f"{COLLECTION}/{key}"


class ProgressRecorder:
    """Writes one platform's sync progress for a brand as the sync reports it.

    Shopify reports ``(stage, rows[, total])`` (``total``: the orders the window holds, when counted); the
    ad sync ``(account_id, chunks_done, chunks_total[, rows])``. Either way the document carries the
    stage, the rows so far, and a measure of work ``done``/``total`` with the time it started, which the
    reader turns into a rate.
    """

    def __init__(self, store: DocumentStore, brand_id: str, platform: str,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.store, self.brand_id, self.platform, self.now = store, brand_id, platform, now
        self.path = doc_path(brand_id, platform)
        self._accounts: dict[str, tuple[int, int, int]] = {}
        self.doc: dict[str, Any] = {}

    def start(self) -> None:
        """A sync call begins: resume a cut-off one's counts, else start afresh."""
        old = self.store.get(doc_path(self.brand_id, self.platform)) or {}
        at = self.now()
        if old.get("status") in RUNNING:
            self.doc = {**old, "status": "running", "updated_at": at}
            self._accounts = {k: (int(v[0]), int(v[1]), int(v[2])) for k, v in (old.get("accounts") or {}).items()}
        else:
            self.doc = {"brand_id": self.brand_id, "platform": self.platform, "status": "running",
                        "stage": "starting", "rows": 0, "done": 0, "total": None, "started_at": at,
                        "measured_from": None, "updated_at": at, "finished_at": None, "error": None}
        self.store.set(self.path, self.doc)

    def __call__(self, *args: Any) -> None:
        """The sync's ``progress`` callback (either platform's shape)."""
        if not self.doc:
            self.start()
        if self.platform == "shopify":
            self._shopify(str(args[0]), int(args[1]), args[2] if len(args) > 2 else None)
        else:
            self._ads(str(args[0]), int(args[1]), int(args[2]), int(args[3]) if len(args) > 3 else 0)
        self.doc["updated_at"] = self.now()
        self.store.set(self.path, self.doc)

    def _shopify(self, stage: str, rows: int, total: Any) -> None:
        self.doc["stage"] = stage
        self.doc["rows"] = int(self.doc.get("rows") or 0) + rows
        if stage == "orders":
            # the orders are the bulk of a first sync and the one stage with a known size
            if total is not None:
                self.doc["total"] = int(total)
            if self.doc.get("measured_from") is None:
                self.doc["measured_from"] = self.now()
            self.doc["done"] = int(self.doc.get("done") or 0) + rows

    def _ads(self, account_id: str, done: int, total: int, rows: int) -> None:
        self._accounts[account_id] = (done, total, rows)
        self.doc["stage"] = f"account {account_id}: chunk {min(done + 1, total)} of {total}"
        self.doc["accounts"] = {k: list(v) for k, v in self._accounts.items()}
        self.doc["done"] = sum(v[0] for v in self._accounts.values())
        self.doc["total"] = sum(v[1] for v in self._accounts.values())
        self.doc["rows"] = sum(v[2] for v in self._accounts.values())
        if self.doc.get("measured_from") is None:
            self.doc["measured_from"] = self.doc["started_at"]


def finish(store: DocumentStore, brand_id: str, platform: str, result: Mapping[str, Any], now: datetime) -> None:
    """Stamp a sync call's outcome (the pipeline's ``finish_sync``); ``partial`` leaves it resumable."""
    path = doc_path(brand_id, platform)
    doc = store.get(path) or {"brand_id": brand_id, "platform": platform, "started_at": now, "rows": 0,
                              "done": 0, "total": None, "measured_from": None}
    status = str(result.get("status") or "ok")
    error = result.get("error") or "; ".join(
        str(a.get("error")) for a in result.get("accounts") or [] if a.get("error"))
    if not doc.get("rows"):
        # a sync nobody recorded as it went (the CLI's): its result's counts
        stored = result.get("stored") or {}
        doc["rows"] = sum(int(v or 0) for v in stored.values()) if isinstance(stored, Mapping) else 0
        doc["rows"] += sum(int(a.get("rows") or 0) for a in result.get("accounts") or [])
    doc.update({"status": status, "updated_at": now, "error": redact(str(error)) if error else None})
    if status not in RUNNING:
        doc.update({"finished_at": now, "stage": "done" if status == "ok" else doc.get("stage")})
    if status == "ok" and doc.get("total") is not None:
        doc["done"] = doc["total"]
    store.set(path, doc)


def failed(store: DocumentStore, brand_id: str, platform: str, error: str, now: datetime) -> None:
    """A sync call raised (the queue retries it): show it as failed until the retry starts."""
    finish(store, brand_id, platform, {"status": "failed", "error": error}, now)


def _eta(doc: Mapping[str, Any], now: datetime) -> float | None:
    if doc.get("status") == "ok":
        return 0.0
    done, total, since = doc.get("done") or 0, doc.get("total"), doc.get("measured_from")
    if doc.get("status") not in RUNNING or not total or not done or since is None:
        return None
    elapsed = (now - since).total_seconds()
    if elapsed <= 0:
        return None
    left = max(0, int(total) - int(done))
    return round(left / (int(done) / elapsed), 1)


def report(store: DocumentStore, brand_id: str, platforms: list[str], now: datetime) -> list[dict[str, Any]]:
    """Each platform's progress, in the order given: ``status`` ``not_started`` before its first sync."""
    out: list[dict[str, Any]] = []
    for platform in platforms:
        doc = store.get(doc_path(brand_id, platform))
        if not doc:
            out.append({"platform": platform, "status": "not_started", "stage": None, "rows": 0,
                        "started_at": None, "eta_seconds": None, "error": None})
            continue
        status = str(doc.get("status"))
        error = None
        if status in _FIX:
            error = {"code": status, "message": doc.get("error") or status.replace("_", " "), "fix": _FIX[status]}
        out.append({"platform": platform, "status": "running" if status == "partial" else status,
                    "stage": doc.get("stage"), "rows": int(doc.get("rows") or 0),
                    "done": doc.get("done"), "total": doc.get("total"),
                    "started_at": doc.get("started_at"), "finished_at": doc.get("finished_at"),
                    "eta_seconds": _eta(doc, now), "error": error})
    return out


def recording(ports: SyncPorts, brand_id: str, platform: str = "shopify") -> ProgressRecorder | None:
    """A started recorder for a pipeline sync task, or None when the ports have no document store."""
    store = ports.store
    if store is None:
        return None
    recorder = ProgressRecorder(store, brand_id, platform)
    recorder.start()
    return recorder
