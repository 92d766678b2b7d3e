"""The ``tower`` command: set up, sync, build, inspect and demo Control Tower.

One module per noun (``brands``, ``agencies``, ``connect``, ``sync``, ``fx``, ``sql``, ``recommendations``, ``alerts``,
``summary``, ``ask``, ``ai``, ``api-key``, ``members`` (and ``invite``); ``init`` and ``settings`` in ``setup``; ``build`` and ``run``
in ``run``; ``status``; ``serve``); they print through
:mod:`tower.cli.output` and read their input through :mod:`tower.cli.inputs`, never through this
module. Installed packages add commands through the ``tower.plugins`` entry point group (the
development package's ``demo`` and ``world``).

Bad input exits with code 2 and a one-line message; failures of the work itself exit 1.
"""

from __future__ import annotations

import logging
import sys
import traceback
from importlib.metadata import entry_points
from typing import Any

import typer

from tower.adapters.local_secrets import SecretsKeyError
from tower.cli import (
    agencies,
    ai,
    alerts,
    api_key,
    ask,
    brands,
    connect,
    fx,
    members,
    notify,
    recommendations,
    run,
    serve,
    setup,
    sql,
    status,
    summary,
    sync,
)
from tower.cli.output import fail, fail_usage
from tower.logs import configure_logging
from tower.ports import DiskFull, WarehouseUnavailable
from tower.redact import redact


class TowerGroup(typer.core.TyperGroup):
    """The root command group: setup problems found deep inside any command end it in one line.

    A broken secrets key exits 2; a warehouse another process holds, or a full disk, exits 1.
    """

    def invoke(self, ctx: Any) -> Any:  # typer's click Context: its base class is not public API
        # Every command that touches a secret opens the store lazily, so a broken local key
        # (missing beside stored secrets, corrupt, too open) surfaces here rather than in each command.
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
# Commands first, then the groups: `tower --help` lists them in this order.
app.command("init")(setup.init)
app.command("status")(status.status_cmd)
app.command("run")(run.run_cmd)
app.command("build")(run.build_cmd)
app.command("serve")(serve.serve_cmd)
app.command("sql")(sql.sql)
app.command("settings")(setup.settings_cmd)
app.command("alerts")(alerts.alerts_cmd)
app.command("summary")(summary.summary_cmd)
app.command("ask")(ask.ask_cmd)
app.command("invite")(members.invite_cmd)
app.add_typer(brands.app, name="brands")
app.add_typer(agencies.app, name="agencies")
app.add_typer(connect.app, name="connect")
app.add_typer(sync.app, name="sync")
app.add_typer(fx.app, name="fx")
app.add_typer(recommendations.app, name="recommendations")
app.add_typer(ai.app, name="ai")
app.add_typer(api_key.app, name="api-key")
app.add_typer(notify.app, name="notify")
app.add_typer(members.app, name="members")


def load_plugins() -> list[str]:
    """Let installed packages add commands: each ``tower.plugins`` entry point is a function taking
    the root Typer app. The development package registers ``tower demo`` and ``tower world`` this way,
    so the product never imports it (a deployment without it simply has no demo)."""
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
    """Console-script entry point: warnings and errors logged as masked plain lines on stderr (the
    commands print their own progress), and a crash prints its traceback masked (a chained vendor error
    can hold a token in its URL) before exiting 1."""
    configure_logging(logging.WARNING, human=True)
    try:
        app()
    except Exception:  # noqa: BLE001 - the last edge: whatever escaped a command
        sys.stderr.write(redact(traceback.format_exc()))
        sys.exit(1)
