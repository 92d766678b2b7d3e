"""``tower sql``: one BigQuery-dialect query on the configured warehouse, opened read-only."""

from __future__ import annotations

from typing import Any

import sqlglot
import typer

from tower import sql as sqlfiles
from tower.adapters import open_warehouse
from tower.cli.inputs import load_settings
from tower.cli.output import fail_usage, print_json, print_rows
from tower.ports import PortError


def sql(
    statement: str = typer.Argument(..., help="One BigQuery-dialect query (the warehouse is opened read-only)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
    param: list[str] = typer.Option([], "--param", "-p", help="@name=value parameter (repeatable)."),
) -> None:
    """Run a BigQuery-dialect query on the configured warehouse, opened read-only.

    Read-only, so it runs beside other readers and writes nothing; a running ``tower demo`` or
    ``tower serve`` holds the file, and the command then says so.
    """
    try:
        sqlfiles.parse_bigquery(statement)
    except sqlglot.errors.ParseError as e:
        fail_usage(f"not valid BigQuery SQL: {e}")
    params = _params(param)
    wh = open_warehouse(load_settings(), read_only=True)
    try:
        rows = wh.rows(statement, params)
    except PortError as e:
        fail_usage(str(e).splitlines()[0])
    finally:
        wh.close()
    if as_json:
        for r in rows:
            print_json(r, indent=None)
    else:
        print_rows(rows)


def _params(pairs: list[str]) -> dict[str, Any]:
    """``--param name=value`` options as query parameters (a leading ``@`` dropped); bad ones exit 2."""
    params: dict[str, Any] = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep or not name:
            fail_usage(f"--param takes name=value, not {p!r}")
        params[name.lstrip("@")] = value
    return params
