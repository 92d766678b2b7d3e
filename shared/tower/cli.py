"""The ``tower`` command: set up, sync, build, inspect and demo Control Tower.

Bad input exits with code 2 and a one-line message; failures of the work itself exit 1.
Vendor SDKs are imported inside the commands that need them.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import date
from typing import Any, NoReturn

import click
import typer
from rich.console import Console
from rich.table import Table

from tower.config import ConfigError, Settings, get_settings
from tower.redact import configure_logging, redact


class TowerGroup(typer.core.TyperGroup):
    """The root command group: setup problems found deep inside any command end it in one line.

    A broken secrets key exits 2; a warehouse another process holds, or a full disk, exits 1.
    """

    def invoke(self, ctx: click.Context) -> Any:
        # Every command that touches a secret opens the store lazily, so a broken local key
        # (missing beside stored secrets, corrupt, too open) surfaces here rather than in each command.
        from tower.adapters.local_secrets import SecretsKeyError
        from tower.ports import DiskFull, WarehouseUnavailable

        try:
            return super().invoke(ctx)
        except SecretsKeyError as e:
            fail_usage(str(e))
        except (WarehouseUnavailable, DiskFull) as e:
            # Another process holds the warehouse, or the disk is full: one line saying which file
            # and what to do, where a traceback would bury it.
            fail(str(e))


app = typer.Typer(
    cls=TowerGroup,
    help="Control Tower: ad spend tied to inventory and margin, for Shopify brands and their agencies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
brands_app = typer.Typer(help="Register and list brands.", no_args_is_help=True)
connect_app = typer.Typer(help="Connect a platform account to a brand (tokens go to the secret store).",
                          no_args_is_help=True)
sync_app = typer.Typer(help="Pull one platform's data for a brand into the warehouse.", no_args_is_help=True)
app.add_typer(brands_app, name="brands")
app.add_typer(connect_app, name="connect")
app.add_typer(sync_app, name="sync")

console = Console()
err_console = Console(stderr=True)


def fail_usage(message: str) -> NoReturn:
    """Report bad input and exit 2."""
    # soft_wrap: the message stays one line (greppable, a path unbroken) whatever the terminal width.
    err_console.print(f"[bold red]error:[/] {redact(message)}", soft_wrap=True)
    raise typer.Exit(code=2)


def fail(message: str) -> NoReturn:
    """Report a failure of the work itself and exit 1."""
    err_console.print(f"[bold red]failed:[/] {redact(message)}", soft_wrap=True)
    raise typer.Exit(code=1)


def load_settings() -> Settings:
    try:
        return get_settings()
    except (ConfigError, ValueError) as e:
        fail_usage(str(e))


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail_usage(f"{option} must be a date like 2026-11-01, not {value!r}")


def print_rows(rows: list[dict[str, Any]], title: str | None = None) -> None:
    """Rows as a rich table (values stringified)."""
    table = Table(title=title, show_lines=False)
    if not rows:
        console.print(f"[dim]{title + ': ' if title else ''}no rows[/]")
        return
    for col in rows[0]:
        table.add_column(str(col))
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r.values()])
    console.print(table)


@app.command()
def init() -> None:
    """Create the warehouse tables (idempotent) and the local stores."""
    from tower.adapters import open_warehouse

    settings = load_settings()
    wh = open_warehouse(settings)
    try:
        tables = wh.init_schema()
    finally:
        wh.close()
    console.print(f"[green]warehouse ready[/] ({settings.warehouse}): {len(tables)} tables")


@app.command()
def sql(
    statement: str = typer.Argument(..., help="One BigQuery-dialect query (the warehouse is opened read-only)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
    param: list[str] = typer.Option([], "--param", "-p", help="@name=value parameter (repeatable)."),
) -> None:
    """Run a BigQuery-dialect query on the configured warehouse, opened read-only.

    Read-only, so it runs beside other readers and writes nothing; a running ``tower demo`` or
    ``tower serve`` holds the file, and the command then says so.
    """
    import sqlglot

    from tower import sql as sqlfiles
    from tower.adapters import open_warehouse
    from tower.ports import PortError

    try:
        sqlfiles.parse_bigquery(statement)
    except sqlglot.errors.ParseError as e:
        fail_usage(f"not valid BigQuery SQL: {e}")
    params: dict[str, Any] = {}
    for p in param:
        name, sep, value = p.partition("=")
        if not sep or not name:
            fail_usage(f"--param takes name=value, not {p!r}")
        params[name.lstrip("@")] = value
    wh = open_warehouse(load_settings(), read_only=True)
    try:
        rows = wh.rows(statement, params)
    except PortError as e:
        fail_usage(str(e).splitlines()[0])
    finally:
        wh.close()
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps(r, default=str) + "\n")
    else:
        print_rows(rows)


@app.command("settings")
def settings_cmd(
    fmt: str = typer.Option("markdown", "--format", help="markdown | env"),
) -> None:
    """Print every setting with its default and help (the README table and .env.example)."""
    from tower.config import render_settings

    if fmt not in ("markdown", "env"):
        fail_usage("--format must be markdown or env")
    sys.stdout.write(render_settings(fmt))


# Shopify: tower brands add|list, tower connect shopify, tower sync shopify.
from tower.connectors.shopify.cli import register as _register_shopify

_register_shopify(brands_app, connect_app, sync_app)

# Meta, TikTok, Google Ads: tower connect meta|tiktok|google_ads, tower sync meta|tiktok|google_ads.
from tower.connectors.ads_cli import register as _register_ads

_register_ads(connect_app, sync_app)

# Decisions and AI: tower recommendations [accept|dismiss|undo], tower alerts, tower summary, tower ask, tower ai usage.
from tower.ai.cli import register as _register_ai
from tower.decisions.cli import register as _register_decisions

_register_decisions(app)
_register_ai(app)

# Dashboard API: tower api-key create --agency ID | --brand ID.
from tower.api.cli import register as _register_api

_register_api(app)


def load_plugins() -> list[str]:
    """Let installed packages add commands: each ``tower.plugins`` entry point is a function taking
    the root Typer app. The development package registers ``tower demo`` and ``tower world`` this way,
    so the product never imports it (a deployment without it simply has no demo)."""
    from importlib.metadata import entry_points

    loaded = []
    for ep in entry_points(group="tower.plugins"):
        try:
            register = ep.load()
        except ModuleNotFoundError as e:
            # Metadata left by an install whose package is not importable here (a function's zip
            # beside a development install): that plugin is simply absent. Any other error is real.
            if e.name and ep.module.split(".")[0] == e.name.split(".")[0]:
                continue
            raise
        register(app)
        loaded.append(ep.name)
    return loaded


load_plugins()


def main() -> None:
    """Console-script entry point: warnings and errors logged as masked JSON lines on stderr (the
    commands print their own progress), and a crash prints its traceback masked (a chained vendor error
    can hold a token in its URL) before exiting 1."""
    configure_logging(logging.WARNING)
    try:
        app()
    except Exception:  # noqa: BLE001 - the last edge: whatever escaped a command
        sys.stderr.write(redact(traceback.format_exc()))
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
