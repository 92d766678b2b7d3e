"""The Shopify commands of ``tower``: ``brands add|list``, ``connect shopify``, ``sync shopify``.

Registered onto the ``tower`` app's sub-commands by :func:`register`. Bad input exits 2 with a
one-line message; a sync that fails (or needs the merchant to reconnect) exits 1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer


def register(brands_app: typer.Typer, connect_app: typer.Typer, sync_app: typer.Typer) -> None:
    """Add the commands to the ``tower brands``, ``tower connect`` and ``tower sync`` groups."""
    brands_app.command("add")(brands_add)
    brands_app.command("list")(brands_list)
    connect_app.command("shopify")(connect_shopify_cmd)
    sync_app.command("shopify")(sync_shopify_cmd)


def _cli() -> Any:
    from tower import cli

    return cli


def brands_add(
    brand_id: str = typer.Option(..., "--id", help="Brand id: lower-case letters, digits, '-' or '_'."),
    name: str = typer.Option(..., "--name", help="Display name."),
    timezone: str = typer.Option(..., "--timezone", help="The store's IANA time zone, e.g. America/Chicago."),
    currency: str = typer.Option(..., "--currency", help="The store's currency, ISO 4217 (USD)."),
) -> None:
    """Register a brand (idempotent: adding it again updates it)."""
    from tower.adapters import open_warehouse
    from tower.brands import BadBrand, add_brand

    cli = _cli()
    wh = open_warehouse(cli.load_settings())
    try:
        wh.init_schema()
        row = add_brand(wh, brand_id=brand_id, name=name, timezone=timezone, currency=currency,
                        now=datetime.now(UTC))
    except BadBrand as e:
        cli.fail_usage(str(e))
    finally:
        wh.close()
    cli.console.print(f"[green]brand registered[/] {row['brand_id']} ({row['brand_name']}, {timezone}, {currency})")


def brands_list() -> None:
    """List the registered brands."""
    from tower.adapters import open_warehouse

    cli = _cli()
    wh = open_warehouse(cli.load_settings())
    try:
        wh.init_schema()
        rows = wh.rows("SELECT brand_id, brand_name, timezone, currency, shop_domain FROM brands ORDER BY brand_id")
    finally:
        wh.close()
    cli.print_rows(rows, title="brands")


def connect_shopify_cmd(
    brand: str = typer.Option(..., "--brand", help="The brand's id (tower brands add)."),
    shop: str = typer.Option(..., "--shop", help="The store's NAME.myshopify.com domain."),
    token: str = typer.Option(..., "--token", help="Admin API access token (stored in the secret store)."),
    scopes: str = typer.Option("", "--scopes", help="Comma-separated scopes granted to the token (recorded)."),
) -> None:
    """Connect a Shopify store to a brand; the token goes to the secret store, never the warehouse."""
    from tower.adapters import open_secrets, open_warehouse
    from tower.connectors.shopify.connect import SCOPE_ADVICE, BadConnection, connect_shopify

    cli = _cli()
    settings = cli.load_settings()
    wh = open_warehouse(settings)
    try:
        wh.init_schema()
        row = connect_shopify(wh, open_secrets(settings), brand_id=brand, shop=shop, token=token,
                              now=datetime.now(UTC), scopes=[s.strip() for s in scopes.split(",") if s.strip()])
    except BadConnection as e:
        cli.fail_usage(str(e))
    finally:
        wh.close()
    cli.console.print(f"[green]connected[/] {row['account_id']} to {brand} (token stored as {row['secret_ref']})")
    if "read_all_orders" not in scopes.split(","):
        cli.console.print(f"[yellow]note:[/] {SCOPE_ADVICE}")


def sync_shopify_cmd(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    full: bool = typer.Option(False, "--full", help="Re-read everything instead of from the cursors."),
) -> None:
    """Sync one brand's Shopify store into the warehouse, with a progress bar."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tower.adapters import open_secrets, open_store, open_warehouse
    from tower.connectors.shopify.sync import NotConnected, sync_shopify

    cli = _cli()
    settings = cli.load_settings()
    wh = open_warehouse(settings)
    store = open_store(settings)
    try:
        wh.init_schema()
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.completed:,.0f} rows"), TimeElapsedColumn(),
                      console=cli.err_console, transient=False) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, n: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage.replace("_", " "), total=None)
                bar.advance(tasks[stage], n)

            result = None
            # The CLI is not bound by a function's 9 minutes: resume until the sync is done.
            while result is None or result.status == "incomplete":
                result = sync_shopify(brand, settings=settings, warehouse=wh, secrets=open_secrets(settings),
                                      store=store, full=full and result is None, progress=progress)
    except NotConnected as e:
        cli.fail_usage(str(e))
    finally:
        wh.close()
    for warning in result.warnings:
        cli.console.print(f"[yellow]warning:[/] {warning}")
    cli.print_rows([{"table": t, "rows stored": n} for t, n in sorted(result.stored.items())],
                   title=f"{brand}: Shopify sync ({result.mode}), {result.requests} requests")
    if result.status == "needs_reauth":
        cli.fail(f"Shopify rejected the token for {result.shop_domain}: reconnect the store "
                 f"(tower connect shopify --brand {brand} ...)")
    if result.status != "ok":
        cli.fail(result.error or result.status)
