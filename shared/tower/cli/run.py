"""``tower build`` and ``tower run``: the whole pipeline for a brand from the command line, the functions' way.

* ``tower build --brand B [--start D --end D]``: the models over a window, then the recommendations,
  alerts and summary, delivered by the local bus as Pub/Sub delivers them to the functions.
* ``tower run --brand B | --all``: sync every connected platform of each brand (each sync announced on
  ``tower-sync-completed``), then the models, decisions and summaries the announcements start.

Each shows a bar per stage and ends with a status table; a stage that failed exits 1, bad input 2.
"""

from __future__ import annotations

from datetime import timedelta

import typer

from tower.brands import local_today
from tower.cli.inputs import open_runtime, parse_date, require_brand
from tower.cli.output import console, fail, fail_usage
from tower.cli.reach import platforms_reached
from tower.cli.stages import Stages
from tower.connectors.ad_platforms import AdSyncUsageError
from tower.names import PLATFORMS
from tower.runtime import Runtime
from tower.sync.connect import NotConnected

# What an integration's status means for a run (active ones are synced).
_RECONNECT = {"needs_reauth": "the platform rejected its token", "uninstalled": "the app was uninstalled",
              "disconnected": "the store was disconnected and its data redacted"}
_DEFAULT_DAYS = 90


def build_cmd(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    start: str = typer.Option(None, "--start", help=f"First day to build (default: {_DEFAULT_DAYS} days ago)."),
    end: str = typer.Option(None, "--end", help="First day NOT built, the window being [start, end) "
                                                "(default: tomorrow in the store's time zone)."),
) -> None:
    """Build a brand's models over a window, then its recommendations, alerts and summary, with a bar per stage."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        require_brand(runtime, brand)
        today = local_today(runtime.warehouse, brand)
        first = parse_date(start, "--start") or today - timedelta(days=_DEFAULT_DAYS)
        last = parse_date(end, "--end") or today + timedelta(days=1)
        if first >= last:
            fail_usage(f"--start {first} must come before --end {last} (the window is [start, end))")
        with Stages() as stages:
            stages.wire(runtime)
            stages.build(runtime, brand, first, last)
    finally:
        runtime.close()
    _close(stages, f"{brand}: models {first} .. {last}")


def run_cmd(
    brand: str = typer.Option(None, "--brand", help="The brand's id."),
    all_brands: bool = typer.Option(False, "--all", help="Every brand with a connected platform."),
    full: bool = typer.Option(False, "--full", help="Re-read everything instead of from the cursors."),
) -> None:
    """Sync every connected platform, then build the models, decisions and summaries, with a bar per stage."""
    if bool(brand) == all_brands:
        fail_usage("give --brand B or --all (one of them)")
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        if brand:
            require_brand(runtime, brand)
        plan = _integrations(runtime, brand)
        if brand and not plan:
            fail_usage(f"{brand} has no platform connected: tower connect shopify --brand {brand} ...")
        if not plan:
            fail_usage("no brand has a platform connected: tower brands add ..., then tower connect ...")
        with platforms_reached(runtime, brand_ids=sorted(plan)), Stages() as stages:
            stages.wire(runtime)
            for brand_id, platforms in sorted(plan.items()):
                _sync_brand(runtime, stages, brand_id, platforms, full=full)
            stages.drain(runtime)
    finally:
        runtime.close()
    _close(stages, f"{brand or 'every brand'}: run")


def _integrations(runtime: Runtime, brand: str | None) -> dict[str, dict[str, str]]:
    """brand -> platform -> its integrations' worst status (``active`` when every account is)."""
    rows = runtime.warehouse.rows(
        "SELECT brand_id, platform, status FROM integrations "
        + ("WHERE brand_id = @b " if brand else "") + "ORDER BY brand_id, platform", {"b": brand} if brand else {})
    plan: dict[str, dict[str, str]] = {}
    for r in rows:
        if r["platform"] not in PLATFORMS:
            continue
        current = plan.setdefault(r["brand_id"], {}).get(r["platform"])
        if current is None or current == "active":
            plan[r["brand_id"]][r["platform"]] = r["status"]
    return plan


def _sync_brand(runtime: Runtime, stages: Stages, brand_id: str, platforms: dict[str, str], *, full: bool) -> None:
    """Sync each connected platform of one brand in the product's order (the store first)."""
    for platform in PLATFORMS:
        status = platforms.get(platform)
        if status is None:
            continue
        if status in _RECONNECT:
            stages.add(brand_id, f"sync {platform}", "needs reconnect",
                       f"{_RECONNECT[status]}: tower connect {platform} --brand {brand_id} ...", 0.0)
            continue
        try:
            stages.sync(runtime, brand_id, platform, full=full)
        except (NotConnected, AdSyncUsageError) as e:
            stages.add(brand_id, f"sync {platform}", "failed", str(e), 0.0)


def _close(stages: Stages, title: str) -> None:
    """The closing table; exit 1 naming each stage that failed."""
    stages.print_table(title)
    if stages.failed:
        fail("; ".join(f"{r.brand_id} {r.stage}: {r.detail}" for r in stages.rows if r.failed))
    if not stages.rows:
        console.print("[dim]nothing to do[/]")

