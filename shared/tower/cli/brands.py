"""``tower brands add|list``: register the brands every platform account hangs off."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from tower.adapters import open_warehouse
from tower.brands import BadBrand, add_brand
from tower.cli.inputs import load_settings
from tower.cli.output import console, fail_usage, print_rows

app = typer.Typer(help="Register and list brands.", no_args_is_help=True)


@app.command("add")
def brands_add(
    brand_id: str = typer.Option(..., "--id", help="Brand id: lower-case letters, digits, '-' or '_'."),
    name: str = typer.Option(..., "--name", help="Display name."),
    timezone: str = typer.Option(..., "--timezone", help="The store's IANA time zone, e.g. America/Chicago."),
    currency: str = typer.Option(..., "--currency", help="The store's currency, ISO 4217 (USD)."),
) -> None:
    """Register a brand (idempotent: adding it again updates it)."""
    wh = open_warehouse(load_settings())
    try:
        wh.init_schema()
        row = add_brand(wh, brand_id=brand_id, name=name, timezone=timezone, currency=currency,
                        now=datetime.now(UTC))
    except BadBrand as e:
        fail_usage(str(e))
    finally:
        wh.close()
    console.print(f"[green]brand registered[/] {row['brand_id']} ({row['brand_name']}, {timezone}, {currency})")


@app.command("list")
def brands_list() -> None:
    """List the registered brands."""
    wh = open_warehouse(load_settings())
    try:
        wh.init_schema()
        rows = wh.rows("SELECT brand_id, brand_name, timezone, currency, shop_domain FROM brands ORDER BY brand_id")
    finally:
        wh.close()
    print_rows(rows, title="brands")
