"""``tower sync shopify|meta|tiktok|google_ads``: pull one platform's data for a brand, with a progress bar.

The command line is not bound by a function's 9 minutes, so each command resumes the sync until it is
done. Bad input (unknown or unconnected brand, a bad date) exits 2; a sync that fails, or needs the
merchant to reconnect, exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from tower.cli.inputs import open_runtime, parse_date, require_brand
from tower.cli.output import PLATFORM_LABELS, console, err_console, fail, fail_usage, print_rows
from tower.connectors.ad_platforms import AdSyncUsageError
from tower.connectors.retry import RetriesExhausted
from tower.names import AD_PLATFORMS
from tower.runtime import Runtime
from tower.sync.ads import AdSyncResult, sync_ads
from tower.sync.connect import NotConnected
from tower.sync.run import RunOptions
from tower.sync.shopify import SyncResult, sync_shopify

app = typer.Typer(help="Pull one platform's data for a brand into the warehouse.", no_args_is_help=True)


@app.command("shopify")
def sync_shopify_cmd(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    full: bool = typer.Option(False, "--full", help="Re-read everything instead of from the cursors."),
) -> None:
    """Sync one brand's Shopify store into the warehouse, with a progress bar."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        result = _run_shopify_sync(runtime, brand, full=full)
    except NotConnected as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    _shopify_outcome(brand, result)


def _run_shopify_sync(runtime: Runtime, brand: str, *, full: bool) -> SyncResult:
    """Sync until done (``full`` re-reads everything on the first call only), one progress bar per stage."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,.0f} rows"), TimeElapsedColumn(),
                  console=err_console, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, n: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage.replace("_", " "), total=None)
            bar.advance(tasks[stage], n)

        options = RunOptions(progress=progress)
        result = sync_shopify(runtime, brand, full=full, options=options)
        while result.status == "incomplete":
            result = sync_shopify(runtime, brand, options=options)
    return result


def _shopify_outcome(brand: str, result: SyncResult) -> None:
    """Print what a finished Shopify sync stored; exit 1 unless it is ok."""
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    print_rows([{"table": t, "rows stored": n} for t, n in sorted(result.stored.items())],
               title=f"{brand}: Shopify sync ({result.mode}), {result.requests} requests")
    if result.status == "needs_reauth":
        fail(f"Shopify rejected the token for {result.shop_domain}: reconnect the store "
             f"(tower connect shopify --brand {brand} ...)")
    if result.status != "ok":
        fail(result.error or result.status)


def _sync_ads_command(platform: str) -> Callable[..., None]:
    """The ``sync`` command of one ad platform (the three differ only in names)."""
    label = PLATFORM_LABELS[platform]

    def sync(
        brand: str = typer.Option(..., "--brand", help="The brand's id."),
        since: str = typer.Option(None, "--since", help="Pull from this account-local date (YYYY-MM-DD)."),
        full: bool = typer.Option(False, "--full", help="Pull the whole history (TOWER_ADS_HISTORY_DAYS)."),
    ) -> None:
        start = parse_date(since, "--since")
        runtime = open_runtime()
        try:
            runtime.warehouse.init_schema()
            require_brand(runtime, brand)
            result = _run_ads_sync(runtime, platform, brand, since=start, full=full)
        except AdSyncUsageError as e:
            fail_usage(str(e))
        except RetriesExhausted as e:
            fail(f"{label} kept failing: {e}. Run the sync again to resume.")
        finally:
            runtime.close()
        _ads_outcome(platform, brand, result)

    sync.__doc__ = f"Sync a brand's {label} accounts into the warehouse, with a progress bar."
    return sync


def _run_ads_sync(runtime: Runtime, platform: str, brand: str, *, since: date | None, full: bool) -> AdSyncResult:
    """Sync until the window is done, one progress bar per account (in chunks)."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("chunks"), TimeElapsedColumn(), console=err_console) as bar:
        tasks: dict[str, Any] = {}

        def progress(account_id: str, done: int, total: int) -> None:
            if account_id not in tasks:
                tasks[account_id] = bar.add_task(f"{PLATFORM_LABELS[platform]} {account_id}", total=total)
            bar.update(tasks[account_id], completed=done, total=total)

        options = RunOptions(progress=progress)
        result = sync_ads(runtime, platform, brand, since=since, full=full, options=options)
        while result.status == "partial":
            result = sync_ads(runtime, platform, brand, options=options)
    return result


def _ads_outcome(platform: str, brand: str, result: AdSyncResult) -> None:
    """Print each account's window and rows; exit 2 when none is connected, 1 unless all are ok."""
    label = PLATFORM_LABELS[platform]
    if result.status == "not_connected":
        fail_usage(f"{brand} has no {label} account: tower connect {platform} --brand {brand} ...")
    print_rows(
        [
            {
                "account": a.account_id,
                "status": a.status,
                "window": f"{a.window_start} .. {a.window_end}",
                "rows stored": a.rows,
                "campaigns": a.campaigns,
            }
            for a in result.accounts
        ],
        title=f"{brand}: {label} sync",
    )
    if result.status == "needs_reauth":
        fail(f"{label} rejected the token: reconnect (tower connect {platform} --brand {brand} ...)")
    if result.status != "ok":
        fail("; ".join(a.error or a.status for a in result.accounts if a.status != "ok"))


for _platform in AD_PLATFORMS:
    app.command(_platform, help=f"Sync a brand's {PLATFORM_LABELS[_platform]} accounts into the warehouse.")(
        _sync_ads_command(_platform)
    )
