"""Reaching the platforms from a command: sandboxes brought back, and one line when a platform is unreachable.

A command that talks to a platform (a sync, ``run``, an Accept or Undo, ``serve``) first brings back
the development sandboxes its brands were connected to (:func:`tower.sandboxes.bring_back`), so a
demo's integrations keep working after the demo stopped. A platform that still cannot be reached is
said in one line: which platform, which origin, which brand, and what to do, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from tower.cli.output import PLATFORM_LABELS, err_console
from tower.config import Settings
from tower.runtime import Runtime
from tower.sandboxes import bring_back, is_loopback, origin_of

# What the connectors say when no connection could be made (each platform's client words it so).
_UNREACHABLE_MARKS = ("connection failed", "statuscode.unavailable", "failed to connect", "connection refused",
                      "name or service not known", "timed out")


@contextmanager
def platforms_reached(runtime: Runtime, *, brand_ids: Iterable[str] | None = None,
                      platforms: Iterable[str] | None = None, quiet: bool = False) -> Iterator[Runtime]:
    """The runtime, its settings pointed at the sandboxes these brands and platforms were connected to.

    The sandboxes brought back for the command stop when it ends; a connection that cannot be brought
    back is a one-line warning (its sync then fails with the same line). ``quiet`` prints nothing for
    the sandboxes found or started (the notes go to the log).
    """
    back = bring_back(runtime.settings, runtime.store, runtime.secrets, brand_ids=brand_ids, platforms=platforms)
    runtime.settings = back.settings
    if not quiet:
        for note in back.notes:
            err_console.print(f"[dim]{note}[/]", soft_wrap=True)
    for problem in back.problems:
        err_console.print(f"[yellow]cannot reach:[/] {problem}", soft_wrap=True)
    try:
        yield runtime
    finally:
        back.stop()


def looks_unreachable(error: object) -> bool:
    """Whether a connector's error says no connection could be made (as opposed to a refusal)."""
    text = str(error).lower()
    return any(mark in text for mark in _UNREACHABLE_MARKS)


def unreachable_line(settings: Settings, platform: str, brand_id: str, account_id: str = "") -> str:
    """One line: the platform could not be reached at its origin for this brand, and what to do."""
    origin = origin_of(settings, platform, account_id)
    label = PLATFORM_LABELS.get(platform, platform)
    if is_loopback(origin):
        fix = ("nothing answers on this machine there (a development sandbox that is not running, and not "
               "remembered?): start what should answer, or connect the account again "
               f"(tower connect {platform} --brand {brand_id} ...)")
    else:
        fix = ("check the network (and any proxy), or the origin setting if it points elsewhere; then run the "
               f"sync again (tower sync {platform} --brand {brand_id}): it resumes where it stopped")
    return f"{label} at {origin} could not be reached for {brand_id}: {fix}"
