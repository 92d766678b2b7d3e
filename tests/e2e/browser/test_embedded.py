"""Issue 17: a merchant signs in through the Shopify session token when the app is embedded, in headless Chromium.

``tower serve`` starts with no brand; the Shopify sandbox plays the admin. Its app page
(``/store/<name>/apps/<client_id>``) frames our app URL with Shopify's launch query: the App Home load
connects the store by token exchange and redirects, inside the frame, into the wizard with
``embedded=1&shop=&host=``. The page there loads App Bridge (the sandbox's stand-in at its origin) and
every API call carries a fresh session token as ``Authorization: Bearer``, never a cookie: the admin is
at ``127.0.0.1`` and the app at ``localhost``, another site, so the browser would not send the
SameSite=Lax session cookie into the frame anyway. A frame from any other origin is refused by the
page's ``frame-ancestors``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import test_onboarding as onboarding
from browser_kit import CSP_WATCH, PAGE_DIR
from playwright.sync_api import Browser, Request

from tests.e2e.real_store import Sandboxes, start_sandboxes
from tower.sync.install import brand_id_for_shop

pytestmark = pytest.mark.slow

#: The onboarding test's Chromium, launched once this module's system is up.
chromium = onboarding.chromium
Served = onboarding.Served

SHOPIFY_APP = ("tower-e2e-embedded", "shpss_e2e_embedded_secret_of_32_bytes")
JWT = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


@dataclass
class Embedded:
    served: Served
    sandboxes: Sandboxes
    app_url: str

    @property
    def shop(self) -> str:
        return str(self.sandboxes.brand.brand["shop_domain"])

    @property
    def admin(self) -> str:
        """The sandbox admin's page of our app in the shop."""
        return f"{self.sandboxes.shop.origin}/store/{self.shop.split('.', 1)[0]}/apps/{SHOPIFY_APP[0]}"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    data_dir = tmp_path_factory.mktemp("embedded")
    sandboxes = start_sandboxes()
    port = onboarding._free_port()
    app_url = f"http://localhost:{port}"  # another site than the sandbox admin's 127.0.0.1
    sandboxes.shop.sandbox.oauth.register(*SHOPIFY_APP, app_url)
    env = {
        **sandboxes.env(data_dir),
        "TOWER_PAGE_DIR": str(PAGE_DIR),
        "TOWER_SHOPIFY_CLIENT_ID": SHOPIFY_APP[0], "TOWER_SHOPIFY_API_SECRET": SHOPIFY_APP[1],
        "TOWER_SHOPIFY_APP_URL": app_url,
        "TOWER_BILLING_PLAN_NAME": "Tower Starter", "TOWER_BILLING_PRICE_AMOUNT": "31.00",
        "TOWER_BILLING_TRIAL_DAYS": "7", "TOWER_BILLING_TEST": "true",
    }
    served = Served(data_dir, env, port)
    yield Embedded(served, sandboxes, app_url)
    served.stop()
    sandboxes.shop.stop()
    sandboxes.ads.stop()


def _frame_ancestors(response: requests.Response) -> str:
    csp = response.headers["Content-Security-Policy"]
    return next(d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors"))


def test_the_app_embedded_in_the_admin_calls_the_api_with_session_tokens(system: Embedded, chromium: Browser,
                                                                         shot: Any) -> None:
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
    ctx.add_init_script(CSP_WATCH)
    ctx.set_default_timeout(60_000)
    api_calls: list[Request] = []
    ctx.on("requestfinished", lambda r: api_calls.append(r) if r.url.startswith(f"{system.app_url}/api/") else None)
    page = ctx.new_page()
    page.goto(system.admin)

    # the App Home load installed the store and sent the frame into the wizard, keeping shop/host/embedded
    brand_id = brand_id_for_shop(system.shop)
    app = page.frame_locator("#app")
    app.get_by_role("heading", name="Subscribe").wait_for()
    frame = next(f for f in page.frames if f.url.startswith(system.app_url))
    assert frame.url.startswith(f"{system.app_url}/onboarding/{brand_id}?")
    assert {"embedded=1", f"shop={system.shop}"} <= set(frame.url.split("?", 1)[1].split("&"))
    assert "31.00 USD every 30 days" in app.locator("main").inner_text()
    assert app.get_by_role("button", name="Sign out").count() == 0  # the admin signs the merchant in and out
    shot(page, "embedded-1-wizard-in-the-admin")

    # every API call of the page carried a fresh session token and no cookie, and was answered
    assert api_calls, "the embedded page made no API call"
    for call in api_calls:
        headers = call.all_headers()
        assert JWT.match(headers.get("authorization", "")), (call.url, headers.get("authorization"))
        assert "cookie" not in headers and "x-csrf-token" not in headers, (call.url, sorted(headers))
        response = call.response()
        assert response is not None and response.status < 400, (call.url, response and response.status)
    tokens = {c.all_headers()["authorization"] for c in api_calls}
    assert len(tokens) == len(api_calls)  # one fresh token per call, as shopify.idToken() gives them
    assert any(c.url.endswith(f"/api/brands/{brand_id}/onboarding") for c in api_calls)
    assert system.sandboxes.shop.sandbox.oauth.id_tokens_minted >= len(api_calls) + 1  # + the launch query's
    assert frame.evaluate("window.__cspViolations") == []


def test_only_the_shops_admin_may_frame_the_page(system: Embedded, chromium: Browser) -> None:
    brand_id = brand_id_for_shop(system.shop)
    plain = requests.get(f"{system.app_url}/onboarding/{brand_id}", timeout=10)
    assert _frame_ancestors(plain) == "frame-ancestors 'none'" and plain.headers["X-Frame-Options"] == "DENY"
    embedded_url = f"{system.app_url}/onboarding/{brand_id}?embedded=1&shop={system.shop}&host=c2FuZGJveA"
    embedded = requests.get(embedded_url, timeout=10)
    assert _frame_ancestors(embedded) == (f"frame-ancestors https://{system.shop} https://admin.shopify.com "
                                          f"{system.sandboxes.shop.origin}")
    assert "X-Frame-Options" not in embedded.headers

    # a page of another origin (here the Meta sandbox's) framing the app: the browser refuses to show it
    ctx = chromium.new_context()
    page = ctx.new_page()
    page.goto(f"{system.sandboxes.ads.meta.origin}/")
    for url in (embedded_url, f"{system.app_url}/onboarding/{brand_id}"):
        page.evaluate("""(src) => new Promise((done) => {
            const f = document.createElement('iframe'); f.src = src; f.onload = () => done(true);
            document.body.appendChild(f); })""", url)
    framed = [f.url for f in page.frames if f != page.main_frame]
    assert len(framed) == 2 and not any(u.startswith(system.app_url) for u in framed), framed
    ctx.close()

