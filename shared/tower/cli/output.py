"""What the ``tower`` commands print: the consoles, the one-line failures and the shared tables.

Every command module (and the development package's ``demo``) prints through here, so none imports
another command module or the root app for a helper. Tables go to stdout; failures, progress bars
and notes meant for a person while stdout is captured go to stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from tower.redact import redact

console = Console()
err_console = Console(stderr=True)

# How a platform is named to a person (the code's names are the warehouse's: google_ads).
PLATFORM_LABELS = {"shopify": "Shopify", "meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads"}


def fail_usage(message: str) -> NoReturn:
    """Report bad input and exit 2."""
    # soft_wrap: the message stays one line (greppable, a path unbroken) whatever the terminal width.
    err_console.print(f"[bold red]error:[/] {redact(message)}", soft_wrap=True)
    raise typer.Exit(code=2)


def fail(message: str) -> NoReturn:
    """Report a failure of the work itself and exit 1."""
    err_console.print(f"[bold red]failed:[/] {redact(message)}", soft_wrap=True)
    raise typer.Exit(code=1)


def print_json(data: Any, *, indent: int | None = 2) -> None:
    """``data`` as JSON on stdout (dates and decimals as strings), for ``--json``."""
    sys.stdout.write(json.dumps(data, default=str, indent=indent) + "\n")


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


def print_summary(doc: dict[str, Any], brand_id: str) -> None:
    """A stored weekly summary, readable (the demo and the CLI share it)."""
    s = doc.get("summary") or {}
    who = "Claude" if doc.get("author") == "claude" else "deterministic narrator"
    body = [str(s.get("summary") or "")]
    for channel, text in (s.get("channel_performance") or {}).items():
        body.append(f"[bold]{channel}[/]: {text}")
    body.append(f"[bold]Inventory[/]: {s.get('inventory_insights') or ''}")
    console.print(Panel("\n\n".join(body), title=f"{brand_id} — week {doc.get('week')}",
                        subtitle=f"written by the {who} · grounding {doc.get('grounding')}"
                                 + (" · cached" if doc.get("cached") else "")))


def print_recommendations(cards: list[dict[str, Any]], title: str) -> None:
    """Recommendation cards as a rich table (the demo and the CLI share it)."""
    if not cards:
        console.print(f"[dim]{title}: none[/]")
        return
    table = Table(title=title, show_lines=True)
    for col in ("id", "priority", "type", "action", "reason", "expected impact", "status"):
        table.add_column(col, overflow="fold")
    for c in cards:
        table.add_row(str(c.get("id")), str(c.get("priority")), str(c.get("type")), str(c.get("action")),
                      str(c.get("reason")), str(c.get("expected_impact")), str(c.get("status") or "open"))
    console.print(table)


def print_alerts(alerts: list[dict[str, Any]], title: str) -> None:
    """Alerts as a rich table (an AI explanation, when there is one, in place of the rule's)."""
    if not alerts:
        console.print(f"[dim]{title}: none[/]")
        return
    table = Table(title=title, show_lines=True)
    for col in ("severity", "type", "title", "explanation", "recommended action"):
        table.add_column(col, overflow="fold")
    for a in alerts:
        table.add_row(str(a.get("severity")), str(a.get("type")), str(a.get("title")),
                      str(a.get("ai_explanation") or a.get("explanation")), str(a.get("recommended_action")))
    console.print(table)
