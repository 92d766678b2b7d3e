"""``tower sql``: one BigQuery-dialect statement on the configured warehouse, read-only unless ``--write``.

Without ``--write`` only a query runs (``SELECT``, ``WITH``, set operations, ``INFORMATION_SCHEMA``
views); anything that would change the warehouse (``INSERT``, ``UPDATE``, ``DELETE``, ``MERGE``,
``CREATE``, ``DROP``, ``ALTER``, ``TRUNCATE``...) is refused with exit 2 before the warehouse is opened.
The check is ours, not only DuckDB's read-only file: on BigQuery the service account may write, and an
operator's mistyped statement must not.
"""

from __future__ import annotations

from typing import Any

import sqlglot
import typer
from sqlglot import exp

from tower import sql as sqlfiles
from tower.adapters import open_warehouse
from tower.cli.inputs import load_settings
from tower.cli.output import console, fail_usage, print_json, print_rows
from tower.ports import PortError


def sql(
    statement: str = typer.Argument(..., help="One BigQuery-dialect statement (a query unless --write)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
    param: list[str] = typer.Option([], "--param", "-p", help="@name=value parameter (repeatable)."),
    write: bool = typer.Option(False, "--write", help="Allow a statement that changes the warehouse "
                               "(INSERT, UPDATE, DELETE, MERGE, CREATE, DROP...)."),
) -> None:
    """Run a BigQuery-dialect statement on the configured warehouse: read-only unless --write.

    Read-only, a query runs beside other readers and writes nothing; a running ``tower demo`` or
    ``tower serve`` holds the file, and the command then says so.
    """
    try:
        parsed = [s for s in sqlfiles.parse_bigquery(statement) if s is not None]
    except sqlglot.errors.ParseError as e:
        fail_usage(f"not valid BigQuery SQL: {e}")
    if len(parsed) != 1:
        fail_usage(f"tower sql runs one statement at a time, not {len(parsed)}")
    changes = _changes(parsed[0])
    if changes and not write:
        fail_usage(f"tower sql is read-only: {changes} would change the warehouse. Add --write to run it")
    params = _params(param)
    wh = open_warehouse(load_settings(), read_only=not changes)
    try:
        if changes:
            wh.execute(statement, params)
        else:
            rows = wh.rows(statement, params)
    except PortError as e:
        fail_usage(str(e).splitlines()[0])
    finally:
        wh.close()
    if changes:
        console.print(f"[green]done[/]: {changes}")
    elif as_json:
        for r in rows:
            print_json(r, indent=None)
    else:
        print_rows(rows)


def _changes(statement: exp.Expr) -> str | None:
    """None for a query; otherwise the kind of statement that changes the warehouse (``INSERT``)."""
    if isinstance(statement, exp.Query) and not any(
            isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop))
            for node in statement.walk()):
        return None
    if isinstance(statement, exp.Command):
        return str(statement.this).upper()
    if isinstance(statement, exp.TruncateTable):
        return "TRUNCATE TABLE"
    kind = statement.args.get("kind") if isinstance(statement, (exp.Create, exp.Drop)) else None
    return f"{statement.key} {kind or ''}".strip().upper()


def _params(pairs: list[str]) -> dict[str, Any]:
    """``--param name=value`` options as query parameters (a leading ``@`` dropped); bad ones exit 2."""
    params: dict[str, Any] = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep or not name:
            fail_usage(f"--param takes name=value, not {p!r}")
        params[name.lstrip("@")] = value
    return params
