"""``tower sync shopify|meta|tiktok|google_ads``: pull one platform's data for a brand, then build on it.

A sync from the command line goes the functions' way (:mod:`tower.cli.stages`): when it is done it is
announced on ``tower-sync-completed`` like the sync function's, and the local bus builds the models,
recommendations, alerts and summary over the window it touched (``--no-build`` leaves that to
whoever drains the bus next, ``tower serve``). The command line is not bound by a function's 9
minutes, so each command resumes the sync until it is done. Bad input (unknown or unconnected brand,
a bad date) exits 2; a sync that fails, or needs the merchant to reconnect, exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from tower.cli.inputs import open_runtime, parse_date, require_brand
from tower.cli.output import PLATFORM_LABELS, console, fail, fail_usage
from tower.cli.reach import platforms_reached
from tower.cli.stages import Stages
from tower.connectors.ad_platforms import AdSyncUsageError
from tower.names import AD_PLATFORMS
from tower.sync.connect import NotConnected

app = typer.Typer(help="Pull one platform's data for a brand into the warehouse, then build on it.",
                  no_args_is_help=True)

_NO_BUILD_HELP = "Only announce the sync; the models are built by whoever drains the bus next (tower serve)."


def _run(platform: str, brand: str, *, full: bool, since: Any, build: bool) -> None:
    """Sync, announce, build (unless told not to), print the table; exit 1 unless every stage is ok."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        require_brand(runtime, brand)
        with platforms_reached(runtime, brand_ids=[brand], platforms=[platform]), Stages() as stages:
            stages.wire(runtime)
            result = stages.sync(runtime, brand, platform, full=full, since=since)
            if result.get("status") == "not_connected":
                fail_usage(f"{brand} has no {PLATFORM_LABELS[platform]} account: "
                           f"tower connect {platform} --brand {brand} ...")
            if build and result.get("status") == "ok":
                stages.drain(runtime)
    except (NotConnected, AdSyncUsageError) as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    for warning in result.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    stages.print_table(f"{brand}: {PLATFORM_LABELS[platform]} sync")
    if result.get("status") == "needs_reauth":
        fail(f"{PLATFORM_LABELS[platform]} rejected the token for {brand}: reconnect "
             f"(tower connect {platform} --brand {brand} ...)")
    if stages.failed:
        fail("; ".join(f"{r.stage}: {r.detail}" for r in stages.rows if r.failed))


@app.command("shopify")
def sync_shopify_cmd(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    full: bool = typer.Option(False, "--full", help="Re-read everything instead of from the cursors."),
    build: bool = typer.Option(True, "--build/--no-build", help=_NO_BUILD_HELP),
) -> None:
    """Sync one brand's Shopify store into the warehouse, then build on it, with a bar per stage."""
    _run("shopify", brand, full=full, since=None, build=build)


def _sync_ads_command(platform: str) -> Callable[..., None]:
    """The ``sync`` command of one ad platform (the three differ only in names)."""
    label = PLATFORM_LABELS[platform]

    def sync(
        brand: str = typer.Option(..., "--brand", help="The brand's id."),
        since: str = typer.Option(None, "--since", help="Pull from this account-local date (YYYY-MM-DD)."),
        full: bool = typer.Option(False, "--full", help="Pull the whole history (TOWER_ADS_HISTORY_DAYS)."),
        build: bool = typer.Option(True, "--build/--no-build", help=_NO_BUILD_HELP),
    ) -> None:
        _run(platform, brand, full=full, since=parse_date(since, "--since"), build=build)

    sync.__doc__ = f"Sync a brand's {label} accounts into the warehouse, then build on them, with a bar per stage."
    return sync


for _platform in AD_PLATFORMS:
    app.command(_platform, help=f"Sync a brand's {PLATFORM_LABELS[_platform]} accounts into the warehouse.")(
        _sync_ads_command(_platform)
    )
