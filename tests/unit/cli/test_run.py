"""``tower run``, ``tower build``, ``tower status`` and an empty recommendations list: bad input exits 2, and
nothing to show says why and what to run. The whole road, synced and built, is tests/e2e/test_real_store_cli.py."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import BRAND, add_brand, run


def test_run_needs_one_brand_or_all(seeded_env: Path) -> None:
    assert run("run")[0] == 2
    assert run("run", "--brand", BRAND, "--all")[0] == 2
    code, out = run("run", "--brand", "nobody")
    assert code == 2 and "unknown brand 'nobody'" in out
    code, out = run("run", "--brand", BRAND)
    assert code == 2 and "no platform connected" in out and f"tower connect shopify --brand {BRAND}" in out
    code, out = run("run", "--all")
    assert code == 2 and "no brand has a platform connected" in out


def test_build_refuses_a_window_that_runs_backwards(seeded_env: Path) -> None:
    code, out = run("build", "--brand", BRAND, "--start", "2026-11-10", "--end", "2026-11-01")
    assert code == 2 and "must come before --end" in out
    assert run("build", "--brand", BRAND, "--start", "10/11/2026")[0] == 2


def test_an_empty_recommendations_list_says_why_and_what_to_run(seeded_env: Path) -> None:
    assert add_brand("fresh-brand", "America/Chicago").exit_code == 0
    code, out = run("recommendations", "--brand", "fresh-brand")
    assert code == 0, out
    assert "none" in out and "no platform connected" in out and "tower run --brand fresh-brand" in out
    code, out = run("recommendations", "--brand", "fresh-brand", "--cached")
    assert code == 0 and "run it without --cached" in out


def test_status_lists_the_setup_and_one_line_per_problem_with_its_fix(seeded_env: Path) -> None:
    code, out = run("status", "--json")
    assert code == 0, out
    status = json.loads(out)
    assert status["setup"]["warehouse"].startswith("duckdb:///") and status["setup"]["tasks_dead"] == 0
    assert any(p.startswith(f"{BRAND}: no platform connected") and "tower connect shopify" in p
               for p in status["problems"])
    assert run("status", "--brand", "nobody")[0] == 2
    code, out = run("status")
    assert code == 0 and "problem(s):" in out
