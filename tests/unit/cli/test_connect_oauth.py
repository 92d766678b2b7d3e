"""``tower connect meta|tiktok|google_ads --oauth``: the authorize URL printed, the redirect taken on loopback.

The command runs as a process (as someone types it); the test plays the person: it opens the printed
URL on the sandbox, clicks Approve, and follows the redirect to the command's loopback address. The
sandbox's token endpoint and data endpoints answer the command as the platform would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from tower.brands import add_brand
from tower.config import Settings
from tower.runtime import Runtime
from tower.sync.grants import grant_secret_id, parse_grant
from tower_dev.sandboxes.ad_oauth import submit_consent
from tower_dev.sandboxes.ad_sandbox import AdSandboxes, SandboxAccount, sample_accounts, start_ad_sandboxes

BRAND = "cli_oauth"
APPS = {"meta": ("meta_app_id", "meta_app_secret", "5550001", "cli-meta-secret"),
        "tiktok": ("tiktok_app_id", "tiktok_app_secret", "7770001", "cli-tiktok-secret"),
        "google_ads": ("google_ads_client_id", "google_ads_client_secret", "cli.apps.sandbox", "cli-google-secret")}


@pytest.fixture
def sandboxes() -> Iterator[AdSandboxes]:
    accounts = sample_accounts(seed=8, brand_id=BRAND, start=date(2026, 11, 1), days=5, currency="CAD",
                               timezone="America/Toronto")
    boxes = start_ad_sandboxes(accounts)
    for platform, (_, _, client_id, secret) in APPS.items():
        boxes.get(platform).oauth.register(client_id, secret)
    yield boxes
    boxes.stop()


def _env(tmp_path: Path, boxes: AdSandboxes) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env |= {"TOWER_WAREHOUSE": f"duckdb:///{tmp_path}/w.duckdb", "TOWER_STORE": f"local:///{tmp_path}/store.sqlite",
            "TOWER_SECRETS": f"local:///{tmp_path}/secrets", "TOWER_BUS": f"local:///{tmp_path}/bus.sqlite",
            "TOWER_TASKS": f"local:///{tmp_path}/tasks.sqlite", "TOWER_DATA_DIR": str(tmp_path),
            "TOWER_GOOGLE_ADS_DEVELOPER_TOKEN": "sandbox-developer-token",
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p.endswith("shared"))}
    env |= {f"TOWER_{k.upper()}": v for k, v in boxes.settings_overrides().items()}
    for id_field, secret_field, client_id, secret in APPS.values():
        env |= {f"TOWER_{id_field.upper()}": client_id, f"TOWER_{secret_field.upper()}": secret}
    return env


def _add_brand(tmp_path: Path) -> None:
    rt = Runtime(Settings(warehouse=f"duckdb:///{tmp_path}/w.duckdb", store=f"local:///{tmp_path}/store.sqlite",
                          secrets=f"local:///{tmp_path}/secrets", data_dir=tmp_path))
    rt.warehouse.init_schema()
    add_brand(rt.warehouse, brand_id=BRAND, name="Cli Oauth", timezone="America/Toronto", currency="CAD",
              now=datetime.now(UTC))
    rt.close()


def _run(tmp_path: Path, boxes: AdSandboxes, platform: str, decision: str = "approve") -> tuple[int, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tower.cli", "connect", platform, "--brand", BRAND, "--oauth", "--wait", "60"],
        env=_env(tmp_path, boxes), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.startswith("http"):
                url = line.strip()
                break
        assert url, proc.stderr.read() if proc.stderr else ""
        location = submit_consent(url, decision)
        assert location.startswith("http://127.0.0.1:")
        # A forged request to the loopback first: refused, and the command keeps waiting for the real one.
        forged = requests.get(location.split("?")[0] + "?code=x&state=" + "f" * 43, timeout=10)
        assert forged.status_code == 401
        landed = requests.get(location, timeout=10)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, landed.text + "\n" + out, err
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("platform", ["meta", "google_ads"])
def test_connect_by_oauth_from_the_command_line(tmp_path: Path, sandboxes: AdSandboxes, platform: str) -> None:
    _add_brand(tmp_path)
    code, out, err = _run(tmp_path, sandboxes, platform)
    assert code == 0, err
    [own] = [a for a in sample_accounts(seed=8, brand_id=BRAND) if a.platform == platform]
    assert "you can close this tab" in out
    assert "connected" in out and own.account_id in out and "CAD" in out
    rt = Runtime(Settings(warehouse=f"duckdb:///{tmp_path}/w.duckdb", store=f"local:///{tmp_path}/store.sqlite",
                          secrets=f"local:///{tmp_path}/secrets", data_dir=tmp_path, tasks=f"local:///{tmp_path}/tasks.sqlite"))
    try:
        grant = parse_grant(rt.secrets.get(grant_secret_id(BRAND, platform)))
        assert grant is not None and grant["authorized_by"] == "cli"
        [row] = rt.warehouse.rows("SELECT * FROM integrations WHERE brand_id = @b", {"b": BRAND})
        assert (row["account_id"], row["status"], row["secret_ref"]) == (own.account_id, "active",
                                                                        grant_secret_id(BRAND, platform))
        assert grant["access_token"] not in out + err
    finally:
        rt.close()


def test_declined_in_the_browser_exits_2(tmp_path: Path, sandboxes: AdSandboxes) -> None:
    _add_brand(tmp_path)
    code, out, err = _run(tmp_path, sandboxes, "tiktok", decision="deny")
    assert code == 2
    assert "declined" in out + err


def test_a_google_manager_reaching_several_clients_asks_which_naming_the_manager(tmp_path: Path,
                                                                               sandboxes: AdSandboxes) -> None:
    _add_brand(tmp_path)
    google = sandboxes.google_ads
    [own] = [a for a in sample_accounts(seed=8, brand_id=BRAND) if a.platform == "google_ads"]
    google.registry.add(SandboxAccount("google_ads", "4440005555", brand_id="another_shop", currency="CAD",
                                       timezone="America/Toronto", name="Another client"))
    google.add_manager("5550004444", "Agency MCC", [own.account_id, "4440005555"], currency="CAD",
                       timezone="America/Toronto")
    google.oauth.user_accounts = {"5550004444"}
    code, out, err = _run(tmp_path, sandboxes, "google_ads")
    assert code == 2, out
    assert f"{own.account_id} (" in err and "through manager 5550004444" in err and "--account" in err
