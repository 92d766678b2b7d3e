"""``tower brands add|list|set|show|regions``: the brands every platform account hangs off, and what only
their merchant knows (``set``: fulfilment cost, thresholds; ``regions``: which location serves a region).

Bad input exits 2 with a message naming it, and nothing is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from tower.adapters import open_warehouse
from tower.brands import BadBrand, add_brand
from tower.cli.inputs import load_settings, open_runtime
from tower.cli.output import console, fail_usage, print_rows
from tower.decisions.brand_settings import (
    BadSetting,
    apply_settings,
    brand_settings_view,
    parse_value,
    region_rules,
    remove_region_rule,
    set_region_rule,
)

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


# --- what only the merchant knows --------------------------------------------------------------------


@app.command("set")
def brands_set(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    assignments: list[str] = typer.Argument(None, help="NAME=VALUE, e.g. fulfillment_cost_per_order=6.5 "
                                            "cover_low_days=21 rules.reduce_roas_below=2 (see `tower brands show`)."),
    unset: list[str] = typer.Option([], "--unset", help="Setting to take back to the deployment's default "
                                    "(repeatable)."),
) -> None:
    """Set what only the merchant knows: fulfilment cost per order, cover and alert thresholds..."""
    values: dict[str, Any] = {}
    for a in assignments or []:
        name, sep, text = a.partition("=")
        if not sep or not name.strip() or not text.strip():
            fail_usage(f"{a!r}: give settings as NAME=VALUE (e.g. fulfillment_cost_per_order=6.5)")
        values[name.strip()] = parse_value(text)
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        view = apply_settings(runtime.warehouse, runtime.store, runtime.settings, brand, values=values,
                              unset=unset, now=datetime.now(UTC))
    except BadSetting as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]settings saved[/] for {brand}: "
                  + ", ".join(f"{k}={view['effective'][k]}" for k in values) + (" · unset " + ", ".join(unset)
                                                                                   if unset else ""))


@app.command("show")
def brands_show(brand: str = typer.Option(..., "--brand", help="The brand's id.")) -> None:
    """The brand's settings: every name, the value in use, and whether the brand set it."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        view = brand_settings_view(runtime.warehouse, runtime.store, runtime.settings, brand)
        rules = region_rules(runtime.warehouse, brand)
    except BadSetting as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    print_rows([{"setting": k, "value": v, "set by the brand": "yes" if k in view["stored"] else ""}
                for k, v in view["effective"].items()], title=f"{brand} settings")
    print_rows(_rule_rows(rules), title=f"{brand} region → location rules")


def _rule_rows(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"region": r["region_code"], "location": r["location_id"], "cost per order": r["fulfillment_cost_amount"]}
            for r in rules]


regions = typer.Typer(help="Region → location rules: which location serves a shipping region.",
                      no_args_is_help=True)
app.add_typer(regions, name="regions")


@regions.command("set")
def regions_set(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    region: str = typer.Option(..., "--region", help="ISO 3166-2 code of the shipping region, e.g. CA-ON."),
    location: str = typer.Option(..., "--location", help="The serving location: its id, number or name."),
    cost: str = typer.Option(None, "--fulfillment-cost", help="Fulfilment cost per order to this region "
                             "(store currency)."),
) -> None:
    """Serve a region from a location (an override of where Shopify fulfils its orders)."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        row = set_region_rule(runtime.warehouse, brand, region, location, fulfillment_cost=cost,
                              now=datetime.now(UTC))
    except BadSetting as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]rule saved[/] {brand}: {row['region_code']} → {row['location_id']}"
                  + (f" at {row['fulfillment_cost_amount']} per order" if row["fulfillment_cost_amount"] else ""))


@regions.command("list")
def regions_list(brand: str = typer.Option(..., "--brand", help="The brand's id.")) -> None:
    """The brand's region → location rules."""
    runtime = open_runtime(read_only=True)
    try:
        rows = region_rules(runtime.warehouse, brand)
    except BadSetting as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    print_rows(_rule_rows(rows), title=f"{brand} region → location rules")


@regions.command("remove")
def regions_remove(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    region: str = typer.Option(..., "--region", help="ISO 3166-2 code of the shipping region."),
) -> None:
    """Remove a region's rule."""
    runtime = open_runtime()
    try:
        found = remove_region_rule(runtime.warehouse, brand, region)
    except BadSetting as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]rule removed[/] {brand}: {region.upper()}" if found else f"no rule for {region.upper()}")
