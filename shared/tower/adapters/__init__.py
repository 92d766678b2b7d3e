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
