"""After the demo has stopped, its integrations still work: the sandboxes they were connected to come back with
the same world (issue 14: `tower recommendations accept … --dry-run` once printed a 163-line traceback)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tower.cli import app
from tower.config import Settings, get_settings
from tower_dev.demo import run_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stopped_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small demo run to the end and stopped (its sandboxes gone); the data directory it left."""
    d: Path = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=d, anthropic_api_key="", shopify_bulk_min_orders=0)
    result = run_demo(settings, brands=1, days=35, orders_per_day=30, seed=7, serve=False,
                      console=Console(file=io.StringIO(), width=160))
    result["runtime"].close()
    yield d


def _tower(data_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("TOWER_DATA_DIR", str(data_dir))
    for k in ("TOWER_WAREHOUSE", "TOWER_STORE", "TOWER_BUS", "TOWER_TASKS", "TOWER_SECRETS",
              "TOWER_META_API_ORIGIN", "TOWER_TIKTOK_API_ORIGIN", "TOWER_GOOGLE_ADS_ENDPOINT",
              "TOWER_SHOPIFY_API_ORIGIN", "TOWER_GOOGLE_ADS_DEVELOPER_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args))
    get_settings.cache_clear()
    return result.exit_code, result.output


def _budget_card(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    code, out = _tower(data_dir, monkeypatch, "recommendations", "--brand", "acme-candles", "--cached", "--json")
    assert code == 0, out
    cards = [c for c in json.loads(out) if c.get("campaign_changes")]
    assert cards, "the urgent demo brand has a budget recommendation"
    return cards[0]


def test_accept_dry_run_after_the_demo_stopped_reads_the_restored_sandbox(
        stopped_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    card = _budget_card(stopped_demo, monkeypatch)
    code, out = _tower(stopped_demo, monkeypatch, "recommendations", "accept", card["id"], "--dry-run", "--json")
    assert code == 0, out
    preview = json.loads(out[out.index("{"):])
    changes = preview["changes"]
    assert changes and all(c["status"] not in ("failed", "refused") for c in changes), changes
    # the budgets read back are the ones the recommendation was made on: the same world came back
    recorded = {c["campaign_id"]: c["current_daily_budget"] for c in card["campaign_changes"]}
    assert all(abs(c["before"] - recorded[c["campaign_id"]]) < 0.01 for c in changes), (changes, recorded)


def test_a_sync_after_the_demo_stopped_brings_the_sandbox_back_and_says_so(
        stopped_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _tower(stopped_demo, monkeypatch, "sync", "tiktok", "--brand", "acme-candles", "--no-build")
    assert code == 0, out
    assert "TikTok sandbox brought back at http://" in out and "Traceback" not in out
