"""``tower api-key create --agency ID | --brand ID [--brand ID…] [--name N]``: issue an API key.

The key is printed once, alone on stdout (so a script can capture it); what it covers goes to
stderr. Only its SHA-256 is stored. An unknown agency or brand, or both scopes at once, exits 2.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

api_key_app = typer.Typer(help="API keys for the dashboard API (stored hashed; shown once).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``tower api-key …`` to the app."""
    app.add_typer(api_key_app, name="api-key")


def _cli() -> Any:
    from tower import cli

    return cli


def _brand_exists(runtime: Any, brand_id: str) -> bool:
    if runtime.store.get(f"brands/{brand_id}"):
        return True
    rows = runtime.warehouse.rows("SELECT brand_id FROM brands WHERE brand_id = @brand_id", {"brand_id": brand_id})
    return bool(rows)


@api_key_app.command("create")
def create_cmd(
    agency: Annotated[str | None, typer.Option("--agency", help="Agency id: the key sees every brand of it.")] = None,
    brand: Annotated[list[str] | None, typer.Option("--brand", help="Brand id the key sees (repeatable).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Who or what the key is for (default: its scope).")] = None,
) -> None:
    """Issue an API key for an agency or for brands; print it once."""
    from tower.api.auth import BadApiKeyRequest, create_api_key
    from tower.runtime import Runtime

    cli = _cli()
    brand = list(brand or [])
    if bool(agency) == bool(brand):
        cli.fail_usage("give either --agency ID or one or more --brand ID")
    runtime = Runtime(cli.load_settings(), read_only=True)  # the key goes to the store; brands are only looked up
    try:
        if agency and not runtime.store.get(f"agencies/{agency}"):
            cli.fail_usage(f"unknown agency {agency!r} (no agencies/{agency} document)")
        unknown = [b for b in brand if not _brand_exists(runtime, b)]
        if unknown:
            cli.fail_usage(f"unknown brand {unknown[0]!r} (add it with `tower brands add`)")
        label = name or (f"agency-{agency}" if agency else "brands-" + "-".join(sorted(brand)))
        try:
            key = create_api_key(runtime.store, agency_id=agency, brand_ids=list(brand) or None, name=label)
        except BadApiKeyRequest as e:
            cli.fail_usage(str(e))
    finally:
        runtime.close()
    scope = f"agency {agency}" if agency else "brand " + ", ".join(sorted(brand))
    cli.err_console.print(f"[green]API key[/] {label!r} for {scope} (shown once; only its hash is stored):")
    sys.stdout.write(key + "\n")
