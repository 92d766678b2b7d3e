"""A store that is not the demo world, connected by hand through the ``tower`` command (issue 14).

Another world seed, another shop domain and time zone (the world's fourth brand, Northwind Outfitters:
America/Chicago, a US-only store on the urgent profile), registered under the merchant's own brand id,
and no ``location_regions`` rows: nothing the demo loads by itself. The sandboxes serve that world;
the tests reach them only through commands and settings, as a merchant would reach the platforms.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tower.cli import app
from tower.config import get_settings
from tower_dev.demo import demo_end_date
from tower_dev.sandboxes.ad_sandbox import AdSandboxes, start_world_ad_sandboxes
from tower_dev.sandboxes.shopify_store.server import SandboxHandle, serve_world
from tower_dev.world import WorldParams, generate_world

SEED = 11
BRAND = "northwind"  # the merchant's own id: nothing may depend on the world's
WORLD_BRAND = 3  # Northwind Outfitters, the first brand after the demo's three
# Five weeks: the current week and the four trailing ones the ROAS alert compares it with.
PARAMS = {"seed": SEED, "brands": 4, "days": 35, "orders_per_day": 30}


@dataclass
class Sandboxes:
    """The world and the sandboxes serving it (started once per module)."""

    world: Any
    shop: SandboxHandle
    ads: AdSandboxes
    brand: Any = field(init=False)

    def __post_init__(self) -> None:
        self.brand = self.world.brands[WORLD_BRAND]

    @property
    def manifest(self) -> dict[str, Any]:
        return self.world.manifest[self.brand.brand_id]

    def env(self, data_dir: Path) -> dict[str, str]:
        """The settings a merchant would export: their own data dir, the platforms' origins (here the
        sandboxes'), a Google developer token, and no Anthropic key (the narrator writes)."""
        return {
            "TOWER_DATA_DIR": str(data_dir),
            "TOWER_SHOPIFY_API_ORIGIN": self.shop.origin,
            "TOWER_META_API_ORIGIN": self.ads.meta.origin,
            "TOWER_TIKTOK_API_ORIGIN": self.ads.tiktok.origin,
            "TOWER_GOOGLE_ADS_ENDPOINT": self.ads.google_ads.endpoint,
            "TOWER_GOOGLE_ADS_DEVELOPER_TOKEN": "sandbox-developer-token",
            "TOWER_ANTHROPIC_API_KEY": "",
            "TOWER_ADS_HISTORY_DAYS": str(PARAMS["days"]),
            # the sandboxes finish report runs and bulk exports at once: no real-world waits between polls
            "TOWER_META_ASYNC_POLL_SECONDS": "0.05",
            "TOWER_SHOPIFY_BULK_POLL_SECONDS": "0.05",
            # a first sync of a small store through one bulk export (the paged path is the sync helper's)
            "TOWER_SHOPIFY_BULK_MIN_ORDERS": "0",
        }


def start_sandboxes() -> Sandboxes:
    """Generate the world (ending yesterday, as a live store's data does) and serve it."""
    world = generate_world(WorldParams(**PARAMS, end_date=demo_end_date()))
    # a bucket too big to throttle: the commands sleep on the real clock, and tests never sleep
    shop = serve_world(world, bucket_maximum=10**9, restore_rate=10**9)
    return Sandboxes(world, shop, start_world_ad_sandboxes(world))


def tower(*args: str, stdin: str | None = None) -> tuple[int, str]:
    """``tower ARGS`` in this process: exit code and output."""
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def tower_json(*args: str) -> Any:
    """``tower ARGS --json``, parsed."""
    code, out = tower(*args, "--json")
    assert code == 0, out
    return json.loads(out)


def connect_by_hand(s: Sandboxes) -> None:
    """``tower brands add`` and ``tower connect`` for the shop and its three ad accounts."""
    b = s.brand.brand
    code, out = tower("brands", "add", "--id", BRAND, "--name", b["brand_name"], "--timezone", b["timezone"],
                      "--currency", b["currency"])
    assert code == 0, out
    code, out = tower("connect", "shopify", "--brand", BRAND, "--shop", b["shop_domain"], "--token",
                      s.shop.tokens[s.brand.brand_id], "--scopes", "read_all_orders")
    assert code == 0 and "remembered" in out, out
    for platform, account in s.brand.ad_accounts.items():
        token = s.ads.get(platform).issue_token(account["account_id"])
        code, out = tower("connect", platform, "--brand", BRAND, "--account", account["account_id"],
                          "--token", "-", stdin=token + "\n")
        assert code == 0 and token not in out, out


def set_env(monkeypatch: Any, env: dict[str, str]) -> Iterator[None]:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    for k in ("TOWER_WAREHOUSE", "TOWER_STORE", "TOWER_BUS", "TOWER_TASKS", "TOWER_SECRETS", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(k, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment with ``env`` (for a ``tower`` child process)."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    out.update(env)
    return out


# --- what the manifest says must be found, and what waits -----------------------------------------------

def needs_cover(finding: dict[str, Any]) -> bool:
    """Whether a planted finding rests on days of cover (low stock, overstock) rather than on spend or stock alone."""
    return finding.get("type") in ("stockout_risk", "reduce_spend", "promotion", "increase_spend") or \
        finding.get("mismatch") in ("overspending_low_stock", "underspending_overstock")


def has_alert(alerts: list[dict[str, Any]], expected: dict[str, Any]) -> bool:
    return any(a["type"] == expected["type"]
               and (not expected.get("channel") or expected["channel"] in str(a.get("channel") or "").split(","))
               and (not expected.get("product_id") or expected["product_id"] == a.get("product_id"))
               and (not expected.get("mismatch") or expected["mismatch"] == (a.get("metrics") or {}).get("mismatch"))
               for a in alerts)


def has_recommendation(cards: list[dict[str, Any]], expected: dict[str, Any]) -> bool:
    for r in cards:
        if r.get("type") != expected["type"] or r.get("product_id") != expected["product_id"]:
            continue
        if r["type"] == "promotion":
            return True
        if expected.get("channel") in (None, r.get("channel")) and \
                set(r.get("regions") or []) <= set(expected.get("regions") or r.get("regions") or []):
            return True
    return False
