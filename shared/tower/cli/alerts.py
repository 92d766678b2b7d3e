"""``tower alerts``: the brand's open alerts, most severe first."""

from __future__ import annotations

import typer

from tower.cli.inputs import brand_today, open_runtime
from tower.cli.output import print_alerts, print_json
from tower.decisions.recommend import run_recommend
from tower.decisions.store import list_alerts


def alerts_cmd(
    brand: str = typer.Option(..., "--brand", help="Brand id."),
    today: str = typer.Option(None, "--today", help="Run date (default: the brand's local today)."),
    cached: bool = typer.Option(False, "--cached", help="Only read what the last run stored."),
    show_all: bool = typer.Option(False, "--all", help="Include resolved alerts."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The brand's open alerts (detected now unless --cached), most severe first."""
    runtime = open_runtime(read_only=True)
    try:
        day = brand_today(runtime, brand, today)
        if not cached:
            run_recommend(runtime, brand, day)
        alerts = list_alerts(runtime.store, brand, None if show_all else "open")
    finally:
        runtime.close()
    if as_json:
        print_json(alerts)
    else:
        print_alerts(alerts, f"{brand}: alerts")
