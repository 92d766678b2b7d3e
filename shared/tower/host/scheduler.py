"""A local scheduler firing the very schedule Terraform declares: the ``schedule:<cron>`` entries of the wiring.

Cloud Scheduler calls each scheduled function on its cron, read in the scheduler's time zone (UTC,
``scheduler_time_zone`` in Terraform). Here a thread does the same: it sleeps until the next minute
any cron names, then calls each due entry's handler on the runtime, as the function would.

What it last fired is kept in the document store (``local_scheduler/<entry>``), because a local
process is not always running: on start, an entry whose latest firing time passed while nobody was
here (or that never fired) fires once at once, as ``anacron`` catches up, rather than waiting up to
an hour, or a day, for its next slot. Every scheduled handler is idempotent (the hourly sync tasks
are named by the hour), so a slot fired twice does no harm.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tower.cron import Cron
from tower.redact import at_edge, redact
from tower.runtime import Runtime
from tower.wiring import EntryPoint, of_kind

log = logging.getLogger(__name__)

COLLECTION = "local_scheduler"
# Woken at least this often, so a clock that jumps (a laptop waking) is noticed within a minute.
_MAX_SLEEP_SECONDS = 60.0


@dataclass(frozen=True)
class Firing:
    """One entry fired for one slot: its result, or the error it raised (masked)."""

    entry: str
    slot: datetime
    result: Any = None
    error: str | None = None


class LocalScheduler:
    """Fires the schedule entries on a runtime (:meth:`run_due` once; :meth:`start` in a thread).

    Args:
        runtime: The ports the handlers use.
        entries: The entries to fire (default: every ``schedule`` entry of the wiring).
        clock: The time now, in UTC.
        catch_up: On the first check, fire an entry whose latest slot was never fired (default: yes).
    """

    def __init__(self, runtime: Runtime, entries: Sequence[EntryPoint] | None = None, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), catch_up: bool = True) -> None:
        self.runtime = runtime
        self.entries = list(of_kind("schedule") if entries is None else entries)
        self.crons = {e.name: Cron.parse(e.target) for e in self.entries}
        self.clock = clock
        self.catch_up = catch_up
        self.fired: list[Firing] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at: datetime | None = None

    def _last_fired(self, name: str) -> datetime | None:
        doc = self.runtime.store.get(f"{COLLECTION}/{name}") or {}
        value = doc.get("fired_for")
        if value is None:
            return None
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    def due(self, now: datetime) -> list[tuple[EntryPoint, datetime]]:
        """The entries to fire now, each with the slot it fires for (its latest firing time)."""
        out = []
        for entry in self.entries:
            slot = self.crons[entry.name].last_at_or_before(now)
            last = self._last_fired(entry.name)
            if last is None:
                # never fired: at once when catching up, else at its next slot after the start
                if self.catch_up or (self._started_at is not None and slot > self._started_at):
                    out.append((entry, slot))
            elif slot > last:
                out.append((entry, slot))
        return out

    def fire(self, entry: EntryPoint, slot: datetime) -> Firing:
        """Call the entry's handler (an edge, as the function is) and record the slot as fired."""
        log.info("scheduled entry firing", extra={"entry_point": entry.name, "slot": slot.isoformat()})
        try:
            result, error = at_edge(entry.handler)(self.runtime), None
        except Exception as e:  # noqa: BLE001 - logged and recorded; the next slot fires again
            result, error = None, redact(f"{type(e).__name__}: {e}")
            log.error("scheduled entry failed", extra={"entry_point": entry.name, "error": error})
        # recorded even when it failed: Cloud Scheduler too fires a failed job again at its next slot
        self.runtime.store.set(f"{COLLECTION}/{entry.name}", {
            "entry_point": entry.name, "cron": entry.target, "fired_for": slot, "fired_at": self.clock(),
            "error": error})
        firing = Firing(entry.name, slot, result, error)
        self.fired.append(firing)
        return firing

    def run_due(self) -> list[Firing]:
        """Fire every entry due now."""
        now = self.clock()
        if self._started_at is None:
            self._started_at = now
        return [self.fire(entry, slot) for entry, slot in self.due(now)]

    def seconds_to_next(self) -> float:
        """Seconds until the next slot of any entry (at most a minute)."""
        if not self.entries:
            return _MAX_SLEEP_SECONDS
        now = self.clock()
        nxt = min(self.crons[e.name].next_after(now) for e in self.entries)
        return max(0.0, min((nxt - now).total_seconds(), _MAX_SLEEP_SECONDS))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # the store failed: try again at the next wake-up
                log.exception("local scheduler check failed")
            self._stop.wait(self.seconds_to_next())

    def start(self) -> None:
        """Check now, then at every slot, in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="tower-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the firing under way, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
