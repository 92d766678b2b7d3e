"""The decision commands of ``tower``: ``recommendations`` (list, accept, dismiss, undo) and ``alerts``.

Registered onto the ``tower`` app by :func:`register`. Bad input (unknown brand or id, an action
that does not apply, a budget that moved since it was recorded, an Undo out of order) exits 2 with a
one-line message naming the amounts; a failure of the work itself exits 1.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import typer

recommendations_app = typer.Typer(
    help="This week's recommendations of a brand, and Accept / Dismiss / Undo.",
    invoke_without_command=True,
)


def register(app: typer.Typer) -> None:
    """Add ``tower recommendations …`` and ``tower alerts`` to the app."""
    app.add_typer(recommendations_app, name="recommendations")
    app.command("alerts")(alerts_cmd)


def _cli() -> Any:
    from tower import cli

    return cli


def brand_today(runtime: Any, brand_id: str, today: str | None) -> date:
    """``--today`` or the brand's local date now (the CLI is the edge where the clock is read).

    Exits 2 for an unknown brand or a bad date.
    """
    from tower.decisions.sources import UnknownBrand, local_today

    cli = _cli()
    try:
        local = local_today(runtime.warehouse, brand_id)
    except UnknownBrand as e:
        cli.fail_usage(str(e))
    return cli.parse_date(today, "--today") or local


def _runtime(*, read_only: bool = False) -> Any:
    """The runtime of a command; ``read_only`` for those that only read the warehouse (they write the store)."""
    from tower.runtime import Runtime

    return Runtime(_cli().load_settings(), read_only=read_only)


def _emit(data: Any, as_json: bool) -> bool:
    if as_json:
        sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
    return as_json


def print_recommendations(cards: list[dict[str, Any]], title: str) -> None:
    """Recommendation cards as a rich table (the demo and the CLI share it)."""
    from rich.table import Table

    cli = _cli()
    if not cards:
        cli.console.print(f"[dim]{title}: none[/]")
        return
    table = Table(title=title, show_lines=True)
    for col in ("id", "priority", "type", "action", "reason", "expected impact", "status"):
        table.add_column(col, overflow="fold")
    for c in cards:
        table.add_row(str(c.get("id")), str(c.get("priority")), str(c.get("type")), str(c.get("action")),
                      str(c.get("reason")), str(c.get("expected_impact")), str(c.get("status") or "open"))
    cli.console.print(table)


def print_alerts(alerts: list[dict[str, Any]], title: str) -> None:
    """Alerts as a rich table."""
    from rich.table import Table

    cli = _cli()
    if not alerts:
        cli.console.print(f"[dim]{title}: none[/]")
        return
    table = Table(title=title, show_lines=True)
    for col in ("severity", "type", "title", "explanation", "recommended action"):
        table.add_column(col, overflow="fold")
    for a in alerts:
        table.add_row(str(a.get("severity")), str(a.get("type")), str(a.get("title")),
                      str(a.get("ai_explanation") or a.get("explanation")), str(a.get("recommended_action")))
    cli.console.print(table)


@recommendations_app.callback()
def recommendations_cmd(
    ctx: typer.Context,
    brand: str = typer.Option(None, "--brand", help="Brand id."),
    today: str = typer.Option(None, "--today", help="Run date (default: the brand's local today)."),
    cached: bool = typer.Option(False, "--cached", help="Only read what the last run stored."),
    show_all: bool = typer.Option(False, "--all", help="Include dismissed and superseded ones."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Build (or with --cached, read) the brand's top recommendations for this week."""
    if ctx.invoked_subcommand:
        return
    from tower.decisions.recommend import run_recommend
    from tower.decisions.scoring import iso_week
    from tower.decisions.store import list_recommendations
    from tower.decisions.thresholds import ThresholdError

    cli = _cli()
    if not brand:
        cli.fail_usage("--brand is required (or a sub-command: accept, dismiss, undo)")
    runtime = _runtime(read_only=True)
    try:
        day = brand_today(runtime, brand, today)
        if not cached:
            run_recommend(runtime, brand, day)
        cards = list_recommendations(runtime.store, brand, iso_week(day), include_hidden=show_all)
    except ThresholdError as e:
        cli.fail_usage(str(e))
    finally:
        runtime.close()
    if not _emit(cards, as_json):
        print_recommendations(cards, f"{brand}: recommendations, week {iso_week(day)}")


def _act(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    from tower.decisions.budget_actions import ActionError
    from tower.decisions.store import NotFoundError

    cli = _cli()
    try:
        return fn(*args, **kwargs)
    except (NotFoundError, ActionError) as e:
        cli.fail_usage(str(e))


def _run_local_tasks(runtime: Any) -> None:
    """On the embedded default, run the queued budget task now (Cloud Tasks runs it in production)."""
    if runtime.settings.tasks.startswith("local"):
        from tower.decisions import budget_actions

        budget_actions.register(runtime)
        runtime.tasks.drain()


@recommendations_app.command("accept")
def accept_cmd(
    rec_id: str = typer.Argument(..., help="Recommendation id (rec_…)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Accept: apply the recommendation's budget changes on the ad platforms (queued, audited).

    Exits 2 when a campaign's budget on its platform is no longer the one the recommendation was made on.
    """
    from tower.decisions import budget_actions
    from tower.decisions.store import find_recommendation

    runtime = _runtime()
    try:
        out = _act(budget_actions.accept, runtime, rec_id, dry_run=dry_run, requested_by="cli")
        if not dry_run and out.get("changed") and out.get("status") == "accepting":
            _run_local_tasks(runtime)
            out["final"] = {k: v for k, v in find_recommendation(runtime.store, rec_id)[1].items()
                            if k in ("status", "applied_changes")}
    finally:
        runtime.close()
    if not _emit(out, as_json):
        _print_outcome(out)


@recommendations_app.command("dismiss")
def dismiss_cmd(
    rec_id: str = typer.Argument(..., help="Recommendation id (rec_…)."),
    reason: str = typer.Option(..., "--reason", help="Why it is dismissed (kept with the decision)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Dismiss: hide the recommendation, with a reason."""
    from tower.decisions import budget_actions

    runtime = _runtime()
    try:
        out = _act(budget_actions.dismiss, runtime, rec_id, reason, requested_by="cli")
    finally:
        runtime.close()
    if not _emit(out, as_json):
        _print_outcome(out)


@recommendations_app.command("undo")
def undo_cmd(
    rec_id: str = typer.Argument(..., help="Recommendation id (rec_…)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Undo: restore the budgets an accepted recommendation changed.

    Exits 2 while a later change on one of its campaigns is applied (undo that first), or when a budget
    is no longer the one the Accept set.
    """
    from tower.decisions import budget_actions
    from tower.decisions.store import find_recommendation

    runtime = _runtime()
    try:
        out = _act(budget_actions.undo, runtime, rec_id, requested_by="cli")
        if out.get("changed"):
            _run_local_tasks(runtime)
            out["final"] = {k: v for k, v in find_recommendation(runtime.store, rec_id)[1].items()
                            if k in ("status", "undo_results")}
    finally:
        runtime.close()
    if not _emit(out, as_json):
        _print_outcome(out)


def _print_outcome(out: dict[str, Any]) -> None:
    cli = _cli()
    final = out.get("final") or {}
    status = final.get("status") or out.get("status")
    cli.console.print(f"[bold]{out.get('recommendation_id')}[/]: {status}"
                      + (f" — {out['message']}" if out.get("message") else ""))
    rows = out.get("changes") if out.get("dry_run") else (final.get("applied_changes") or final.get("undo_results"))
    if rows:
        cli.print_rows([{k: r.get(k) for k in ("platform", "account_id", "campaign_id", "before", "after",
                                               "before_amount", "after_amount", "status", "detail") if k in r}
                        for r in rows], title="budget changes" + (" (dry run)" if out.get("dry_run") else ""))
    if status == "failed":
        raise typer.Exit(code=1)


def alerts_cmd(
    brand: str = typer.Option(..., "--brand", help="Brand id."),
    today: str = typer.Option(None, "--today", help="Run date (default: the brand's local today)."),
    cached: bool = typer.Option(False, "--cached", help="Only read what the last run stored."),
    show_all: bool = typer.Option(False, "--all", help="Include resolved alerts."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The brand's open alerts (detected now unless --cached), most severe first."""
    from tower.decisions.recommend import run_recommend
    from tower.decisions.store import list_alerts

    runtime = _runtime(read_only=True)
    try:
        day = brand_today(runtime, brand, today)
        if not cached:
            run_recommend(runtime, brand, day)
        alerts = list_alerts(runtime.store, brand, None if show_all else "open")
    finally:
        runtime.close()
    if not _emit(alerts, as_json):
        print_alerts(alerts, f"{brand}: alerts")
