"""``tower summary``: the brand's weekly summary, with the recommendations and alerts it explains.

Without an Anthropic key the deterministic narrator writes (the output says which).
"""

from __future__ import annotations

import typer

from tower.ai.summarize import run_summarize
from tower.cli.inputs import brand_today, open_ai_runtime
from tower.cli.output import print_alerts, print_json, print_recommendations, print_summary


def summary_cmd(
    brand: str = typer.Option(..., "--brand", help="Brand id."),
    today: str = typer.Option(None, "--today", help="Run date (default: the brand's local today)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The brand's weekly summary (from the cache when the figures have not changed)."""
    runtime = open_ai_runtime()
    try:
        day = brand_today(runtime, brand, today)
        out = run_summarize(runtime, brand, day)
    finally:
        runtime.close()
    if as_json:
        print_json(out)
        return
    print_summary(out["summary"], brand)
    recs = (out["summary"].get("summary") or {}).get("recommendations") or []
    print_recommendations(recs, "recommendations")
    explained = out.get("explanations") or {}
    print_alerts([{**a, "ai_explanation": (explained.get(a["id"]) or {}).get("explanation")}
                  for a in out.get("alerts") or []], "alerts")
