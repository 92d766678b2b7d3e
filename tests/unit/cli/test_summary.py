"""``tower summary``, ``ai usage``, ``recommendations`` and ``alerts`` on the seeded warehouse (narrator: no API key)."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import BRAND, run


def test_summary_usage_recommendations_and_alerts(seeded_env: Path) -> None:
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
