"""``tower ask`` answered by the deterministic Q&A (no API key): numbers in the answer, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import BRAND, run


def test_ask_answers_with_numbers(seeded_env: Path) -> None:
    code, out = run("ask", "--brand", BRAND, "--today", "2026-11-23", "Which products performed best last month?")
    assert code == 0, out
    assert "$12,600" in out and "deterministic Q&A" in out


def test_ask_json_and_bad_input(seeded_env: Path) -> None:
    code, out = run("ask", "--brand", BRAND, "--today", "2026-11-23", "--json", "Why did my revenue drop this week?")
    assert code == 0 and json.loads(out)["queries"][0]["tool"] == "week_over_week"
    assert run("ask", "--brand", "nobody", "anything?")[0] == 2
    assert run("ask", "--brand", BRAND, "--today", "2026-11-23", "   ")[0] == 2
    assert run("ask", "--brand", BRAND, "--today", "23/11/2026", "x")[0] == 2
