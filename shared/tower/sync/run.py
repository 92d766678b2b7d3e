"""What every sync run is given, whatever the platform: the ports it uses and the options it runs by.

:class:`~tower.sync.shopify.ShopifySync` and :class:`~tower.sync.ads.AdSync` have one shape: built
from :class:`SyncPorts` (a :class:`~tower.runtime.Runtime` is one; :class:`Ports` holds adapters
already open) and :class:`RunOptions`, then ``run(full=..., since=...)`` once. Building one does no
I/O: it connects when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from tower.config import Settings
from tower.connectors.retry import RetryPolicy
from tower.ports import DocumentStore, Secrets, Warehouse
from tower.sync.state import utc_now


def default_policy(sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
    """The retry policy of a run that was given none (the pipeline's); tests of the deployed paths
    replace this function to make retries instant."""
    return RetryPolicy(sleep=sleep)


class SyncPorts(Protocol):
    """The settings and the ports a sync reads and writes (a Runtime opens each on first use)."""

    @property
    def settings(self) -> Settings:
        """Endpoints, versions, deadlines and windows."""

    @property
    def warehouse(self) -> Warehouse:
        """Where the rows and the sync state go."""

    @property
    def secrets(self) -> Secrets:
        """The integrations' tokens and the brands' customer-hash salts."""

    @property
    def store(self) -> DocumentStore | None:
        """Privacy suppressions (Shopify) and the integrations' standing warnings (a refused product-mapping
        read of an ad account); None: no suppression is applied and no warning kept beyond the run's result."""


@dataclass(frozen=True)
class Ports:
    """:class:`SyncPorts` made of adapters already open (the CLI, the webhook handler, tests)."""

    settings: Settings
    warehouse: Warehouse
    secrets: Secrets
    store: DocumentStore | None = None


@dataclass(frozen=True)
class RunOptions:
    """How one run is clocked, paced and watched: the real clocks unless a test passes fakes.

    Attributes:
        now: Wall clock in UTC (stamps rows and state; Shopify's store-local "today").
        sleep: Waits (bulk polling; the retry policy's backoff unless ``policy`` is given).
        monotonic: Measures the deadline.
        deadline_seconds: Stop with a checkpoint after this long (None: the platform's setting).
        policy: Retry policy (None: the default one sleeping with ``sleep``).
        today: The account-local day the ad window ends on (None: ``now`` in the account's timezone).
        progress: Told of progress: Shopify calls ``progress(stage, rows)``, the ad sync
            ``progress(account_id, chunks_done, chunks_total)``.
    """

    now: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    deadline_seconds: float | None = None
    policy: RetryPolicy | None = None
    today: date | None = None
    progress: Callable[..., None] | None = None

    def retry_policy(self) -> RetryPolicy:
        """The policy given, or :func:`default_policy` sleeping with :attr:`sleep`."""
        return self.policy or default_policy(self.sleep)

    def report(self, *args: Any) -> None:
        """Pass progress on, when someone listens."""
        if self.progress is not None:
            self.progress(*args)
