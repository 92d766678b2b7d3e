"""The three ad OAuth flows in headless Chromium: the product's authorize URL, the sandbox's consent page,
a click on Approve, the platform's redirect to the API's callback, and on into the onboarding page.

The API is served on a local port (as ``tower serve`` hosts it) so the browser follows real redirects;
the sandboxes play Meta, TikTok and Google. Only the grant lands in the secret store.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from browser_kit import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.api.headers import quiet_request_handler
from tower.brands import add_brand
from tower.config import Settings
from tower.sync.grants import grant_secret_id, parse_grant
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    register_oauth_apps,
    sample_accounts,
    sandbox_runtime,
    start_ad_sandboxes,
)

BRAND = "browser_oauth"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


@dataclass
class Served:
    origin: str
    key: str
    runtime: Any
    sandboxes: AdSandboxes


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium`, or set TOWER_CHROMIUM",
                    pytrace=False)
    sandboxes = start_ad_sandboxes(sample_accounts(seed=14, brand_id=BRAND, currency="GBP", timezone="Europe/London"))
    server = make_server("127.0.0.1", 0, lambda env, start: app(env, start), threaded=True,
                         request_handler=quiet_request_handler())
    origin = f"http://127.0.0.1:{server.server_port}"
    # No app named in the settings: the sandboxes' own apps, as the demo uses them.
    apps = register_oauth_apps(Settings(ad_oauth_redirect_base=origin), sandboxes)
    runtime = sandbox_runtime(tmp_path, sandboxes, ad_oauth_redirect_base=origin, **apps)
    add_brand(runtime.warehouse, brand_id=BRAND, name="Browser Oauth", timezone="Europe/London", currency="GBP",
              now=datetime.now(UTC))
    app = create_app(runtime)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(origin, create_api_key(runtime.store, brand_ids=[BRAND], name="browser"), runtime, sandboxes)
    finally:
        server.shutdown()
        sandboxes.stop()
        runtime.close()


def test_a_browser_approves_each_platform_and_lands_in_the_wizard(served: Served) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for platform in ("meta", "tiktok", "google_ads"):
                # Started from the browser itself (its cookie jar): the state is bound to the browser that
                # asked, and only that browser may finish the flow.
                r = page.request.post(f"{served.origin}/api/brands/{BRAND}/integrations/{platform}/authorize",
                                      headers={"Authorization": f"Bearer {served.key}"})
                assert r.status == 200, r.text()
                page.goto(r.json()["authorize_url"])
                page.click("#approve")
                page.wait_for_url(f"{served.origin}/onboarding/{BRAND}?step=accounts&platform={platform}*")
                grant = parse_grant(served.runtime.secrets.get(grant_secret_id(BRAND, platform)))
                assert grant is not None and grant["access_token"]
                listed = requests.get(f"{served.origin}/api/brands/{BRAND}/integrations/{platform}/accounts",
                                      headers={"Authorization": f"Bearer {served.key}"}, timeout=10).json()
                assert [(a["currency"], a["time_zone"]) for a in listed["accounts"]] == [("GBP", "Europe/London")]
        finally:
            browser.close()
