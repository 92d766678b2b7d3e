"""The commands: tower ask, summary, ai usage, recommendations and alerts (narrator: no API key)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tower.cli import app
from tower.config import get_settings
from tower_dev.samples import seed_model_tables
from tower.runtime import Runtime

BRAND = "acme-candles"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings in the environment (as the CLI reads them), a seeded warehouse file, no API key."""
    for name, value in {
        "TOWER_WAREHOUSE": f"duckdb:///{tmp_path}/w.duckdb", "TOWER_STORE": f"local:///{tmp_path}/store.sqlite",
        "TOWER_BUS": f"local:///{tmp_path}/bus.sqlite", "TOWER_TASKS": f"local:///{tmp_path}/tasks.sqlite",
        "TOWER_SECRETS": f"local:///{tmp_path}/secrets",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("TOWER_ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    from datetime import UTC, datetime

    rt = Runtime(get_settings())
    rt.warehouse.init_schema()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rt.warehouse.merge("brands", [{"brand_id": BRAND, "brand_name": "Acme Candles", "timezone": "America/New_York",
                                   "currency": "USD", "created_at": now, "updated_at": now}], ["brand_id"])
    seed_model_tables(rt.warehouse, (BRAND, "urban-wellness"))
    rt.close()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_ask_answers_with_numbers(env: Path) -> None:
    code, out = run("ask", "--brand", BRAND, "--today", "2026-11-23", "Which products performed best last month?")
    assert code == 0, out
    assert "$12,600" in out and "deterministic Q&A" in out


def test_ask_json_and_bad_input(env: Path) -> None:
    code, out = run("ask", "--brand", BRAND, "--today", "2026-11-23", "--json", "Why did my revenue drop this week?")
    assert code == 0 and json.loads(out)["queries"][0]["tool"] == "week_over_week"
    assert run("ask", "--brand", "nobody", "anything?")[0] == 2
    assert run("ask", "--brand", BRAND, "--today", "2026-11-23", "   ")[0] == 2
    assert run("ask", "--brand", BRAND, "--today", "23/11/2026", "x")[0] == 2


def test_summary_usage_recommendations_and_alerts(env: Path) -> None:
    code, out = run("summary", "--brand", BRAND, "--today", "2026-11-23")
    assert code == 0, out
    assert "deterministic narrator" in out and "Last week" in out
    code, out = run("summary", "--brand", BRAND, "--today", "2026-11-23", "--json")
    assert code == 0 and json.loads(out)["summary"]["cached"] is True
    code, out = run("ai", "usage", "--month", "2026-11", "--json")
    assert code == 0 and json.loads(out) == []  # the narrator costs nothing and calls nothing
    assert run("ai", "usage", "--month", "2026-13")[0] == 2
    code, out = run("recommendations", "--brand", BRAND, "--today", "2026-11-23", "--json")
    cards = {c["type"]: c for c in json.loads(out)}
    assert code == 0 and set(cards) == {"reduce_spend", "increase_spend", "promotion"}
    assert cards["reduce_spend"]["recommended_change"] == -1000.0 and cards["reduce_spend"]["priority"] == "high"
    code, out = run("alerts", "--brand", BRAND, "--today", "2026-11-23", "--json")
    assert code == 0 and "inventory_mismatch" in {a["type"] for a in json.loads(out)}
    # the brand has no ad account connected: the real write path refuses, audited, and says why
    rec = cards["reduce_spend"]["id"]
    code, out = run("recommendations", "accept", rec, "--dry-run", "--json")
    assert code == 0 and "not connected" in json.loads(out)["changes"][0]["detail"]
    code, out = run("recommendations", "accept", rec)
    assert code == 1 and "failed" in out
    assert run("recommendations", "accept", "rec_unknown")[0] == 2
    assert run("recommendations", "dismiss", "rec_unknown", "--reason", "x")[0] == 2
    assert run("recommendations")[0] == 2
