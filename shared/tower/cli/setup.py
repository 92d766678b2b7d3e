"""``tower init`` and ``tower settings``: create the local house, and document its settings."""

from __future__ import annotations

import sys

import typer

from tower.adapters import open_warehouse
from tower.cli.inputs import load_settings
from tower.cli.output import console, fail_usage
from tower.config import render_settings


def init() -> None:
    """Create the warehouse tables (idempotent) and the local stores."""
    settings = load_settings()
    wh = open_warehouse(settings)
    try:
        tables = wh.init_schema()
    finally:
        wh.close()
    console.print(f"[green]warehouse ready[/] ({settings.warehouse}): {len(tables)} tables")


def settings_cmd(
    fmt: str = typer.Option("markdown", "--format", help="markdown | env"),
) -> None:
    """Print every setting with its default and help (the README table and .env.example)."""
    if fmt not in ("markdown", "env"):
        fail_usage("--format must be markdown or env")
    sys.stdout.write(render_settings(fmt))
