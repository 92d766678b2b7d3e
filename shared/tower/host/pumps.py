"""The pumps: threads delivering the local task queue and bus, as Cloud Tasks and Pub/Sub deliver on GCP.

One thread per queue, so a long sync task never holds back a model build another brand's sync
announced. Each delivers one due item at a time and checks between items whether it should stop, so
stopping waits at most for the handler under way; an item it leaves is still in the durable queue
(a lease whose process died is recovered), and the next start delivers it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tower.runtime import Runtime

log = logging.getLogger(__name__)


class Pumps:
    """Delivers the runtime's local tasks and messages in two threads until stopped.

    The handlers are those :func:`tower.wiring.wire_local` registered on the runtime's queue and bus.

    Args:
        runtime: Its ``tasks`` and ``bus`` are local (SQLite) adapters.
        idle_seconds: How long a thread waits after finding nothing due.
    """

    def __init__(self, runtime: Runtime, *, idle_seconds: float = 0.5) -> None:
        self.runtime = runtime
        self.idle_seconds = idle_seconds
        self.delivered = {"tasks": 0, "messages": 0}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _pump(self, kind: str, deliver_one: Callable[[], int]) -> None:
        while not self._stop.is_set():
            try:
                n = deliver_one()
            except Exception:  # the queue itself failed (a handler's failure is retried by the queue)
                log.exception("local queue failed", extra={"queue": kind})
                n = 0
            self.delivered[kind] += n
            if not n:
                self._stop.wait(self.idle_seconds)

    def start(self) -> None:
        """Start both threads."""
        for kind, deliver_one in (("tasks", lambda: self.runtime.tasks.drain(1)),
                                  ("messages", lambda: self.runtime.bus.drain(1))):
            thread = threading.Thread(target=self._pump, args=(kind, deliver_one), name=f"tower-{kind}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop after the items under way; whether both threads ended within ``timeout`` seconds each."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads)
