"""``tower agencies add|attach|list``: agencies and the brands they run.

``tower api-key create --agency ID`` then issues the key that sees every brand attached. Bad input
(a bad id, an unknown agency or brand) exits 2 with a message naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from tower.agencies import BadAgency, add_agency, attach_brands, list_agencies
from tower.cli.inputs import open_runtime
from tower.cli.output import console, fail_usage, print_rows

app = typer.Typer(help="Agencies and the brands they run.", no_args_is_help=True)


@app.command("add")
def agencies_add(
    agency_id: str = typer.Option(..., "--id", help="Agency id: lower-case letters, digits, '-' or '_'."),
    name: str = typer.Option(..., "--name", help="Display name."),
) -> None:
    """Register an agency (idempotent: adding it again renames it)."""
    runtime = open_runtime(read_only=True)  # the agency lives in the document store
    try:
        doc, created = add_agency(runtime.store, agency_id, name, datetime.now(UTC))
    except BadAgency as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]agency {'registered' if created else 'updated'}[/] {agency_id} ({doc['name']}, "
                  f"{len(doc['brand_ids'])} brands)")


@app.command("attach")
def agencies_attach(
    agency: str = typer.Option(..., "--agency", help="The agency's id."),
    brand: list[str] = typer.Option(..., "--brand", help="A registered brand's id (repeatable)."),
) -> None:
    """Attach brands to an agency (a brand attached elsewhere before moves here)."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        doc = attach_brands(runtime.warehouse, runtime.store, agency, brand, datetime.now(UTC))
    except BadAgency as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]attached[/] {', '.join(sorted(brand))} to {agency}; it runs "
                  f"{', '.join(doc['brand_ids'])}")


@app.command("list")
def agencies_list() -> None:
    """Every agency and its brands."""
    runtime = open_runtime(read_only=True)
    try:
        rows = [{"agency": a["agency_id"], "name": a.get("name"), "brands": ", ".join(a.get("brand_ids") or [])}
                for a in list_agencies(runtime.store)]
    finally:
        runtime.close()
    print_rows(rows, title="agencies")
