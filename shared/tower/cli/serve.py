"""``tower serve``: the whole system in one local process, on the embedded default (:mod:`tower.host`).

The API and the page at ``/``, every function target at ``/tower-<name>`` as deployed, the task and
bus pumps, and the scheduler firing Terraform's schedule (the hourly syncs, the daily exchange rates),
all under gunicorn. The sandboxes any integration was connected to are brought back first, and with no
SMTP server configured the notifications' stand-ins start (an SMTP capture and a Slack sandbox), and on a
``demo-*`` Firebase project the official Firebase Auth emulator. Ctrl-C
(or SIGTERM) stops it after the work under way; whatever is still queued is done after the next start.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from tower.cli.inputs import load_settings
from tower.cli.output import console, err_console, fail_usage
from tower.config import Settings
from tower.runtime import Runtime
from tower.sandboxes import bring_back, identity_standins, notification_standins
from tower.wiring import of_kind


def serve_cmd(
    host: str = typer.Option(None, "--host", help="Address to bind (default: TOWER_HOST)."),
    port: int = typer.Option(None, "--port", min=0, max=65535,
                             help="Port to bind (default: TOWER_PORT; 0 picks a free one)."),
    schedule: list[str] = typer.Option(None, "--schedule", help="Fire only this scheduled entry point "
                                       "(repeat for several; default: every one Terraform schedules)."),
    no_schedule: bool = typer.Option(False, "--no-schedule", help="Fire nothing on a schedule."),
    functions_source: Path = typer.Option(None, "--functions-source",
                                          help="The functions' main.py (default: the repository's)."),
) -> None:
    """Serve the API, the page, every function, the queues and the schedule in one process, until Ctrl-C."""
    settings = load_settings()
    if no_schedule and schedule:
        fail_usage("--schedule and --no-schedule exclude each other")
    serve_settings(settings, host=host or settings.host, port=settings.port if port is None else port,
                   schedule=[] if no_schedule else (schedule or None), functions_source=functions_source)


def serve_settings(settings: Settings, *, host: str, port: int, schedule: list[str] | None = None,
                   functions_source: Path | None = None) -> None:
    """Bring back the sandboxes, then serve until stopped (``tower demo`` ends here too).

    Args:
        schedule: The scheduled entry points to fire (None: all; empty: none).
    """
    # Imported here, not at the top: the host brings gunicorn, functions-framework and the whole API
    # (about half a second) that no other command should pay for at start.
    from tower.host.server import ServeError, check_local, schedule_entries, serve  # lazy: gunicorn
    from tower.host.server import functions_source as find_source  # lazy: gunicorn

    try:
        check_local(settings)
        entries = schedule_entries(schedule)
        source = find_source(functions_source)
    except ServeError as e:
        fail_usage(str(e))
    # Opened to read the sandbox records, then closed: the worker opens its own after gunicorn forks.
    probe = Runtime(settings)
    try:
        # a warehouse built by an older release gains the columns this one reads (tables it lacks are made too)
        probe.warehouse.init_schema()
        back = bring_back(settings, probe.store, probe.secrets)
        standins = notification_standins(back.settings, probe.secrets)
    finally:
        probe.close()
    if standins is not None:
        back.adopt(standins)
    identity = identity_standins(back.settings)  # the Firebase Auth emulator, on the embedded default
    if identity is not None:
        back.adopt(identity)
    for note in back.notes:
        err_console.print(f"[dim]{note}[/]", soft_wrap=True)
    for problem in back.problems:
        err_console.print(f"[yellow]cannot reach:[/] {problem}", soft_wrap=True)
    fired = entries if entries is not None else of_kind("schedule")
    logging.getLogger().setLevel(logging.INFO)

    def ready(url: str) -> None:
        console.print(f"[green]Control Tower serving[/] at {url}  (the API and the page at /)", soft_wrap=True)
        if source is not None:
            console.print(f"  functions at {url}/tower-<name>, as deployed (from {source})", soft_wrap=True)
        else:
            console.print("  [yellow]no main.py found beside the library: the function targets are not served "
                          "(--functions-source PATH)[/]", soft_wrap=True)
        console.print("  task and bus pumps running; schedule: "
                      + (", ".join(f"{e.name} '{e.target}' UTC" for e in fired) or "none"), soft_wrap=True)
        console.print("[dim]Ctrl-C stops it; queued work resumes at the next start.[/]")

    try:
        serve(back.settings, host=host, port=port, source=source, schedule=entries, ready=ready)
    finally:
        back.stop()
        console.print("stopped")
