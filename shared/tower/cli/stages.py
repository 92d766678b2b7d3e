"""The pipeline's stages as the commands run them: a progress bar per stage, then a closing status table.

``tower sync``, ``tower build`` and ``tower run`` all go the functions' way (:mod:`tower.pipeline`): a
sync ends in :func:`tower.pipeline.finish_sync`, which announces ``tower-sync-completed``; the local bus,
wired by :func:`tower.wiring.wire_local`, then runs ``build_models``, ``recommend`` and ``summarize``
exactly as Pub/Sub runs them on GCP. :class:`Stages` watches each delivery (:data:`tower.wiring.Observer`)
to draw its bar and keep one row per stage and brand for the closing table.

The command line is not bound by a function's 9 minutes, so a sync is resumed here until it is done
rather than handed to a new task.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Self

from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tower import pipeline
from tower.cli.output import PLATFORM_LABELS, console, err_console
from tower.cli.reach import looks_unreachable, unreachable_line
from tower.connectors.retry import ConnectorError
from tower.ports import Message
from tower.runtime import Runtime
from tower.sync.ads import AdSyncResult, sync_ads
from tower.sync.run import RunOptions
from tower.sync.shopify import SyncResult, sync_shopify
from tower.wiring import ENTRY_POINTS, EntryPoint, wire_local

# The bus's entry points as a person names the stage.
STAGE_OF = {"build_models": "models", "recommend": "decisions", "summarize": "summaries"}
_DRAIN_ROUNDS = 100


@dataclass
class StageRow:
    """One line of the closing table."""

    brand_id: str
    stage: str
    status: str
    detail: str
    seconds: float

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "skipped")


def _sync_detail(platform: str, result: dict[str, Any]) -> str:
    window = f"{result.get('window_start') or '?'} .. {result.get('window_end') or '?'}"
    if platform == "shopify":
        stored = ", ".join(f"{table} {n:,}" for table, n in sorted((result.get("stored") or {}).items()))
        return f"{result.get('mode')}, {result.get('requests')} requests, window {window}: {stored or 'no rows'}"
    accounts = "; ".join(f"account {a.get('account_id')} {a.get('status')}: {a.get('rows') or 0:,} rows, "
                         f"{a.get('campaigns') or 0} campaigns" + (
                             f" ({a['unmapped_campaigns']} promoting unknown products: see tower status)"
                             if a.get("unmapped_campaigns") else "")
                         for a in result.get("accounts") or [])
    return f"window {window}: {accounts}"


def _bus_detail(name: str, result: Any) -> str:
    if not isinstance(result, dict):
        return "nothing to do (unknown brand)" if result is None else ""
    if name == "build_models":
        if result.get("built") is False:
            return f"nothing to build: only today ({result.get('window_start')}) was touched, and models end yesterday"
        return f"window {result.get('window_start')} .. {result.get('window_end')}"
    if name == "recommend":
        alerts = result.get("alerts") or {}
        return (f"{len(result.get('recommendations') or [])} recommendation(s), {len(alerts.get('open') or [])} "
                f"alert(s) open, {len(alerts.get('raised') or [])} new")
    if name == "summarize":
        summary = result.get("summary") or {}
        who = "Claude" if summary.get("author") == "claude" else "the narrator"
        return f"week {result.get('week')} by {who}" + (" (cached)" if summary.get("cached") else "")
    return ""


class Stages:
    """Bars while the stages run, rows for the closing table (use as a context manager)."""

    def __init__(self) -> None:
        self.rows: list[StageRow] = []
        self._bar = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                             TextColumn("{task.fields[count]}"), TimeElapsedColumn(), console=err_console)
        self._tasks: dict[str, TaskID] = {}
        # the delivery under way (the bus delivers one at a time)
        self._brand = ""
        self._since = 0.0

    def __enter__(self) -> Self:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    @property
    def failed(self) -> bool:
        """Whether any stage failed."""
        return any(r.failed for r in self.rows)

    def _task(self, key: str, description: str, total: float | None = None) -> TaskID:
        if key not in self._tasks:
            self._tasks[key] = self._bar.add_task(description, total=total, count="")
        return self._tasks[key]

    def add(self, brand_id: str, stage: str, status: str, detail: str, started: float) -> None:
        """A finished stage's row."""
        self.rows.append(StageRow(brand_id, stage, status, detail, time.monotonic() - started))

    # -- syncs ------------------------------------------------------------------------------------
    def sync(self, runtime: Runtime, brand_id: str, platform: str, *, full: bool = False,
             since: date | None = None) -> dict[str, Any]:
        """Sync one platform of a brand until done, then finish it the pipeline's way (announced).

        Raises:
            tower.sync.connect.NotConnected: Shopify is not connected.
            tower.connectors.ad_platforms.AdSyncUsageError: An unknown platform, or no developer token.
        """
        started = time.monotonic()
        label = f"sync {PLATFORM_LABELS[platform]} · {brand_id}"
        try:
            if platform == "shopify":
                result = self._shopify(runtime, brand_id, label, full=full, since=since).as_dict()
            else:
                result = self._ads(runtime, platform, brand_id, label, full=full, since=since).as_dict()
        except ConnectorError as e:  # an ad platform kept failing; its state is saved, a rerun resumes
            detail = unreachable_line(runtime.settings, platform, brand_id) if looks_unreachable(e) else str(e)
            self.add(brand_id, f"sync {platform}", "failed", detail, started)
            return {"status": "failed", "error": detail}
        pipeline.finish_sync(runtime, brand_id, platform, result, full=full, since=since)
        status = str(result.get("status") or "ok")
        detail = _sync_detail(platform, result)
        if status != "ok":
            error = str(result.get("error") or "; ".join(
                str(a.get("error") or a.get("status")) for a in result.get("accounts") or [] if a.get("status") != "ok"))
            detail = unreachable_line(runtime.settings, platform, brand_id, str(result.get("shop_domain") or "")) \
                if looks_unreachable(error) else (error or detail)
        self.add(brand_id, f"sync {platform}", status, detail, started)
        return result

    def _shopify(self, runtime: Runtime, brand_id: str, label: str, *, full: bool,
                 since: date | None) -> SyncResult:
        task = self._task(label, label)
        rows = 0

        def progress(stage: str, n: int, total: int | None = None) -> None:
            nonlocal rows
            rows += n
            self._bar.update(task, description=f"{label}: {stage.replace('_', ' ')}", count=f"{rows:,} rows")

        options = RunOptions(progress=progress)
        result = sync_shopify(runtime, brand_id, full=full, since=since, options=options)
        while result.status == "incomplete":
            result = sync_shopify(runtime, brand_id, options=options)
        self._bar.update(task, total=1, completed=1)
        return result

    def _ads(self, runtime: Runtime, platform: str, brand_id: str, label: str, *, full: bool,
             since: date | None) -> AdSyncResult:
        task = self._task(label, label, total=None)

        def progress(account_id: str, done: int, total: int, rows: int = 0) -> None:
            self._bar.update(task, completed=done, total=total, count=f"account {account_id}: {done}/{total} chunks")

        options = RunOptions(progress=progress)
        result = sync_ads(runtime, platform, brand_id, full=full, since=since, options=options)
        while result.status == "partial":
            result = sync_ads(runtime, platform, brand_id, options=options)
        self._bar.update(task, total=1, completed=1)
        return result

    # -- the bus's stages -------------------------------------------------------------------------
    def observe(self, entry: EntryPoint, event: str, payload: Any) -> None:
        """A :data:`tower.wiring.Observer`: a bar per stage, a row per delivery."""
        stage = STAGE_OF.get(entry.name)
        if stage is None:
            return
        task = self._task(stage, stage)
        if event == "start":
            data = payload.data if isinstance(payload, Message) else {}
            self._since = time.monotonic()
            self._brand = str(data.get("brand_id") or "")
            self._bar.update(task, description=f"{stage} · {self._brand}")
            return
        done = self._bar.tasks[task].completed + 1
        self._bar.update(task, completed=done, total=done, count=f"{done:.0f} done")
        if event == "done":
            self.add(self._brand, stage, "ok", _bus_detail(entry.name, payload), self._since)
        else:
            self.add(self._brand, stage, "failed", f"{type(payload).__name__}: {payload} (left on the bus for a "
                     "retry: tower serve or the next command delivers it again)", self._since)

    def wire(self, runtime: Runtime) -> None:
        """Wire the runtime's bus and queue as on GCP, this board watching each delivery."""
        wire_local(runtime, observe=self.observe)

    def drain(self, runtime: Runtime) -> None:
        """Deliver every message due on the local bus (models, decisions, summaries, as they fan out)."""
        for _ in range(_DRAIN_ROUNDS):
            if not runtime.bus.drain():
                return

    def build(self, runtime: Runtime, brand_id: str, start: date, end: date) -> None:
        """Build the brand's models over ``[start, end)`` (the build_models handler, watched), then drain."""
        entry = ENTRY_POINTS["build_models"]
        message = Message(topic=entry.target, data={"brand_id": brand_id, "window_start": start.isoformat(),
                                                    "window_end": end.isoformat()},
                          attributes={"brand_id": brand_id}, message_id=f"build-{brand_id}-{start}-{end}")
        self.observe(entry, "start", message)
        try:
            result = entry.handler(runtime, message)
        except Exception as e:  # noqa: BLE001 - shown in the table; the command exits 1
            self.observe(entry, "failed", e)
            return
        self.observe(entry, "done", result)
        self.drain(runtime)

    def print_table(self, title: str) -> None:
        """The closing status table: one row per stage and brand."""
        table = Table(title=title, show_lines=False)
        for col in ("brand", "stage", "status", "detail", "seconds"):
            table.add_column(col, overflow="fold")
        for r in self.rows:
            colour = "green" if r.status == "ok" else ("dim" if r.status == "skipped" else "red")
            table.add_row(r.brand_id, r.stage, f"[{colour}]{r.status}[/]", r.detail, f"{r.seconds:.1f}")
        console.print(table)

