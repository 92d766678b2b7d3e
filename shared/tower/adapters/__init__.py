"""Adapters behind the ports, chosen by the settings' URLs (and nowhere else).

Vendor SDKs are imported inside the adapter that needs them (and the warehouses, which load pyarrow
and duckdb, inside the branch that opens them), so a function that uses the local adapters never pays
for google-cloud imports at cold start. The embedded adapters' folders are
created here, before the adapters open them, as 0700 (:mod:`tower.adapters.local_files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tower.adapters.cloud_tasks import CloudTasksQueue
from tower.adapters.firestore_store import FirestoreStore
from tower.adapters.local_bus import LocalBus
from tower.adapters.local_files import private_dir
from tower.adapters.local_secrets import LocalSecrets
from tower.adapters.local_store import LocalStore
from tower.adapters.local_tasks import LocalTasks
from tower.adapters.pubsub_bus import PubSubBus
from tower.adapters.secret_manager import SecretManagerSecrets
from tower.config import ConfigError, Settings, parse_adapter_url

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Bus, DocumentStore, Secrets, TaskQueue, Warehouse


def _local(settings: Settings, url: str, default_name: str, *, read_only: bool = False) -> Path:
    """The file behind a local adapter URL, its folder created 0700 when missing (not for a read-only open)."""
    path = settings.local_path(url, default_name)
    if not read_only:
        private_dir(path.parent)
    return path


def open_warehouse(settings: Settings, *, read_only: bool = False) -> Warehouse:
    """``duckdb:///PATH`` → DuckDB; ``bigquery://PROJECT/DATASET`` → BigQuery.

    Args:
        settings: The settings naming the warehouse.
        read_only: Open the DuckDB file for reading only (commands that only read: other readers
            may then read at the same time). BigQuery's access is its service account's roles.
    """
    url = parse_adapter_url(settings.warehouse, ("duckdb", "bigquery"), "TOWER_WAREHOUSE")
    if url.scheme == "bigquery":
        from tower.adapters.bigquery_warehouse import BigQueryWarehouse  # lazy: pyarrow, bigquery

        project, dataset = (url.parts + ["", ""])[:2]
        return BigQueryWarehouse(project=project, dataset=dataset, staging_bucket=settings.warehouse_staging_bucket,
                                 storage_origin=settings.storage_origin)
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse  # lazy: duckdb and pyarrow (~0.2 s)

    return DuckDBWarehouse(_local(settings, settings.warehouse, "warehouse.duckdb", read_only=read_only),
                           read_only=read_only)


def open_store(settings: Settings) -> DocumentStore:
    """``local:///PATH`` → SQLite store; ``firestore://PROJECT[/DATABASE]`` → Firestore."""
    url = parse_adapter_url(settings.store, ("local", "firestore"), "TOWER_STORE")
    if url.scheme == "firestore":
        project, database = (url.parts + ["", ""])[:2]
        return FirestoreStore(project=project, database=database or "(default)")
    return LocalStore(_local(settings, settings.store, "store.sqlite"))


def open_bus(settings: Settings) -> Bus:
    """``local[:///PATH]`` → durable SQLite bus; ``pubsub://PROJECT`` → Pub/Sub.

    Subscriptions are the wiring's (:func:`tower.wiring.wire_local` declares them on the local bus,
    which keeps them in its file; Terraform declares them on Pub/Sub).
    """
    url = parse_adapter_url(settings.bus, ("local", "pubsub"), "TOWER_BUS")
    if url.scheme == "pubsub":
        return PubSubBus(
            project=url.netloc, max_attempts=settings.bus_max_attempts, deliver_twice=settings.bus_deliver_twice
        )
    return LocalBus(
        _local(settings, settings.bus, "bus.sqlite"),
        max_attempts=settings.bus_max_attempts,
        backoff_seconds=settings.bus_backoff_seconds,
        deliver_twice=settings.bus_deliver_twice,
    )


def open_tasks(settings: Settings) -> TaskQueue:
    """``local[:///PATH]`` → SQLite queue; ``cloudtasks://PROJECT/LOCATION`` → Cloud Tasks.

    The local queue retries like the local bus (``TOWER_BUS_MAX_ATTEMPTS``, ``TOWER_BUS_BACKOFF_SECONDS``).
    """
    url = parse_adapter_url(settings.tasks, ("local", "cloudtasks"), "TOWER_TASKS")
    if url.scheme == "cloudtasks":
        project, location = (url.parts + ["", ""])[:2]
        if not settings.tasks_target_url:
            raise ConfigError("TOWER_TASKS=cloudtasks://... needs TOWER_TASKS_TARGET_URL (the handlers' base URL)")
        return CloudTasksQueue(project, location, settings.tasks_target_url, settings.tasks_service_account)
    return LocalTasks(
        _local(settings, settings.tasks, "tasks.sqlite"),
        max_attempts=settings.bus_max_attempts,
        backoff_seconds=settings.bus_backoff_seconds,
    )


def open_secrets(settings: Settings) -> Secrets:
    """``local:///DIR`` → encrypted local store; ``secretmanager://PROJECT`` → Secret Manager."""
    url = parse_adapter_url(settings.secrets, ("local", "secretmanager"), "TOWER_SECRETS")
    if url.scheme == "secretmanager":
        return SecretManagerSecrets(project=url.netloc)
    directory = settings.local_path(settings.secrets, "secrets")
    private_dir(directory)
    return LocalSecrets(directory)
