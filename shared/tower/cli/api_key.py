"""``tower api-key create --agency ID | --brand ID [--brand ID…] | --operator [--name N]``: issue an API key.

An operator key registers agencies and attaches brands to them (``POST /api/agencies…``) and reads no
brand's data; agency and brand keys read their brands.

The key is printed once, alone on stdout (so a script can capture it); what it covers goes to
stderr. Only its SHA-256 is stored. An unknown agency or brand, or both scopes at once, exits 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tower.api.auth import BadApiKeyRequest, create_api_key
from tower.cli.inputs import open_runtime
from tower.cli.output import err_console, fail_usage
from tower.runtime import Runtime

app = typer.Typer(help="API keys for the dashboard API (stored hashed; shown once).", no_args_is_help=True)


@app.command("create")
def create_cmd(
    agency: Annotated[str | None, typer.Option("--agency", help="Agency id: the key sees every brand of it.")] = None,
    brand: Annotated[list[str] | None, typer.Option("--brand", help="Brand id the key sees (repeatable).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Who or what the key is for (default: its scope).")] = None,
    operator: Annotated[bool, typer.Option("--operator", help="The operator's key: agencies and their brands, "
                                           "no brand's data.")] = False,
) -> None:
    """Issue an API key for an agency, for brands or for the operator; print it once."""
    brands = list(brand or [])
    if sum((bool(agency), bool(brands), operator)) != 1:
        fail_usage("give either --agency ID or one or more --brand ID, or --operator alone")
    runtime = open_runtime(read_only=True)  # the key goes to the store; brands are only looked up
    try:
        if agency and not runtime.store.get(f"agencies/{agency}"):
            fail_usage(f"unknown agency {agency!r} (no agencies/{agency} document)")
        unknown = [b for b in brands if not _brand_exists(runtime, b)]
        if unknown:
            fail_usage(f"unknown brand {unknown[0]!r} (add it with `tower brands add`)")
        label = name or ("operator" if operator else f"agency-{agency}" if agency
                         else "brands-" + "-".join(sorted(brands)))
        try:
            key = create_api_key(runtime.store, agency_id=agency, brand_ids=brands or None, name=label,
                                 operator=operator)
        except BadApiKeyRequest as e:
            fail_usage(str(e))
    finally:
        runtime.close()
    scope = "the operator" if operator else f"agency {agency}" if agency else "brand " + ", ".join(sorted(brands))
    err_console.print(f"[green]API key[/] {label!r} for {scope} (shown once; only its hash is stored):")
    sys.stdout.write(key + "\n")


def _brand_exists(runtime: Runtime, brand_id: str) -> bool:
    """A brand registered in the store (a tenant document) or the warehouse."""
    if runtime.store.get(f"brands/{brand_id}"):
        return True
    rows = runtime.warehouse.rows("SELECT brand_id FROM brands WHERE brand_id = @brand_id", {"brand_id": brand_id})
    return bool(rows)
