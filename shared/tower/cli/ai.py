"""``tower ai usage``: Claude's calls, tokens and cost per brand and month."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from tower.adapters import open_warehouse
from tower.ai.usage import month_bounds, usage_report
from tower.cli.inputs import load_settings
from tower.cli.output import fail_usage, print_json, print_rows

app = typer.Typer(help="The AI layer: usage and cost.", no_args_is_help=True)


@app.command("usage")
def usage_cmd(
    month: str = typer.Option(None, "--month", help="Calendar month, e.g. 2026-11 (default: this month)."),
    brand: str = typer.Option("", "--brand", help="Only this brand."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Claude calls, tokens and cost per brand and month, with grounding passes and fallbacks."""
    try:
        start, end = month_bounds(month or datetime.now(UTC).strftime("%Y-%m"))
    except ValueError as e:
        fail_usage(str(e))
    wh = open_warehouse(load_settings(), read_only=True)
    try:
        rows = usage_report(wh, start=start, end=end, brand_id=brand)
    finally:
        wh.close()
    if as_json:
        print_json(rows)
        return
    print_rows(rows, title=f"AI usage {start:%Y-%m} (USD)")
