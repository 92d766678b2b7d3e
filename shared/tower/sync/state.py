"""The one ``sync_state`` module: every sync's cursors, checkpoints and errors, one row per resource.

A row is keyed by brand, platform, resource and account. ``cursor_value`` says how far the data is
fully stored (Shopify: the greatest ``updated_at`` stored; ads: the end of the last whole window);
``checkpoint`` is the JSON of the work in flight (a page cursor, a bulk export's phase and offset,
the next chunk of a window and a report run), so a crash or a deadline resumes exactly there;
``status`` is ``idle``, ``running``, ``polling``, ``failed`` or ``needs_reauth``; ``error`` is the
last failure, stored masked because operators read it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tower.ports import Warehouse
from tower.redact import redact

KEY = ["brand_id", "platform", "resource", "account_id"]


def utc_now() -> datetime:
    """The wall clock in UTC (the default ``now`` of every sync)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncState:
    """One resource's row (all None when it has none yet)."""

    cursor_value: str | None = None
    checkpoint: str | None = None
    status: str | None = None
    error: str | None = None

    def checkpoint_data(self) -> dict[str, Any] | None:
        """The checkpoint decoded, or None when no work is in flight."""
        return json.loads(self.checkpoint) if self.checkpoint else None


@dataclass(frozen=True)
class SyncStates:
    """The ``sync_state`` rows of one account of one brand on one platform.

    Attributes:
        now: Stamps ``updated_at`` (tests pass a fake clock).
    """

    warehouse: Warehouse
    brand_id: str
    platform: str
    account_id: str
    now: Callable[[], datetime] = field(default=utc_now, compare=False)

    def read(self, resource: str) -> SyncState:
        """The resource's state (an empty one when it was never synced)."""
        rows = self.warehouse.rows(
            "SELECT cursor_value, checkpoint, status, error FROM sync_state WHERE brand_id = @brand_id "
            "AND platform = @platform AND resource = @resource AND account_id = @account_id",
            {"brand_id": self.brand_id, "platform": self.platform, "resource": resource,
             "account_id": self.account_id},
        )
        if not rows:
            return SyncState()
        row = rows[0]
        return SyncState(row["cursor_value"], row["checkpoint"], row["status"], row["error"])

    def write(
        self,
        resource: str,
        *,
        status: str,
        cursor_value: str | None,
        checkpoint: str | Mapping[str, Any] | None,
        error: str | None = None,
    ) -> None:
        """MERGE the resource's row.

        Args:
            checkpoint: JSON text, or a mapping written as JSON (an empty one clears it).
            error: Stored masked (operators read it).
        """
        if isinstance(checkpoint, Mapping):
            checkpoint = json.dumps(checkpoint, default=str) if checkpoint else None
        self.warehouse.merge("sync_state", [{
            "brand_id": self.brand_id, "platform": self.platform, "resource": resource,
            "account_id": self.account_id, "cursor_value": cursor_value, "checkpoint": checkpoint,
            "status": status, "error": redact(error) if error else error, "updated_at": self.now(),
        }], KEY)

    def mark(self, resource: str, status: str, error: str | None = None) -> None:
        """Set the resource's status (and error), keeping its cursor and checkpoint for the resume."""
        state = self.read(resource)
        self.write(resource, status=status, cursor_value=state.cursor_value, checkpoint=state.checkpoint,
                   error=error)
