"""``tower demo``: the whole product on the embedded default, end to end, on one machine.

Generates the synthetic world, initialises the warehouse and the document store, registers the
demo agency and brands, and prints what it made.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from tower.config import Settings
from tower.runtime import Runtime


def demo_end_date(today: date | None = None) -> date:
    """The world's last day: yesterday, so 'last week' on the page is a complete week of data."""
    return (today or datetime.now(UTC).date()) - timedelta(days=1)


def register_brands(runtime: Runtime, world: Any, agency_id: str = "agency_demo") -> list[dict[str, Any]]:
    """Write the world's brands into the warehouse and the agency into the document store."""
    now = datetime.now(UTC)
    brands = []
    for bw in world.brands:
        row = dict(bw.brand)
        row["agency_id"] = agency_id
        row.setdefault("created_at", now)
        row["updated_at"] = now
        brands.append(row)
    runtime.warehouse.merge("brands", brands, ["brand_id"])
    runtime.store.set(
        f"agencies/{agency_id}",
        {"name": "Northstar Growth (demo agency)", "brand_ids": [b["brand_id"] for b in brands]},
    )
    for b in brands:
        runtime.store.merge(
            f"brands/{b['brand_id']}",
            {"name": b["brand_name"], "agency_id": agency_id, "timezone": b["timezone"],
             "currency": b["currency"]},
        )
    return brands


def run_demo(
    settings: Settings,
    *,
    brands: int,
    days: int,
    orders_per_day: int,
    seed: int,
    serve: bool,
    console: Console,
    today: date | None = None,
) -> dict[str, Any]:
    """Run the demo pipeline; return what it made (for tests)."""
    from tower.sandbox.world import WorldParams, generate_world

    runtime = Runtime(settings)
    with console.status("generating the synthetic merchant world…"):
        world = generate_world(
            WorldParams(seed=seed, brands=brands, days=days, orders_per_day=orders_per_day,
                        end_date=demo_end_date(today))
        )
    tables = runtime.warehouse.init_schema()
    runtime.warehouse.merge("fx_rates", world.fx_rates, ["rate_date", "base_currency", "quote_currency"])
    registered = register_brands(runtime, world)

    summary = Table(title="Synthetic world")
    for col in ("brand", "timezone", "currency", "products", "orders", "ad rows"):
        summary.add_column(col)
    for bw in world.brands:
        summary.add_row(
            bw.brand["brand_name"], bw.brand["timezone"], bw.brand["currency"],
            str(bw.tables["products"].num_rows), str(bw.tables["orders"].num_rows),
            str(bw.tables["ad_performance"].num_rows),
        )
    console.print(summary)
    console.print(f"warehouse: {settings.warehouse} ({len(tables)} tables) · store: {settings.store}")
    runtime.close()
    return {"world": world, "brands": registered}
