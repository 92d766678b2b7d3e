"""An unusable local secrets key reached through the API: one 503 JSON line, one log line, no traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_seed import BRAND, NOW, TODAY, bearer

from tower.adapters.local_secrets import KEY_FILE, UNAVAILABLE_MESSAGE
from tower.api.app import create_app
from tower.decisions import budget_actions
from tower.decisions.inputs import CampaignRef, PerformanceRow
from tower.decisions.rules import apply_rules
from tower.decisions.scoring import rank
from tower.decisions.store import save_recommendations
from tower.decisions.thresholds import RuleThresholds
from tower.runtime import Runtime
from tower.sync.connect import connect_ad_account
from tower_dev.sandboxes.ad_sandbox import sample_accounts
from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox


@pytest.fixture
def connected(runtime: Runtime) -> Iterator[tuple[Runtime, str, Path]]:
    """BRAND connected to a TikTok sandbox account (its token sealed in the local secret store), with
    one card that changes that account's budget; yields the settings' runtime, the card id and the key file.

    The runtime is closed before the test breaks the key, so the API's runtime opens the store afresh.
    """
    (account,) = [a for a in sample_accounts(seed=5, brand_id=BRAND, days=3) if a.platform == "tiktok"]
    sandbox = TikTokSandbox([account])
    settings = runtime.settings.model_copy(update={"tiktok_api_origin": sandbox.origin})
    rt = Runtime(settings)
    connect_ad_account(rt, "tiktok", BRAND, account.account_id, sandbox.issue_token(account.account_id))
    cid = min(account.campaigns)
    camp = CampaignRef("tiktok", account.account_id, cid, "sandbox campaign", 500.0, account.currency, 5000.0)
    row = PerformanceRow("gid://shopify/Product/1", "SKU-A", "tiktok", "US-CA", 5000.0, 10500.0, 0.35, 8.0, 120.0,
                         15.0, 12.0, 40.0, "loc-1", (camp,))
    (rec,) = rank(apply_rules([row], BRAND, "USD", RuleThresholds(max_step_pct=50.0)), TODAY)
    save_recommendations(rt.store, BRAND, rec.week, "v2", [rec.to_dict()], NOW)
    key = settings.local_path(settings.secrets, "secrets") / KEY_FILE
    rt.close()
    api_rt = Runtime(settings)
    budget_actions.register(api_rt)
    try:
        yield api_rt, rec.id, key
    finally:
        api_rt.close()
        sandbox.stop()


def _remove(key: Path) -> None:
    key.unlink()


def _open_to_group(key: Path) -> None:
    key.chmod(0o640)


@pytest.mark.parametrize("break_key", [_remove, _open_to_group], ids=["missing", "too_open"])
def test_a_broken_secrets_key_is_a_503_json_line_and_one_log_line(
    connected: tuple[Runtime, str, Path], keys: dict[str, str], break_key: Callable[[Path], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    rt, rec_id, key = connected
    break_key(key)
    client = create_app(rt, clock=lambda: NOW).test_client()

    # A dry run reads the campaign's budget on TikTok, so it needs the account's token.
    with caplog.at_level("INFO"):
        r = client.post(f"/api/brands/{BRAND}/recommendations/{rec_id}/accept", headers=bearer(keys["agency"]),
                        json={"dry_run": True})

    assert r.status_code == 503 and r.is_json
    assert r.json == {"error": {"code": "secrets_unavailable", "message": UNAVAILABLE_MESSAGE}}
    text = r.get_data(as_text=True)
    assert "Traceback" not in text and str(key) not in text  # the file's path is for the operator
    errors = [rec for rec in caplog.records if rec.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].name == "tower.api"
    line = errors[0].getMessage()
    assert "\n" not in line and str(key) in line
    assert getattr(errors[0], "error_code", None) == "secrets_unavailable"
    assert getattr(errors[0], "path", "").endswith(f"/{rec_id}/accept") and getattr(errors[0], "method", None) == "POST"
    assert not [rec for rec in caplog.records if rec.exc_info]  # no traceback logged anywhere
