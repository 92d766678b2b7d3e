"""The demo agency's weekly digest, as `make demo` sends it: into the SMTP capture and the Slack sandbox.

Brands arrive most urgent first (the agency overview's order) and every figure in the e-mail is the one
the API's dashboard gives for that brand and week. The e-mail is rendered in headless Chromium (Debian's,
through Playwright) and kept as ``test-artifacts/notify/digest-email.png``.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tower.api.agency import overview
from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.config import Settings
from tower.notify.render import change, figure_text, money, ratio
from tower_dev.demo import DEMO_AGENCY_ID, DEMO_RECIPIENTS, run_demo
from tower_dev.sandboxes.slack_api.server import block_problem

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "notify"
CHROMIUM = os.environ.get("TOWER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
EMAIL = next(r["address"] for r in DEMO_RECIPIENTS if r["channel"] == "email")
CHANNEL = next(r["address"] for r in DEMO_RECIPIENTS if r["channel"] == "slack")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    d: Path = tmp_path_factory.mktemp("demo-digest")
    settings = Settings(
        warehouse=f"duckdb:///{d}/w.duckdb", store=f"local:///{d}/store.sqlite", bus=f"local:///{d}/bus.sqlite",
        tasks=f"local:///{d}/tasks.sqlite", secrets=f"local:///{d}/secrets", data_dir=d, anthropic_api_key="",
        shopify_bulk_min_orders=0, notify_retry_seconds=0.0,
    )
    result = run_demo(settings, brands=3, days=60, orders_per_day=40, seed=11, serve=False,
                      console=Console(file=io.StringIO(), width=160))
    yield result
    result["runtime"].close()


def _digest_mail(demo: dict[str, Any]) -> Any:
    mails = [m for m in demo["notify"].mail.to(EMAIL) if "weekly digest" in str(m.message["Subject"])]
    assert len(mails) == 1, [str(m.message["Subject"]) for m in demo["notify"].mail.to(EMAIL)]
    return mails[0]


def test_the_demo_agencys_digest_arrives_by_email_and_in_slack(demo: dict[str, Any]) -> None:
    assert sorted(demo["digest"]["sent"]) == sorted(r["recipient_id"] for r in DEMO_RECIPIENTS)
    mail = _digest_mail(demo)
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Northstar Growth" in str(mail.message["From"]) and "digest@northstar.example" in str(mail.message["From"])
    posted = [m for m in demo["notify"].slack.sent("chat.postMessage", CHANNEL) if "weekly digest" in m["text"]]
    assert len(posted) == 1 and block_problem(posted[0]["blocks"]) is None


def test_brands_in_urgency_order_with_the_dashboards_figures(demo: dict[str, Any]) -> None:
    runtime = demo["runtime"]
    text = _digest_mail(demo).part("plain")
    brand_ids = runtime.store.get(f"agencies/{DEMO_AGENCY_ID}")["brand_ids"]
    rows = overview(runtime, brand_ids)
    sections = [text.index(f"== {r['brand_name']} (health {r['health_score']}/100") for r in rows]
    assert sections == sorted(sections), "brands are not in the overview's urgency order"
    client = create_app(runtime, clock=lambda: datetime.now(UTC)).test_client()
    key = create_api_key(runtime.store, agency_id=DEMO_AGENCY_ID, name="digest-test")
    for i, r in enumerate(rows):
        dash = client.get(f"/api/brands/{r['brand_id']}/dashboard", headers={"Authorization": f"Bearer {key}"}).json
        section = text[sections[i]: sections[i + 1] if i + 1 < len(sections) else len(text)]
        perf, tiles, currency = dash["performance_snapshot"], dash["tiles"], dash["brand"]["currency"]
        changes = perf.get("changes") or {}
        assert dash["range"]["label"] in section
        assert f"- Ad spend: {money(perf['total_spend'], currency)} ({change(changes.get('spend_pct'))})" in section
        assert f"- Revenue: {money(perf['total_revenue'], currency)} ({change(changes.get('revenue_pct'))})" in section
        assert f"- Blended ROAS: {ratio(perf['blended_roas'])} ({change(changes.get('roas_pct'))})" in section
        for label, name in (("MER", "mer"), ("New-customer revenue", "new_customer_revenue"), ("Profit", "profit")):
            tile = tiles[name]
            assert f"- {label}: {figure_text(tile, currency)} ({change(tile['change_pct'])})" in section
        for alert in dash["alerts"]:
            assert f"[{alert['severity']}] {alert['title']}" in section


def test_the_rendered_email_in_headless_chromium(demo: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set TOWER_CHROMIUM)",
                    pytrace=False)
    html = _digest_mail(demo).part("html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "digest-email.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 720, "height": 900})
            page.set_content(html, wait_until="load")
            first = overview(demo["runtime"], demo["runtime"].store.get(f"agencies/{DEMO_AGENCY_ID}")["brand_ids"])[0]
            link = page.get_by_role("link", name=f"Open {first['brand_name']}")
            assert link.get_attribute("href", timeout=5_000).endswith(f"/brands/{first['brand_id']}")
            assert page.locator("[data-figure=spend]").count() == len(demo["digest"]["brands"])
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
