"""``tower connect shopify|meta|tiktok|google_ads``: connect a platform account to a brand.

Tokens go to the secret store, never the warehouse. Bad input (unknown brand, a bad shop domain, an
empty or rejected token) exits 2 with a one-line message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import typer

from tower.cli.inputs import open_runtime, require_brand
from tower.cli.output import PLATFORM_LABELS, console, fail_usage
from tower.connectors.ad_platforms import AdSyncUsageError, normalise_account_id
from tower.names import AD_PLATFORMS
from tower.sandboxes import note_connection
from tower.sync.connect import SCOPE_ADVICE, BadConnection, connect_ad_account, connect_shopify

app = typer.Typer(help="Connect a platform account to a brand (tokens go to the secret store).",
                  no_args_is_help=True)

_ACCOUNT_HELP = {
    "meta": "Ad account id (act_123... or 123...).",
    "tiktok": "Advertiser id.",
    "google_ads": "Customer id (123-456-7890 or 1234567890).",
}


@app.command("shopify")
def connect_shopify_cmd(
    brand: str = typer.Option(..., "--brand", help="The brand's id (tower brands add)."),
    shop: str = typer.Option(..., "--shop", help="The store's NAME.myshopify.com domain."),
    token: str = typer.Option(..., "--token", help="Admin API access token (stored in the secret store)."),
    scopes: str = typer.Option("", "--scopes", help="Comma-separated scopes granted to the token (recorded)."),
) -> None:
    """Connect a Shopify store to a brand; the token goes to the secret store, never the warehouse."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        row = connect_shopify(runtime.warehouse, runtime.secrets, brand_id=brand, shop=shop, token=token,
                              now=datetime.now(UTC), scopes=[s.strip() for s in scopes.split(",") if s.strip()])
        sandbox = note_connection(runtime.settings, runtime.store, brand, "shopify", row["account_id"])
    except BadConnection as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]connected[/] {row['account_id']} to {brand} (token stored as {row['secret_ref']})")
    _say_sandbox(sandbox)
    if "read_all_orders" not in scopes.split(","):
        console.print(f"[yellow]note:[/] {SCOPE_ADVICE}")


def _connect_ads_command(platform: str) -> Callable[..., None]:
    """The ``connect`` command of one ad platform (the three differ only in names and help)."""
    label = PLATFORM_LABELS[platform]

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
        if token == "-":
            token = sys.stdin.readline().strip()
        if login_customer_id and platform != "google_ads":
            fail_usage("--login-customer-id is for google_ads only")
        runtime = open_runtime()
        try:
            runtime.warehouse.init_schema()
            require_brand(runtime, brand)
            info = connect_ad_account(
                runtime, platform, brand, account, token, login_customer_id=login_customer_id or None
            )
            sandbox = note_connection(runtime.settings, runtime.store, brand, platform,
                                      normalise_account_id(platform, account))
        except AdSyncUsageError as e:
            fail_usage(str(e))
        finally:
            runtime.close()
        console.print(
            f"[green]connected[/] {label} account {info.account_id} to {brand} "
            f"({info.currency}, {info.timezone}); token stored in the secret store"
        )
        _say_sandbox(sandbox)

    connect.__doc__ = f"Connect a {label} account to a brand (the token goes to the secret store)."
    return connect


def _say_sandbox(sandbox: dict[str, Any] | None) -> None:
    """Tell whoever connected a sandbox account that it is remembered (it comes back after it stops)."""
    if sandbox:
        seed = (sandbox.get("world") or {}).get("params", {}).get("seed")
        console.print(f"[dim]a development sandbox at {sandbox['origin']} (world seed {seed}): remembered, so "
                      "tower serve and every command bring it back once it has stopped[/]", soft_wrap=True)


for _platform in AD_PLATFORMS:
    app.command(_platform, help=f"Connect a {PLATFORM_LABELS[_platform]} account to a brand.")(
        _connect_ads_command(_platform)
    )
