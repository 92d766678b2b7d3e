"""The small world the harness runs on: a few days and orders, every platform's sandbox on 127.0.0.1.

The world ends yesterday (as ``tower demo``'s does), so the sandboxes' real clocks are after every
timestamp they serve. The Shopify sandbox gets a bucket too large to throttle by itself: throttling
is what the faults inject, and the harness's waits are compressed (see ``faults.compressed_sleep``),
so a real leaky bucket would turn into retries the fault plan never asked for.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tower.config import Settings
from tower.runtime import Runtime


@dataclass
class Platforms:
    """The running sandboxes of one world: Shopify, and Meta, TikTok and Google Ads together."""

    world: Any
    shop: Any
    ads: Any

    @property
    def brand_ids(self) -> list[str]:
        """The world's brand ids, in the world's order."""
        return [str(bw.brand["brand_id"]) for bw in self.world.brands]

    def stop(self) -> None:
        """Stop every sandbox."""
        self.shop.stop()
        self.ads.stop()


def small_world(seed: int, *, brands: int = 1, days: int = 14, orders_per_day: int = 4,
                campaigns: int = 2) -> Any:
    """A synthetic world small enough for hundreds of syncs: ``days`` days ending yesterday."""
    from tower_dev.demo import demo_end_date
    from tower_dev.world import WorldParams, generate_world

    return generate_world(WorldParams(seed=seed, brands=brands, days=days, orders_per_day=orders_per_day,
                                      skus=12, locations=2, campaigns_per_platform=campaigns,
                                      end_date=demo_end_date()))


def start_platforms(world: Any, *, shop_clock: Any = None) -> Platforms:
    """Serve the world on every sandbox (127.0.0.1, free ports); the store on ``shop_clock`` if given."""
    from tower_dev.sandboxes.ad_sandbox import start_world_ad_sandboxes
    from tower_dev.sandboxes.shopify_store.server import serve_world

    shop = serve_world(world, host="127.0.0.1", bucket_maximum=10**9, restore_rate=10**9,
                       bulk_polls_to_complete=1, clock=shop_clock)
    try:
        ads = start_world_ad_sandboxes(world, host="127.0.0.1")
    except BaseException:
        shop.stop()
        raise
    return Platforms(world, shop, ads)


def local_settings(root: Path, platforms: Platforms | None = None, **overrides: Any) -> Settings:
    """The embedded default under ``root``, pointed at the sandboxes, without an Anthropic key."""
    root = Path(root).resolve()
    fields: dict[str, Any] = {
        "warehouse": f"duckdb:///{root}/warehouse.duckdb",
        "store": f"local:///{root}/store.sqlite",
        "bus": f"local:///{root}/bus.sqlite",
        "tasks": f"local:///{root}/tasks.sqlite",
        "secrets": f"local:///{root}/secrets",
        "data_dir": root,
        "anthropic_api_key": "",
        "google_ads_developer_token": "sandbox-developer-token",
        # the sandboxes finish a report run or a bulk export at once: poll without real-world waits
        "meta_async_poll_seconds": 0.01,
        "shopify_bulk_poll_seconds": 0.01,
    }
    if platforms is not None:
        fields.update(platforms.ads.settings_overrides())
        fields["shopify_api_origin"] = platforms.shop.origin
    fields.update(overrides)
    return Settings(**fields)


def connect_everything(runtime: Runtime, platforms: Platforms, now: datetime) -> list[str]:
    """Create the schema and connect every store and ad account of the world, as ``tower demo`` does."""
    from tower_dev.demo import load_reference_data
    from tower_dev.sandboxes.ad_sandbox import connect_world_accounts
    from tower_dev.sandboxes.shopify_store.server import connect_world

    runtime.warehouse.init_schema()
    load_reference_data(runtime, platforms.world)
    brand_ids = connect_world(runtime.warehouse, runtime.secrets, platforms.world, platforms.shop, now)
    connect_world_accounts(runtime, platforms.ads, platforms.world)
    return brand_ids


def copy_state(template: Path, target: Path) -> Path:
    """A copy of a closed runtime's files (warehouse, store, secrets with their modes)."""
    shutil.copytree(template, target)
    return target
