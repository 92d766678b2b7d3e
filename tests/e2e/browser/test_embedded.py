"""Issue 17: a merchant signs in through the Shopify session token when the app is embedded, in headless Chromium.

``tower serve`` starts with no brand; the Shopify sandbox plays the admin. Its app page
(``/store/<name>/apps/<client_id>``) frames our app URL with Shopify's launch query: the App Home load
connects the store by token exchange and redirects, inside the frame, into the wizard with
``embedded=1&shop=&host=``. The page there loads App Bridge (the sandbox's stand-in at its origin) and
every API call carries a fresh session token as ``Authorization: Bearer``, never a cookie: the admin is
at ``127.0.0.1`` and the app at ``localhost``, another site, so the browser would not send the
SameSite=Lax session cookie into the frame anyway. A frame from any other origin is refused by the
page's ``frame-ancestors``.

Leaving the frame and coming back: Shopify's approval page and Meta's consent page open in the whole
window; the approval returns into the admin (Shopify's recommended returnUrl) and the plan is active
there; Meta's callback, which no cookie ties to this browser, keeps the grant pending and sends the
window into the admin, whose frame confirms it with the shop's session token and picks the accounts.
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
META_APP = ("5550001112299", "meta-e2e-embedded-secret-41")
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
    sandboxes.ads.get("meta").oauth.register(*META_APP, {f"{app_url}/oauth/meta/callback"})
    env = {
        **sandboxes.env(data_dir),
        # Meta's consent page and token endpoint are the ad sandbox's
        **{f"TOWER_{k.upper()}": v for k, v in sandboxes.ads.settings_overrides().items()},
        "TOWER_AD_OAUTH_REDIRECT_BASE": app_url,
        "TOWER_META_APP_ID": META_APP[0], "TOWER_META_APP_SECRET": META_APP[1],
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



def _admin_context(chromium: Browser) -> tuple[Any, list[Request]]:
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
    ctx.add_init_script(CSP_WATCH)
    ctx.set_default_timeout(60_000)
    calls: list[Request] = []
    ctx.on("requestfinished", lambda r: calls.append(r))
    return ctx, calls


def test_the_plans_approval_page_returns_into_the_admin_and_the_plan_is_active(system: Embedded, chromium: Browser,
                                                                               shot: Any) -> None:
    ctx, _ = _admin_context(chromium)
    page = ctx.new_page()
    page.goto(system.admin)
    app = page.frame_locator("#app")
    app.get_by_role("heading", name="Subscribe").wait_for()
    app.get_by_role("button", name="Subscribe").click()
    # Shopify's approval page refuses a frame: the whole window goes there
    page.get_by_role("button", name="Approve").wait_for()
    assert page.url.startswith(f"{system.sandboxes.shop.origin}/admin/charges/")
    page.get_by_role("button", name="Approve").click()
    # back in the admin (Shopify's recommended returnUrl), which frames our return route; it reads the
    # plan from Shopify and sends the frame on to the ad accounts step, still embedded
    page.wait_for_url(re.compile(re.escape(f"{system.admin}/shopify/billing/return?")))
    app.get_by_role("heading", name="Connect ad accounts").wait_for()
    frame = next(f for f in page.frames if f.url.startswith(system.app_url))
    assert {"step=ads", "embedded=1", f"shop={system.shop}"} <= set(frame.url.split("?", 1)[1].split("&"))
    subscribe = app.locator(".wizard-step", has_text="Subscribe")
    assert "done" in (subscribe.get_attribute("class") or "") and "Tower Starter: active" in subscribe.inner_text()
    shot(page, "embedded-2-plan-active-in-the-admin")
    ctx.close()


def test_connecting_meta_from_the_admin_comes_back_embedded_and_confirms_the_grant(system: Embedded,
                                                                                   chromium: Browser,
                                                                                   shot: Any) -> None:
    brand_id = brand_id_for_shop(system.shop)
    ctx, calls = _admin_context(chromium)
    page = ctx.new_page()
    page.goto(f"{system.admin}/onboarding/{brand_id}?step=ads")  # a deep link into the admin's app
    app = page.frame_locator("#app")
    app.get_by_role("button", name="Connect Meta").click()
    # Meta's consent page refuses a frame: the whole window goes there, and Meta sends it back to our callback
    page.locator("#approve").wait_for()
    assert page.url.startswith(system.sandboxes.ads.meta.origin)
    page.locator("#approve").click()
    # no cookie could bind the flow to this browser: the callback kept the grant pending and sent the
    # window into the shop's admin, whose frame confirms it with the shop's session token
    page.wait_for_url(re.compile(re.escape(f"{system.admin}/onboarding/{brand_id}?") + ".*pending="))
    picker = app.get_by_role("form", name="Pick Meta accounts")
    picker.wait_for()
    confirm = [c for c in calls if c.url.endswith(f"/api/brands/{brand_id}/integrations/meta/authorization/confirm")]
    assert len(confirm) == 1 and JWT.match(confirm[0].all_headers().get("authorization", ""))
    assert "cookie" not in confirm[0].all_headers()
    callback = [c for c in calls if c.url.startswith(f"{system.app_url}/oauth/meta/callback")]
    assert callback and "cookie" not in callback[0].all_headers()  # nothing tied it to the browser
    own = str(system.sandboxes.brand.ad_accounts["meta"]["account_id"])
    boxes = picker.get_by_role("checkbox")
    for i in range(boxes.count()):
        if f"({own} " not in boxes.nth(i).locator("xpath=..").inner_text():
            boxes.nth(i).uncheck()
    shot(page, "embedded-3-meta-accounts-in-the-admin")
    picker.get_by_role("button", name="Connect 1 account").click()
    app.get_by_text("1 connected").wait_for()
    frame = next(f for f in page.frames if f.url.startswith(system.app_url))
    assert "pending=" not in frame.url  # used up: a reload confirms nothing again
    assert frame.evaluate("window.__cspViolations") == []
    ctx.close()
