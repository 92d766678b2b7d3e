"""``tower demo``: the whole product on the embedded default, end to end, on one machine.

1. Generates the synthetic merchant world (the truth the sandboxes serve).
2. Starts the sandbox servers (Shopify GraphQL Admin, Meta Graph, TikTok Business, Google Ads gRPC)
   on 127.0.0.1 and points the connectors at them through the settings.
3. Initialises the warehouse, registers the demo agency and brands, connects every store and ad
   account (tokens go to the local secret store).
4. Runs the pipeline exactly as on GCP, through the local task queue and bus: schedule_syncs → one
   sync task per brand × platform → tower-sync-completed → build_models → tower-models-built →
   recommend + summarize.
5. Prints each brand's headline findings, weekly summary, recommendations and alerts, then (by
   default) serves the whole system with ``tower serve``'s own code until interrupted: the API and
   the page, every function, the pumps and the schedule.

Every integration it connects is recorded as connected to its sandbox (:mod:`tower.sandboxes`), so once
the demo has stopped, ``tower serve`` and every command bring the sandboxes back with the same world.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tower.api.auth import create_api_key
from tower.cli.output import print_alerts, print_recommendations, print_summary
from tower.cli.serve import serve_settings
from tower.config import Settings, parse_adapter_url
from tower.runtime import Runtime, set_default_runtime
from tower.sandboxes import note_all

DEMO_AGENCY_ID = "agency_demo"
DEMO_AGENCY_NAME = "Northstar Growth (demo agency)"


def demo_end_date(today: date | None = None) -> date:
    """The world's last day: yesterday, so 'last week' on the page is a complete week of data.

    Without ``today``, yesterday of the stores' own calendars: the demo brands sit in American
    timezones (down to UTC-12 for any brand), where the date lags UTC's for up to 12 hours, and a
    world ending on a day the store still lives in would be modelled as complete by nobody.
    """
    if today is None:
        today = (datetime.now(UTC) - timedelta(hours=12)).date()
    return today - timedelta(days=1)


def reset_local_state(settings: Settings) -> list[Path]:
    """Remove the embedded default's files so each demo starts clean; never touches cloud adapters."""
    removed = []
    for url, default in ((settings.warehouse, "warehouse.duckdb"), (settings.store, "store.sqlite"),
                         (settings.bus, "bus.sqlite"), (settings.tasks, "tasks.sqlite"),
                         (settings.secrets, "secrets")):
        scheme = parse_adapter_url(url, ("duckdb", "local", "bigquery", "firestore", "pubsub",
                                         "cloudtasks", "secretmanager"), "adapter").scheme
        if scheme not in ("duckdb", "local"):
            continue
        path = settings.local_path(url, default)
        for p in (path, Path(f"{path}.wal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
            if p.is_dir():
                shutil.rmtree(p)
                removed.append(p)
            elif p.exists():
                p.unlink()
                removed.append(p)
    return removed


def register_agency(runtime: Runtime, world: Any, now: datetime) -> list[str]:
    """Attach the world's brands to the demo agency (warehouse and document store)."""
    brand_ids = [bw.brand["brand_id"] for bw in world.brands]
    rows = runtime.warehouse.rows("SELECT * FROM brands WHERE brand_id IN UNNEST(@ids)", {"ids": brand_ids})
    for r in rows:
        r["agency_id"] = DEMO_AGENCY_ID
        r["updated_at"] = now
    runtime.warehouse.merge("brands", rows, ["brand_id"])
    runtime.store.set(f"agencies/{DEMO_AGENCY_ID}", {"name": DEMO_AGENCY_NAME, "brand_ids": brand_ids})
    for bw in world.brands:
        b = bw.brand
        runtime.store.merge(f"brands/{b['brand_id']}", {"name": b["brand_name"], "agency_id": DEMO_AGENCY_ID,
                                                        "timezone": b["timezone"], "currency": b["currency"]})
    return brand_ids


DEMO_RECIPIENTS = (
    {"recipient_id": "northstar-team", "channel": "email", "address": "growth-team@northstar.example",
     "timezone": "America/New_York", "quiet": "22:00-07:00"},
    {"recipient_id": "northstar-slack", "channel": "slack", "address": "#northstar-digest",
     "timezone": "Europe/London", "quiet": None},
)


def add_demo_recipients(runtime: Runtime, now: datetime) -> None:
    """The demo agency's e-mail and Slack recipients, with its white label."""
    from tower.notify.recipients import add_recipient, set_branding

    for r in DEMO_RECIPIENTS:
        add_recipient(runtime.store, runtime.secrets, agency_id=DEMO_AGENCY_ID, recipient_id=r["recipient_id"],
                      channel=r["channel"], address=r["address"], timezone=r["timezone"], now=now, quiet=r["quiet"],
                      daily_budget=runtime.settings.notify_daily_budget)
    set_branding(runtime.store, DEMO_AGENCY_ID, now, display_name="Northstar Growth", primary_color="#16324f",
                 accent_color="#d9822b", from_address="digest@northstar.example")


def load_reference_data(runtime: Runtime, world: Any) -> None:
    """Data that does not come from Shopify or the ad platforms: daily FX rates (a reference-rate
    feed in production) and each brand's region → serving location and fulfilment costs (the
    merchant's own settings)."""
    runtime.warehouse.merge("fx_rates", world.fx_rates, ["rate_date", "base_currency", "quote_currency"])
    for bw in world.brands:
        runtime.warehouse.merge("location_regions", bw.tables["location_regions"],
                                ["brand_id", "country_code", "region_code"])


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
    fresh: bool = True,
) -> dict[str, Any]:
    """Run the demo pipeline; return what it made (the tests read it)."""
    from tower import pipeline
    from tower.digests import send_digest
    from tower.wiring import wire_local
    from tower_dev.sandboxes.ad_sandbox import (
        connect_world_accounts,
        sandbox_settings,
        start_world_ad_sandboxes,
    )
    from tower_dev.sandboxes.ecb_rates.server import EcbSandbox
    from tower_dev.sandboxes.notify_standins import start as start_notify_standins
    from tower_dev.sandboxes.shopify_store.server import connect_world, serve_world
    from tower_dev.world import WorldParams, generate_world

    started = time.monotonic()
    if fresh:
        reset_local_state(settings)
    with console.status("generating the synthetic merchant world…"):
        world = generate_world(WorldParams(seed=seed, brands=brands, days=days, orders_per_day=orders_per_day,
                                           end_date=demo_end_date(today)))
    with console.status("starting the sandbox platforms…"):
        # The demo merchants are on Shopify Plus: a 10,000-point bucket restoring 1,000 points/s.
        shop = serve_world(world, host=settings.host, bucket_maximum=10_000, restore_rate=1_000,
                           bulk_polls_to_complete=1)
        ads = start_world_ad_sandboxes(world, host=settings.host)
        # the ECB's reference rates for the world's currencies: serve's daily sync_fx reads them here
        # instead of trying the real ECB from a machine that may have no internet
        ecb = EcbSandbox.for_world(world, host=settings.host)
    settings = sandbox_settings(settings, ads).model_copy(
        update={"shopify_api_origin": shop.origin, "ecb_origin": ecb.origin,
                # the sandbox finishes a bulk export at once: poll it without real-world waits
                "shopify_bulk_poll_seconds": min(settings.shopify_bulk_poll_seconds, 0.05)})
    # The notifications' SMTP capture and Slack sandbox, up before the pipeline raises its first alert.
    probe = Runtime(settings)
    try:
        standins = start_notify_standins(settings, probe.secrets, host=settings.host)
    finally:
        probe.close()
    settings = standins.settings
    runtime = Runtime(settings)
    set_default_runtime(runtime)
    try:
        now = datetime.now(UTC)
        runtime.warehouse.init_schema()
        load_reference_data(runtime, world)
        connect_world(runtime.warehouse, runtime.secrets, world, shop, now)
        register_agency(runtime, world, now)
        add_demo_recipients(runtime, now)
        connect_world_accounts(runtime, ads, world)
        note_all(settings, runtime.warehouse, runtime.store)
        console.print(f"sandboxes: Shopify {shop.origin} · Meta {ads.meta.origin} · TikTok {ads.tiktok.origin}"
                      f" · Google Ads {ads.google_ads.endpoint}")

        wire_local(runtime)
        with console.status("syncing, building models, deciding (the pipeline, as on GCP)…"):
            enqueued = pipeline.schedule_syncs(runtime, now)
            counts = pipeline.run_until_idle(runtime)
        console.print(f"pipeline: {len(enqueued)} sync tasks, {counts['tasks']} tasks and "
                      f"{counts['messages']} messages handled in {time.monotonic() - started:.1f} s")
        print_world(console, world, runtime)
        print_findings(console, runtime, world)
        digest = send_digest(runtime, DEMO_AGENCY_ID, now=now)
        console.print(f"weekly digest of {DEMO_AGENCY_ID}: {len(digest['brands'])} brands, sent to "
                      f"{', '.join(digest['sent']) or 'nobody'} ({standins.notes[0]})", soft_wrap=True)
        if serve:
            key = create_api_key(runtime.store, agency_id=DEMO_AGENCY_ID, name="demo")
            console.print(f"demo agency API key: [bold]{key}[/]  (try: curl -H 'Authorization: Bearer {key}' "
                          f"http://{settings.host}:{settings.port}/api/agency/overview)", soft_wrap=True)
            # The host opens its own runtime in its worker; the sandboxes keep running here and are
            # found there at their recorded origins.
            runtime.close()
            set_default_runtime(None)
            serve_settings(settings, host=settings.host, port=settings.port)
        return {"world": world, "runtime": runtime, "enqueued": enqueued, "counts": counts, "notify": standins,
                "digest": digest}
    finally:
        standins.stop()
        shop.stop()
        ads.stop()
        ecb.stop()
        if not serve:
            set_default_runtime(None)


def print_world(console: Console, world: Any, runtime: Runtime) -> None:
    """What was generated next to what the connectors stored (they should agree)."""
    table = Table(title="Synthetic world → warehouse (through the connectors)")
    for col in ("brand", "timezone", "currency", "orders (world)", "orders (warehouse)", "ad rows (warehouse)"):
        table.add_column(col)
    for bw in world.brands:
        b = bw.brand
        counts = runtime.warehouse.rows(
            "SELECT (SELECT COUNT(*) FROM orders WHERE brand_id = @b) AS orders, "
            "(SELECT COUNT(*) FROM ad_performance WHERE brand_id = @b) AS ads", {"b": b["brand_id"]})[0]
        table.add_row(b["brand_name"], b["timezone"], b["currency"], str(bw.tables["orders"].num_rows),
                      str(counts["orders"]), str(counts["ads"]))
    console.print(table)


def print_findings(console: Console, runtime: Runtime, world: Any) -> None:
    """Per brand: headline findings from the models, the summary, recommendations and alerts."""
    from tower.analytics.snapshots import headline_findings
    from tower.brands import local_today
    from tower.decisions.store import latest_summary, list_alerts, list_recommendations

    for bw in world.brands:
        brand_id = bw.brand["brand_id"]
        console.rule(f"[bold]{bw.brand['brand_name']}[/]")
        today = local_today(runtime.warehouse, brand_id)
        print_headline(console, headline_findings(runtime.warehouse, brand_id, today))
        summary = latest_summary(runtime.store, brand_id)
        if summary:
            print_summary(summary, brand_id)
        print_recommendations(list_recommendations(runtime.store, brand_id)[:5], "Top recommendations")
        print_alerts(list_alerts(runtime.store, brand_id), "Open alerts")


def print_headline(console: Console, findings: dict[str, Any]) -> None:
    """The models' headline findings as rich tables (channels, top mismatches, stock issues)."""
    for title, rows in findings.items():
        if not isinstance(rows, list) or not rows:
            continue
        table = Table(title=title.replace("_", " "))
        for col in rows[0]:
            table.add_column(str(col))
        for r in rows[:8]:
            table.add_row(*[_fmt(v) for v in r.values()])
        console.print(table)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        head = ", ".join(str(x) for x in v[:4])
        return head + (f" … (+{len(v) - 4})" if len(v) > 4 else "")
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)
