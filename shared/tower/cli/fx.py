"""``tower fx sync [--history]``: load the ECB's euro reference rates, as the daily scheduled function does.

The rates go to ``fx_rates``; each brand whose ad accounts bill in another currency than its store's
has its missing-rate warnings brought up to date (and, under ``tower serve``, its models rebuilt over
the new days). The ECB unreachable exits 1 naming the origin tried; bad input exits 2.
"""

from __future__ import annotations

import typer

from tower import pipeline
from tower.brand_warnings import FX_MISSING, list_warnings
from tower.cli.inputs import open_runtime
from tower.cli.output import console, fail, print_rows
from tower.connectors.retry import FatalError

app = typer.Typer(help="Exchange rates: the ECB's euro reference rates.", no_args_is_help=True)


@app.command("sync")
def fx_sync(
    history: bool = typer.Option(False, "--history", help="Read the last 90 days instead of the latest day "
                                 "(the default reads the history by itself when days are missing)."),
) -> None:
    """Load the ECB's reference rates into the warehouse and check every brand's ad currencies."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        try:
            result = pipeline.run_fx_sync(runtime, history=True if history else None)
        except FatalError as e:
            fail(f"{e} (TOWER_ECB_ORIGIN={runtime.settings.ecb_origin}); try again later, or point "
                 "TOWER_ECB_ORIGIN at a reachable copy of the feed")
        open_warnings = {b: list_warnings(runtime.store, b, FX_MISSING) for b in result["brands"]}
    finally:
        runtime.close()
    console.print(f"[green]fx rates loaded[/] {result['rows']} rates ({result['feed']}) for "
                  f"{len(result['currencies'])} currencies, {result['first_date']} to {result['last_date']}")
    rows = [{"brand": b, "currency": w["details"].get("currency"), "rows": w["details"].get("rows"),
             "from": w["details"].get("first_date"), "to": w["details"].get("last_date")}
            for b, ws in open_warnings.items() for w in ws]
    if rows:
        print_rows(rows, title="ad spend with no exchange rate (left out of every figure)")
