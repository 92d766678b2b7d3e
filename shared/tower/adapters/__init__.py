"""Adapters behind the ports, chosen by the settings' URLs (and nowhere else).

Vendor SDKs are imported inside the branch that needs them, so a function that uses the local
adapters never pays for google-cloud imports at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tower.config import Settings, parse_adapter_url

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Bus, DocumentStore, Secrets, TaskQueue, Warehouse


def open_warehouse(settings: Settings) -> Warehouse:
    url = parse_adapter_url(settings.warehouse, ("duckdb", "bigquery"), "TOWER_WAREHOUSE")
    if url.scheme == "bigquery":
        from tower.adapters.bigquery_warehouse import BigQueryWarehouse

        project, dataset = (url.parts + ["", ""])[:2]
        return BigQueryWarehouse(project=project, dataset=dataset)
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse

    return DuckDBWarehouse(settings.local_path(settings.warehouse, "warehouse.duckdb"))


def open_store(settings: Settings) -> DocumentStore:
    """``local:///PATH`` → SQLite store; ``firestore://PROJECT[/DATABASE]`` → Firestore."""
    url = parse_adapter_url(settings.store, ("local", "firestore"), "TOWER_STORE")
    if url.scheme == "firestore":
        from tower.adapters.firestore_store import FirestoreStore

        project, database = (url.parts + ["", ""])[:2]
        return FirestoreStore(project=project, database=database or "(default)")
    from tower.adapters.local_store import LocalStore

    return LocalStore(settings.local_path(settings.store, "store.sqlite"))


def open_bus(settings: Settings) -> Bus:
    """``local[:///PATH]`` → durable SQLite bus; ``pubsub://PROJECT`` → Pub/Sub.

    The local bus declares every subscription of ``tower.names`` up front, as Terraform does for
    Pub/Sub: a message published before any subscriber process started still waits for it.
    """
    url = parse_adapter_url(settings.bus, ("local", "pubsub"), "TOWER_BUS")
    if url.scheme == "pubsub":
        from tower.adapters.pubsub_bus import PubSubBus

        return PubSubBus(
            project=url.netloc, max_attempts=settings.bus_max_attempts, deliver_twice=settings.bus_deliver_twice
        )
    from tower import names
    from tower.adapters.local_bus import LocalBus

    bus = LocalBus(
        settings.local_path(settings.bus, "bus.sqlite"),
        max_attempts=settings.bus_max_attempts,
        backoff_seconds=settings.bus_backoff_seconds,
        deliver_twice=settings.bus_deliver_twice,
    )
    for subscription, (topic, _handler) in names.SUBSCRIPTIONS.items():
        bus.declare(subscription, topic)
    return bus


def open_tasks(settings: Settings) -> TaskQueue:
    """``local[:///PATH]`` → SQLite queue; ``cloudtasks://PROJECT/LOCATION`` → Cloud Tasks.

    The local queue retries like the local bus (``TOWER_BUS_MAX_ATTEMPTS``, ``TOWER_BUS_BACKOFF_SECONDS``).
    """
    url = parse_adapter_url(settings.tasks, ("local", "cloudtasks"), "TOWER_TASKS")
    if url.scheme == "cloudtasks":
        from tower.adapters.cloud_tasks import CloudTasksQueue
        from tower.config import ConfigError

        project, location = (url.parts + ["", ""])[:2]
        if not settings.tasks_target_url:
            raise ConfigError("TOWER_TASKS=cloudtasks://... needs TOWER_TASKS_TARGET_URL (the handlers' base URL)")
        return CloudTasksQueue(project, location, settings.tasks_target_url, settings.tasks_service_account)
    from tower.adapters.local_tasks import LocalTasks

    return LocalTasks(
        settings.local_path(settings.tasks, "tasks.sqlite"),
        max_attempts=settings.bus_max_attempts,
        backoff_seconds=settings.bus_backoff_seconds,
    )


def open_secrets(settings: Settings) -> Secrets:
    """``local:///DIR`` → encrypted local store; ``secretmanager://PROJECT`` → Secret Manager."""
    url = parse_adapter_url(settings.secrets, ("local", "secretmanager"), "TOWER_SECRETS")
    if url.scheme == "secretmanager":
        from tower.adapters.secret_manager import SecretManagerSecrets

        return SecretManagerSecrets(project=url.netloc)
    from tower.adapters.local_secrets import LocalSecrets

    return LocalSecrets(settings.local_path(settings.secrets, "secrets"))
