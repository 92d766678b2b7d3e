"""The ad platform commands of ``tower``: ``connect meta|tiktok|google_ads`` and ``sync meta|tiktok|google_ads``.

Registered onto the ``tower`` app's sub-commands by :func:`register`. Bad input (unknown brand,
empty or rejected token, a brand not connected) exits 2 with a one-line message; a sync that
fails or needs the merchant to reconnect exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from tower.connectors.ads_records import PLATFORMS

_LABEL = {"meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads"}
_ACCOUNT_HELP = {
    "meta": "Ad account id (act_123... or 123...).",
    "tiktok": "Advertiser id.",
    "google_ads": "Customer id (123-456-7890 or 1234567890).",
}


def register(connect_app: typer.Typer, sync_app: typer.Typer) -> None:
    """Add ``connect <platform>`` and ``sync <platform>`` for Meta, TikTok and Google Ads."""
    for platform in PLATFORMS:
        connect_app.command(platform, help=f"Connect a {_LABEL[platform]} account to a brand.")(
            _connect_command(platform)
        )
        sync_app.command(platform, help=f"Sync a brand's {_LABEL[platform]} accounts into the warehouse.")(
            _sync_command(platform)
        )


def _cli() -> Any:
    from tower import cli

    return cli


def _runtime() -> Any:
    from tower.runtime import Runtime

    runtime = Runtime(_cli().load_settings())
    runtime.warehouse.init_schema()
    return runtime


def _check_brand(runtime: Any, brand: str) -> None:
    if not runtime.warehouse.rows("SELECT brand_id FROM brands WHERE brand_id = @b", {"b": brand}):
        _cli().fail_usage(f"unknown brand {brand!r}: register it first (tower brands add --id {brand} ...)")


def _connect_command(platform: str) -> Callable[..., None]:
    def connect(
        brand: str = typer.Option(..., "--brand", help="The brand's id (tower brands add)."),
        account: str = typer.Option(..., "--account", help=_ACCOUNT_HELP[platform]),
        token: str = typer.Option(
            ...,
            "--token",
            help="Access token ('-' reads it from stdin); goes to the secret store, never the warehouse.",
        ),
        login_customer_id: str = typer.Option(
            "", "--login-customer-id", help="Google Ads: the manager account the token signs in through."
        ),
    ) -> None:
        from tower.connectors.ads_sync import AdSyncUsageError, connect_ad_account

        cli = _cli()
        if token == "-":
            token = sys.stdin.readline().strip()
        if login_customer_id and platform != "google_ads":
            cli.fail_usage("--login-customer-id is for google_ads only")
        runtime = _runtime()
        try:
            _check_brand(runtime, brand)
            info = connect_ad_account(
                runtime, platform, brand, account, token, login_customer_id=login_customer_id or None
            )
        except AdSyncUsageError as e:
            cli.fail_usage(str(e))
        finally:
            runtime.close()
        cli.console.print(
            f"[green]connected[/] {_LABEL[platform]} account {info.account_id} to {brand} "
            f"({info.currency}, {info.timezone}); token stored in the secret store"
        )

    connect.__doc__ = f"Connect a {_LABEL[platform]} account to a brand (the token goes to the secret store)."
    return connect


def _sync_command(platform: str) -> Callable[..., None]:
    def sync(
        brand: str = typer.Option(..., "--brand", help="The brand's id."),
        since: str = typer.Option(None, "--since", help="Pull from this account-local date (YYYY-MM-DD)."),
        full: bool = typer.Option(False, "--full", help="Pull the whole history (TOWER_ADS_HISTORY_DAYS)."),
    ) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from tower.connectors.ads_sync import AdSyncUsageError, sync_ads
        from tower.connectors.retry import RetriesExhausted

        cli = _cli()
        start = cli.parse_date(since, "--since")
        runtime = _runtime()
        try:
            _check_brand(runtime, brand)
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("chunks"),
                TimeElapsedColumn(),
                console=cli.err_console,
            ) as bar:
                tasks: dict[str, Any] = {}

                def progress(account_id: str, done: int, total: int) -> None:
                    if account_id not in tasks:
                        tasks[account_id] = bar.add_task(f"{_LABEL[platform]} {account_id}", total=total)
                    bar.update(tasks[account_id], completed=done, total=total)

                result = sync_ads(runtime, platform, brand, since=start, full=full, progress=progress)
                # The CLI is not bound by a function's 9 minutes: continue until the window is done.
                while result.status == "partial":
                    result = sync_ads(runtime, platform, brand, progress=progress)
        except AdSyncUsageError as e:
            cli.fail_usage(str(e))
        except RetriesExhausted as e:
            cli.fail(f"{_LABEL[platform]} kept failing: {e}. Run the sync again to resume.")
        finally:
            runtime.close()
        if result.status == "not_connected":
            cli.fail_usage(
                f"{brand} has no {_LABEL[platform]} account: tower connect {platform} --brand {brand} ..."
            )
        cli.print_rows(
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
            title=f"{brand}: {_LABEL[platform]} sync",
        )
        if result.status == "needs_reauth":
            cli.fail(
                f"{_LABEL[platform]} rejected the token: reconnect (tower connect {platform} --brand {brand} ...)"
            )
        if result.status != "ok":
            cli.fail("; ".join(a.error or a.status for a in result.accounts if a.status != "ok"))

    sync.__doc__ = f"Sync a brand's {_LABEL[platform]} accounts into the warehouse, with a progress bar."
    return sync
