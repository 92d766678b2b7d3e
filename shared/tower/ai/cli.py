"""The AI commands of ``tower``: ``summary``, ``ask`` and ``ai usage``.

Registered onto the ``tower`` app by :func:`register`. Without an Anthropic key the deterministic
narrator writes (the output says which). Bad input exits 2; a failure of the work itself exits 1.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import typer

ai_app = typer.Typer(help="The AI layer: usage and cost.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``tower summary``, ``tower ask`` and ``tower ai usage`` to the app."""
    app.command("summary")(summary_cmd)
    app.command("ask")(ask_cmd)
    app.add_typer(ai_app, name="ai")


def _cli() -> Any:
    from tower import cli

    return cli


def print_summary(doc: dict[str, Any], brand_id: str) -> None:
    """A stored weekly summary, readable (the demo and the CLI share it)."""
    from rich.panel import Panel

    cli = _cli()
    s = doc.get("summary") or {}
    who = "Claude" if doc.get("author") == "claude" else "deterministic narrator"
    body = [str(s.get("summary") or "")]
    for channel, text in (s.get("channel_performance") or {}).items():
        body.append(f"[bold]{channel}[/]: {text}")
    body.append(f"[bold]Inventory[/]: {s.get('inventory_insights') or ''}")
    cli.console.print(Panel("\n\n".join(body), title=f"{brand_id} — week {doc.get('week')}",
                            subtitle=f"written by the {who} · grounding {doc.get('grounding')}"
                                     + (" · cached" if doc.get("cached") else "")))


def _reads_only(settings: Any) -> bool:
    """Whether a summary or an answer leaves the warehouse alone: Claude's calls are written to
    ``ai_usage`` (their cost), so only without an Anthropic key (the narrator) is it read-only."""
    return not settings.anthropic_api_key


def summary_cmd(
    brand: str = typer.Option(..., "--brand", help="Brand id."),
    today: str = typer.Option(None, "--today", help="Run date (default: the brand's local today)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The brand's weekly summary (from the cache when the figures have not changed)."""
    from tower.ai.summarize import run_summarize
    from tower.decisions.cli import brand_today, print_alerts, print_recommendations
    from tower.runtime import Runtime

    cli = _cli()
    settings = cli.load_settings()
    runtime = Runtime(settings, read_only=_reads_only(settings))
    try:
        day = brand_today(runtime, brand, today)
        out = run_summarize(runtime, brand, day)
    finally:
        runtime.close()
    if as_json:
        sys.stdout.write(json.dumps(out, default=str, indent=2) + "\n")
        return
    print_summary(out["summary"], brand)
    recs = (out["summary"].get("summary") or {}).get("recommendations") or []
    print_recommendations(recs, "recommendations")
    explained = out.get("explanations") or {}
    print_alerts([{**a, "ai_explanation": (explained.get(a["id"]) or {}).get("explanation")}
                  for a in out.get("alerts") or []], "alerts")


def ask_cmd(
    question: str = typer.Argument(..., help="A question about the brand's ads, sales or stock."),
    brand: str = typer.Option(..., "--brand", help="Brand id."),
    today: str = typer.Option(None, "--today", help="Date the question is asked (default: the brand's today)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Ask a question; the answer cites numbers from the brand's data."""
    from tower.ai.qa import AskError, ask
    from tower.decisions.cli import brand_today
    from tower.runtime import Runtime

    cli = _cli()
    settings = cli.load_settings()
    runtime = Runtime(settings, read_only=_reads_only(settings))
    try:
        day = brand_today(runtime, brand, today)
        try:
            answer = ask(runtime, brand, question, day)
        except AskError as e:
            cli.fail_usage(str(e))
    finally:
        runtime.close()
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), default=str, indent=2) + "\n")
        return
    cli.console.print(answer.answer)
    cli.console.print(f"[dim]answered by the {'Claude' if answer.author == 'claude' else 'deterministic Q&A'}"
                      f" · grounding {answer.grounding} · queries: "
                      f"{', '.join(q['tool'] for q in answer.queries) or 'none'}[/]")


@ai_app.command("usage")
def usage_cmd(
    month: str = typer.Option(None, "--month", help="Calendar month, e.g. 2026-11 (default: this month)."),
    brand: str = typer.Option("", "--brand", help="Only this brand."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Claude calls, tokens and cost per brand and month, with grounding passes and fallbacks."""
    from tower.adapters import open_warehouse
    from tower.ai.usage import month_bounds, usage_report

    cli = _cli()
    try:
        start, end = month_bounds(month or datetime.now(UTC).strftime("%Y-%m"))
    except ValueError as e:
        cli.fail_usage(str(e))
    wh = open_warehouse(cli.load_settings(), read_only=True)
    try:
        rows = usage_report(wh, start=start, end=end, brand_id=brand)
    finally:
        wh.close()
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str, indent=2) + "\n")
        return
    cli.print_rows(rows, title=f"AI usage {start:%Y-%m} (USD)")
