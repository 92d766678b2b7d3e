"""``tower recommendations`` (list, accept, dismiss, undo): this week's recommendations of a brand.

Bad input (unknown brand or id, an action that does not apply, a budget that moved since it was
recorded, an Undo out of order) exits 2 with a one-line message naming the amounts; a failure of the
work itself exits 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import typer

from tower.cli.inputs import brand_today, open_runtime
from tower.cli.output import (
    PLATFORM_LABELS,
    console,
    fail,
    fail_usage,
    print_json,
    print_recommendations,
    print_rows,
)
from tower.cli.reach import looks_unreachable, platforms_reached, unreachable_line
from tower.connectors.retry import ConnectorError
from tower.decisions import budget_actions
from tower.decisions.budget_actions import ActionError
from tower.decisions.recommend import run_recommend
from tower.decisions.scoring import iso_week
from tower.decisions.sources import as_of_date
from tower.decisions.store import NotFoundError, find_recommendation, list_recommendations
from tower.decisions.thresholds import ThresholdError
from tower.runtime import Runtime

app = typer.Typer(
    help="This week's recommendations of a brand, and Accept / Dismiss / Undo.",
    invoke_without_command=True,
)


@app.callback()
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
    if not brand:
        fail_usage("--brand is required (or a sub-command: accept, dismiss, undo)")
    runtime = open_runtime(read_only=True)
    try:
        day = brand_today(runtime, brand, today)
        if not cached:
            run_recommend(runtime, brand, day)
        cards = list_recommendations(runtime.store, brand, iso_week(day), include_hidden=show_all)
    except ThresholdError as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    if as_json:
        print_json(cards)
        return
    print_recommendations(cards, f"{brand}: recommendations, week {iso_week(day)}")
    if not cards:
        console.print(why_none(brand, day, cached=cached), soft_wrap=True)


def why_none(brand: str, day: date, *, cached: bool) -> str:
    """Why a brand has no recommendation this week, and what to run: never built, no data in the window,
    or nothing worth doing."""
    if cached:
        return f"Nothing stored for {brand} this week yet: run it without --cached (tower recommendations --brand {brand})."
    runtime = open_runtime(read_only=True)
    try:
        wh = runtime.warehouse
        built = wh.rows("SELECT MAX(built_at) AS at FROM model_runs WHERE brand_id = @b", {"b": brand})[0]["at"]
        connected = wh.rows("SELECT COUNT(*) AS n FROM integrations WHERE brand_id = @b", {"b": brand})[0]["n"]
        latest = wh.rows("SELECT (SELECT MAX(order_date) FROM orders WHERE brand_id = @b) AS orders, "
                         "(SELECT MAX(stat_date) FROM ad_performance WHERE brand_id = @b) AS spend", {"b": brand})[0]
        as_of = as_of_date(wh, brand, day)
    finally:
        runtime.close()
    if built is None:
        if not connected:
            return (f"Why none: {brand} has no platform connected, so nothing was ever built. Connect the store and "
                    f"ad accounts (tower connect shopify --brand {brand} ...), then run: tower run --brand {brand}")
        return (f"Why none: {brand}'s models were never built (its platforms are connected but not synced through "
                f"the pipeline). Run: tower run --brand {brand}")
    if as_of is None:
        return (f"Why none: no data in the window: the models hold no day in the 30 days before {day} (latest order "
                f"{latest['orders'] or 'none'}, latest ad spend {latest['spend'] or 'none'}). Sync and build: "
                f"tower run --brand {brand}")
    return (f"Why none: nothing worth doing. The models as of {as_of} (built {built:%Y-%m-%d %H:%M} UTC) show no "
            "product whose ad spend is out of line with its stock, cover or margin, and no channel to move budget "
            f"between. They are rebuilt by every sync: tower run --brand {brand}, or keep tower serve running.")


@app.command("accept")
def accept_cmd(
    rec_id: str = typer.Argument(..., help="Recommendation id (rec_…)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Accept: apply the recommendation's budget changes on the ad platforms (queued, audited).

    Exits 2 when a campaign's budget on its platform is no longer the one the recommendation was made on.
    """
    runtime = open_runtime()
    try:
        with _reaching_its_platforms(runtime, rec_id):
            out = _act(budget_actions.accept, runtime, rec_id, dry_run=dry_run, requested_by="cli")
            if not dry_run and out.get("changed") and out.get("status") == "accepting":
                _run_local_tasks(runtime)
                out["final"] = {k: v for k, v in find_recommendation(runtime.store, rec_id)[1].items()
                                if k in ("status", "applied_changes")}
    finally:
        runtime.close()
    _print_outcome(out, as_json)


@app.command("dismiss")
def dismiss_cmd(
    rec_id: str = typer.Argument(..., help="Recommendation id (rec_…)."),
    reason: str = typer.Option(..., "--reason", help="Why it is dismissed (kept with the decision)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Dismiss: hide the recommendation, with a reason."""
    runtime = open_runtime()
    try:
        out = _act(budget_actions.dismiss, runtime, rec_id, reason, requested_by="cli")
    finally:
        runtime.close()
    _print_outcome(out, as_json)


@app.command("undo")
def undo_cmd(
    rec_id: str = typer.Argument(..., help="Recommendation id (rec_…)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Undo: restore the budgets an accepted recommendation changed.

    Exits 2 while a later change on one of its campaigns is applied (undo that first), or when a budget
    is no longer the one the Accept set.
    """
    runtime = open_runtime()
    try:
        with _reaching_its_platforms(runtime, rec_id):
            out = _act(budget_actions.undo, runtime, rec_id, requested_by="cli")
            if out.get("changed"):
                _run_local_tasks(runtime)
                out["final"] = {k: v for k, v in find_recommendation(runtime.store, rec_id)[1].items()
                                if k in ("status", "undo_results")}
    finally:
        runtime.close()
    _print_outcome(out, as_json)


@contextmanager
def _reaching_its_platforms(runtime: Runtime, rec_id: str) -> Iterator[None]:
    """The ad platforms of the recommendation's campaigns reached (sandboxes brought back) while it runs;
    an unknown id exits 2."""
    try:
        brand_id, rec = find_recommendation(runtime.store, rec_id)
    except NotFoundError as e:
        fail_usage(str(e))
    platforms = sorted({str(c.get("platform")) for c in rec.get("campaign_changes") or []})
    with platforms_reached(runtime, brand_ids=[brand_id], platforms=platforms):
        yield


def _act(fn: Callable[..., dict[str, Any]], runtime: Runtime, rec_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one action; an unknown id or an action that does not apply exits 2; a platform that cannot be
    reached exits 1 in one line naming it, its origin and the brand."""
    try:
        return fn(runtime, rec_id, *args, **kwargs)
    except (NotFoundError, ActionError) as e:
        fail_usage(str(e))
    except ConnectorError as e:
        brand_id, rec = find_recommendation(runtime.store, rec_id)
        platform = str(getattr(e, "platform", "") or next(
            (c.get("platform") for c in rec.get("campaign_changes") or []), ""))
        if platform and looks_unreachable(e):
            fail(unreachable_line(runtime.settings, platform, brand_id))
        fail(f"{rec_id}: {PLATFORM_LABELS.get(platform, platform or 'the platform')} failed: {e}")


def _run_local_tasks(runtime: Runtime) -> None:
    """On the embedded default, run the queued budget task now (Cloud Tasks runs it in production)."""
    if runtime.settings.tasks.startswith("local"):
        budget_actions.register(runtime)
        runtime.tasks.drain()


def _print_outcome(out: dict[str, Any], as_json: bool) -> None:
    """The action's outcome (JSON, or a line and its budget changes); exit 1 when it failed."""
    if as_json:
        print_json(out)
        return
    final = out.get("final") or {}
    status = final.get("status") or out.get("status")
    console.print(f"[bold]{out.get('recommendation_id')}[/]: {status}"
                  + (f" — {out['message']}" if out.get("message") else ""))
    rows = out.get("changes") if out.get("dry_run") else (final.get("applied_changes") or final.get("undo_results"))
    if rows:
        print_rows([{k: r.get(k) for k in ("platform", "account_id", "campaign_id", "before", "after",
                                           "before_amount", "after_amount", "status", "detail") if k in r}
                    for r in rows], title="budget changes" + (" (dry run)" if out.get("dry_run") else ""))
    if status == "failed":
        raise typer.Exit(code=1)
