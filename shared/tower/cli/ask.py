"""``tower ask``: a question about the brand's ads, sales or stock, answered with its numbers.

Without an Anthropic key the deterministic Q&A answers (the output says which).
"""

from __future__ import annotations

import typer

from tower.ai.qa import AskError, ask
from tower.cli.inputs import brand_today, open_ai_runtime
from tower.cli.output import console, fail_usage, print_json


def ask_cmd(
    question: str = typer.Argument(..., help="A question about the brand's ads, sales or stock."),
    brand: str = typer.Option(..., "--brand", help="Brand id."),
    today: str = typer.Option(None, "--today", help="Date the question is asked (default: the brand's today)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Ask a question; the answer cites numbers from the brand's data."""
    runtime = open_ai_runtime()
    try:
        day = brand_today(runtime, brand, today)
        try:
            answer = ask(runtime, brand, question, day)
        except AskError as e:
            fail_usage(str(e))
    finally:
        runtime.close()
    if as_json:
        print_json(answer.to_dict())
        return
    console.print(answer.answer)
    console.print(f"[dim]answered by the {'Claude' if answer.author == 'claude' else 'deterministic Q&A'}"
                  f" · grounding {answer.grounding} · queries: "
                  f"{', '.join(q['tool'] for q in answer.queries) or 'none'}[/]")
