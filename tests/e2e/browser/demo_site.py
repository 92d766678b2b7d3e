"""The demo, as ``tower demo`` builds it, served with its sandbox platforms left running.

``tower demo --no-serve`` stops the sandboxes when it returns; the browser test needs them up, so an
Accept on the page reaches the sandbox's campaign budget. This module runs the same steps as
:func:`tower_dev.demo.run_demo` (world → sandboxes → connectors → pipeline through the local
queues) on a small world, then serves the API and the built page with :func:`tower.api.app.serve`.

Run it by hand to work on the page against live data (prints the URL and an API key)::

    .venv/bin/python tests/e2e/browser/demo_site.py /tmp/site
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tower.config import Settings
from tower.runtime import Runtime

# Small enough to build in well under a minute, large enough that every demo brand has a week of
# complete data, recommendations and (for the urgent one) alerts.
WORLD = {"brands": 3, "days": 35, "orders_per_day": 40, "seed": 7}


@dataclass
class DemoSite:
    """A served demo: the page's URL, an agency key, and the live runtime and sandboxes."""

    url: str
    key: str
    runtime: Runtime
    world: Any
    ads: Any
    _shop: Any
    _server: Any

    @property
    def settings_shopify_origin(self) -> str:
        """The sandbox store's origin (where the product pictures are served)."""
        return str(self._shop.origin)

    def campaign_budget(self, platform: str, campaign_id: str) -> float:
        """The campaign's daily budget as the sandbox platform now holds it."""
        account = self.ads.get(platform).registry.owner_of_campaign(campaign_id)
        if account is None:
            raise KeyError(f"{platform} sandbox has no campaign {campaign_id!r}")
        return float(account.campaigns[campaign_id]["daily_budget_amount"])

    def stop(self) -> None:
        """Stop the API, the sandboxes and the runtime."""
        self._server.stop()
        self._shop.stop()
        self.ads.stop()
        self.runtime.close()


def demo_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Embedded-default settings whose files all live under ``data_dir`` (no Claude key: the narrator)."""
    d = data_dir
    base: dict[str, Any] = {
        "warehouse": f"duckdb:///{d}/w.duckdb", "store": f"local:///{d}/store.sqlite",
        "bus": f"local:///{d}/bus.sqlite", "tasks": f"local:///{d}/tasks.sqlite", "secrets": f"local:///{d}/secrets",
        "data_dir": d, "anthropic_api_key": "", "shopify_bulk_min_orders": 0,
        # A small world's budget changes are small, so promotions outrank them: keep enough cards that
        # budget ones are among them, and judge rows a small world spends little on.
        "recommend_top_n": 50, "rule_min_spend": 20.0,
    }
    return Settings(**{**base, **overrides})


def start_demo_site(data_dir: Path, *, port: int = 0, pump_seconds: float = 0.2, **overrides: Any) -> DemoSite:
    """Build the demo world and pipeline under ``data_dir`` and serve it on 127.0.0.1.

    Args:
        data_dir: Folder for the warehouse, store, queues and secrets (created if missing).
        port: Port to serve on (0: any free one).
        pump_seconds: How often the local server runs due tasks (an Accept's budget change).
        overrides: Settings to change (field names of :class:`tower.config.Settings`).
    """
    from tower import pipeline
    from tower.api.app import serve
    from tower.api.auth import create_api_key
    from tower.runtime import set_default_runtime
    from tower.wiring import wire_local
    from tower_dev.demo import DEMO_AGENCY_ID, demo_end_date, load_reference_data, register_agency
    from tower_dev.sandboxes.ad_sandbox import (
        connect_world_accounts,
        sandbox_settings,
        start_world_ad_sandboxes,
    )
    from tower_dev.sandboxes.shopify_store.server import connect_world, serve_world
    from tower_dev.world import WorldParams, generate_world

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(data_dir, **overrides)
    world = generate_world(WorldParams(end_date=demo_end_date(), **WORLD))
    shop = serve_world(world, host="127.0.0.1", bucket_maximum=10_000, restore_rate=1_000, bulk_polls_to_complete=1)
    ads = start_world_ad_sandboxes(world, host="127.0.0.1")
    settings = sandbox_settings(settings, ads).model_copy(
        update={"shopify_api_origin": shop.origin, "shopify_bulk_poll_seconds": 0.05})
    runtime = Runtime(settings)
    set_default_runtime(runtime)
    try:
        now = datetime.now(UTC)
        runtime.warehouse.init_schema()
        load_reference_data(runtime, world)
        connect_world(runtime.warehouse, runtime.secrets, world, shop, now)
        register_agency(runtime, world, now)
        connect_world_accounts(runtime, ads, world)
        wire_local(runtime)
        pipeline.schedule_syncs(runtime, now)
        pipeline.run_until_idle(runtime)
        key = create_api_key(runtime.store, agency_id=DEMO_AGENCY_ID, name="browser-test")
        server = serve(runtime, "127.0.0.1", port, pump_seconds=pump_seconds)
    except BaseException:
        shop.stop()
        ads.stop()
        runtime.close()
        raise
    return DemoSite(url=server.url, key=key, runtime=runtime, world=world, ads=ads, _shop=shop, _server=server)


if __name__ == "__main__":
    started = time.monotonic()
    site = start_demo_site(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tower-demo-site"),
                           port=int(sys.argv[2]) if len(sys.argv) > 2 else 8080)
    print(f"built in {time.monotonic() - started:.1f} s; serving {site.url}  API key: {site.key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        site.stop()


@contextmanager
def mailing_demo_site(data_dir: Path, project_id: str, **overrides: Any) -> Iterator[tuple[DemoSite, Any]]:
    """The demo site beside the official Firebase Auth emulator (people sign in by e-mail) and an SMTP
    capture (invitations are e-mailed); ``(site, mail)``. Fails plainly when the emulator is not installed."""
    import pytest

    from tower_dev.sandboxes.firebase_auth import AuthEmulator, installed
    from tower_dev.sandboxes.mail_capture.server import MailCapture

    if not installed():
        pytest.fail("the Firebase Auth emulator is not installed: make firebase-emulator", pytrace=False)
    mail = MailCapture()
    emulator = AuthEmulator(project_id).start()
    try:
        site = start_demo_site(data_dir, firebase_project_id=emulator.project_id,
                               firebase_auth_emulator_host=emulator.host_port, notify_smtp_host=mail.host,
                               notify_smtp_port=mail.port, notify_smtp_starttls=False, **overrides)
        try:
            yield site, mail
        finally:
            site.stop()
    finally:
        emulator.stop()
        mail.stop()
