"""The adapters one process uses, opened lazily from the settings and shared by its handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from tower.adapters import open_bus, open_secrets, open_store, open_tasks, open_warehouse
from tower.config import Settings, get_settings

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Bus, DocumentStore, Secrets, TaskQueue, Warehouse


@dataclass
class Runtime:
    """Settings plus the ports, each opened on first use (a cold function opens only what it needs).

    ``read_only`` opens the warehouse for reading only: the commands that only read it use that, so
    several can read at once and none takes the write lock a running pipeline needs.
    """

    settings: Settings = field(default_factory=get_settings)
    read_only: bool = False

    @cached_property
    def warehouse(self) -> Warehouse:
        return open_warehouse(self.settings, read_only=self.read_only)

    @cached_property
    def store(self) -> DocumentStore:
        return open_store(self.settings)

    @cached_property
    def bus(self) -> Bus:
        return open_bus(self.settings)

    @cached_property
    def tasks(self) -> TaskQueue:
        return open_tasks(self.settings)

    @cached_property
    def secrets(self) -> Secrets:
        return open_secrets(self.settings)

    def close(self) -> None:
        """Close what was opened."""
        for name in ("warehouse", "store", "bus", "tasks"):
            obj = self.__dict__.get(name)
            closer = getattr(obj, "close", None)
            if callable(closer):
                closer()


_default: Runtime | None = None


def default_runtime() -> Runtime:
    """The process-wide runtime used by the Cloud Function entry points."""
    global _default
    if _default is None:
        _default = Runtime()
    return _default


def set_default_runtime(runtime: Runtime | None) -> None:
    """Replace the process-wide runtime (tests and the local demo host use this)."""
    global _default
    _default = runtime
