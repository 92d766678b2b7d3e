"""The merchant page and the agency overview in headless Chromium, against the API serving the demo.

One small demo world (three brands, its sandbox platforms up) is built for the module; each test opens
its own browser context, so it signs in afresh (the key lives in the tab's memory only). Every screen
is checked with axe-core and photographed into test-artifacts/browser/; none may trip the page's
Content-Security-Policy or throw.
"""

from __future__ import annotations

import json
import re
import statistics
import urllib.request
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from browser_kit import ARTIFACTS, axe_violations
from demo_site import DemoSite
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

STATUS_ORDER = {"needs_attention": 0, "opportunity": 1, "stable": 2}
FIRST_RENDER_BUDGET_MS = 1000


def api_get(site: DemoSite, path: str) -> Any:
    req = urllib.request.Request(site.url + path, headers={"Authorization": f"Bearer {site.key}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def sign_in(page: Page, site: DemoSite, path: str = "/") -> None:
    page.goto(site.url + path)
    page.get_by_label("API key").fill(site.key)
    page.get_by_role("button", name="Sign in").click()


def assert_clean(page: Page, where: str) -> None:
    """No axe violation, no CSP violation, no uncaught error on the page as it stands."""
    violations = axe_violations(page)
    assert violations == [], f"axe on {where}: {json.dumps(violations, indent=1)}"
    assert page.evaluate("window.__cspViolations") == [], f"CSP violations on {where}"
    assert page.errors == [], f"page errors on {where}: {page.errors}"  # type: ignore[attr-defined]


def assert_fits(page: Page, width: int, where: str) -> None:
    """Nothing makes the page wider than the window (wide tables scroll inside their own box)."""
    wide = page.evaluate(
        """(w) => {
          // elements, and runs of text, reaching past the window, but for those inside a scroll box
          const out = [];
          const inScrollBox = (n) => n.parentElement && n.parentElement.closest('.table-scroll, .tabs');
          for (const e of document.querySelectorAll('body *')) {
            if (e.getBoundingClientRect().right > w + 0.5 && !inScrollBox(e)) out.push(e.tagName + '.' + e.className);
          }
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let t = walk.nextNode(); t; t = walk.nextNode()) {
            const r = document.createRange();
            r.selectNodeContents(t);
            const hidden = t.parentElement && t.parentElement.closest('.visually-hidden');
            if (r.getBoundingClientRect().right > w + 0.5 && !inScrollBox(t) && !hidden) {
              out.push('text: ' + t.textContent.slice(0, 60));
            }
          }
          return out.slice(0, 8);
        }""",
        width,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width and not wide, f"{where}: {wide}"


def mark_time(page: Page, name: str) -> float:
    # a function, not an expression string: the page's CSP forbids eval, which Playwright uses for strings
    page.wait_for_function(f"() => performance.getEntriesByName('{name}').length > 0")
    return float(page.evaluate(f"performance.getEntriesByName('{name}')[0].startTime"))


def budget_card(site: DemoSite) -> tuple[str, dict[str, Any]]:
    """A brand and one of its open cards that changes campaign budgets (the demo has some for every brand)."""
    for row in api_get(site, "/api/agency/overview")["brands"]:
        for card in api_get(site, f"/api/brands/{row['brand_id']}/dashboard")["recommendations"]:
            if card["status"] == "open" and card.get("campaign_changes"):
                return row["brand_id"], card
    raise AssertionError("the demo made no budget recommendation")


def test_first_meaningful_render_within_a_second(site: DemoSite, new_page: Callable[..., Page],
                                                 timings: dict[str, Any]) -> None:
    """Measured in the browser (Performance API marks the page sets when a screen's content is up),
    without axe loaded, on loopback: the sign-in page from navigation start, and a brand's dashboard
    from the click on it in the overview. Three fresh loads each; the median must be within budget
    (one load can be slowed by whatever else the machine runs)."""
    signin, dashboard = [], []
    for _ in range(3):
        page = new_page(axe=False)
        page.goto(site.url + "/")
        expect(page.get_by_role("heading", name="Sign in to Control Tower")).to_be_visible()
        signin.append(mark_time(page, "tower:meaningful"))
        page.get_by_label("API key").fill(site.key)
        page.get_by_role("button", name="Sign in").click()
        rows = page.get_by_test_id("brand-row")
        expect(rows).to_have_count(3)
        started = page.evaluate("performance.now()")
        rows.first.get_by_role("link").click()
        expect(page.get_by_test_id("summary-metrics")).to_be_visible()
        dashboard.append(mark_time(page, "tower:dashboard") - started)
        page.context.close()
    timings["signin_first_meaningful_ms"] = first = round(statistics.median(signin))
    timings["overview_to_dashboard_ms"] = took = round(statistics.median(dashboard))
    timings["signin_runs_ms"] = [round(x) for x in signin]
    timings["dashboard_runs_ms"] = [round(x) for x in dashboard]
    assert first <= FIRST_RENDER_BUDGET_MS, f"the sign-in page's first meaningful render took {signin} ms"
    assert took <= FIRST_RENDER_BUDGET_MS, f"the dashboard took {dashboard} ms to show its figures"


def test_sign_in_then_the_agency_overview_most_urgent_first(site: DemoSite, new_page: Callable[..., Page],
                                                           shot: Callable[..., Any]) -> None:
    page = new_page()
    page.goto(site.url + "/")
    expect(page.get_by_role("heading", name="Sign in to Control Tower")).to_be_visible()
    assert_clean(page, "sign-in")
    shot(page, "01-sign-in")

    page.get_by_label("API key").fill("tower_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Not signed in")
    assert site.key not in page.url and "tower_" not in page.url

    page.get_by_label("API key").fill(site.key)
    page.get_by_role("button", name="Sign in").click()
    rows = page.get_by_test_id("brand-row")
    expect(rows).to_have_count(3)
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert site.key not in page.url

    api = api_get(site, "/api/agency/overview")["brands"]
    shown = [rows.nth(i).get_attribute("data-brand-id") for i in range(3)]
    assert shown == [b["brand_id"] for b in api]
    assert {b["brand_name"] for b in api} == {bw.brand["brand_name"] for bw in site.world.brands}
    # the order is urgency's: status, then the lowest health, then the name
    assert api == sorted(api, key=lambda b: (STATUS_ORDER[b["status"]], b["health_score"], b["brand_name"]))
    for i, b in enumerate(api):
        expect(rows.nth(i)).to_contain_text(b["brand_name"])
        expect(rows.nth(i)).to_contain_text(f"{b['health_score']}/100")
        if b["top_issue"]:
            expect(rows.nth(i)).to_contain_text(b["top_issue"])
    assert_clean(page, "agency overview")
    shot(page, "02-agency-overview")

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(api[0]["brand_name"])
    assert page.url.endswith(f"/brands/{api[0]['brand_id']}")


def test_dashboard_range_and_channel_tabs(site: DemoSite, new_page: Callable[..., Page],
                                          shot: Callable[..., Any]) -> None:
    brand = api_get(site, "/api/agency/overview")["brands"][0]
    b = brand["brand_id"]
    dash = api_get(site, f"/api/brands/{b}/dashboard")
    page = new_page()
    sign_in(page, site, f"/brands/{b}")
    expect(page.get_by_role("heading", level=1)).to_have_text(brand["brand_name"])

    facts = page.get_by_test_id("store-facts")
    expect(facts).to_contain_text(dash["brand"]["currency"])
    expect(facts).to_contain_text(dash["brand"]["timezone"].replace("_", " "))
    expect(page.get_by_test_id("summary-metrics")).to_be_visible()
    expect(page.get_by_test_id("range-label")).to_contain_text("Last 7 days")
    # wait for the charts' canvas (the lazily loaded chunk) before judging the screen
    expect(page.locator(".echart canvas").first).to_be_visible()
    assert_clean(page, "dashboard")
    shot(page, "03-dashboard")

    # a wider range, compared with last year: the URL keeps it and the API is asked for those dates
    page.get_by_label("Dates").select_option("last_30_days")
    page.get_by_label("Compare with").select_option("previous_year")
    with page.expect_request(lambda r: "/dashboard?" in r.url) as asked:
        page.get_by_role("button", name="Apply").click()
    assert "period=last_30_days&compare=previous_year" in asked.value.url
    expect(page).to_have_url(re.compile(r"range=last_30_days.*compare=previous_year"))
    served = api_get(site, f"/api/brands/{b}/dashboard?period=last_30_days&compare=previous_year")["range"]
    first, last = (date.fromisoformat(served[k]) for k in ("start", "last_day"))
    expect(page.get_by_test_id("range-label")).to_contain_text(
        f"Last 30 days ({first:%b} {first.day} – {last:%b} {last.day}, {last.year})")
    expect(page.locator("main")).to_have_attribute("aria-busy", "false")
    expect(page.get_by_test_id("range-notice")).to_have_count(0)  # the API served the range itself
    shot(page, "04-dashboard-last-30-days")

    # channel tabs: a click, then the arrow keys
    for channel, name in (("meta", "Meta"), ("tiktok", "TikTok")):
        drill = api_get(site, f"/api/brands/{b}/drilldown/channel/{channel}")
        if channel == "meta":
            page.get_by_role("tab", name=name).click()
        else:
            page.get_by_role("tab", name="Meta").press("ArrowRight")  # the tabs pattern's arrow keys
        expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")
        expect(page).to_have_url(re.compile(f"channel={channel}"))
        panel = page.get_by_role("tabpanel")
        expect(panel.get_by_role("heading", name="Top campaigns")).to_be_visible()
        for c in drill["top_campaigns"][:3]:
            expect(panel).to_contain_text(c["name"])
        assert_clean(page, f"{name} tab")
        shot(page, f"05-channel-{channel}")
    page.get_by_role("tab", name="All channels").click()
    expect(page.get_by_role("tabpanel").get_by_role("heading", name="Where the money goes")).to_be_visible()


def test_accept_changes_the_platform_budget_and_undo_restores_it(site: DemoSite, new_page: Callable[..., Page],
                                                                 shot: Callable[..., Any]) -> None:
    brand_id, card = budget_card(site)
    changes = card["campaign_changes"]
    before = {c["campaign_id"]: site.campaign_budget(c["platform"], c["campaign_id"]) for c in changes}
    page = new_page()
    sign_in(page, site, f"/brands/{brand_id}")
    expect(page.get_by_test_id("recommendation").first).to_be_visible()
    show_all = page.get_by_role("button", name=re.compile(r"^Show all \d+ recommendations$"))
    if show_all.count():
        show_all.click()
    rec = page.locator(f'[data-rec-id="{card["id"]}"]')
    expect(rec).to_be_visible()

    rec.get_by_role("button", name="Accept").click()
    dialog = page.get_by_role("dialog", name="Accept this recommendation?")
    expect(dialog.get_by_text("Control Tower will make exactly these changes")).to_be_visible()
    for c in changes:
        row = dialog.locator("tr", has_text=c["campaign_name"])
        expect(row).to_contain_text(f"{before[c['campaign_id']]:,.2f}")
        expect(row).to_contain_text(f"{c['proposed_daily_budget']:,.2f}")
        expect(row).to_contain_text("Allowed")
    assert before == {c["campaign_id"]: site.campaign_budget(c["platform"], c["campaign_id"]) for c in changes}
    assert_clean(page, "accept preview")
    shot(page, "06-accept-preview", full_page=False)

    dialog.get_by_role("button", name="Apply these changes").click()
    expect(rec.get_by_test_id("rec-status")).to_have_text("Applied", timeout=30_000)
    for c in changes:
        assert site.campaign_budget(c["platform"], c["campaign_id"]) == pytest.approx(c["proposed_daily_budget"])
    shot(page, "07-applied")

    rec.get_by_role("button", name="Undo").click()
    page.get_by_role("dialog", name="Undo this change?").get_by_role("button", name="Undo the change").click()
    expect(rec.get_by_test_id("rec-status")).to_have_text("Undone", timeout=30_000)
    for c in changes:
        assert site.campaign_budget(c["platform"], c["campaign_id"]) == pytest.approx(before[c["campaign_id"]])
    assert_clean(page, "after undo")
    shot(page, "08-undone")


def test_ask_a_question(site: DemoSite, new_page: Callable[..., Page], shot: Callable[..., Any]) -> None:
    brand = api_get(site, "/api/agency/overview")["brands"][0]
    page = new_page()
    sign_in(page, site, f"/brands/{brand['brand_id']}")
    page.get_by_label("Your question").fill("Which products performed best last month?")
    page.get_by_role("button", name="Ask", exact=True).click()
    answer = page.get_by_test_id("answer")
    expect(answer).to_contain_text("Which products performed best last month?")
    expect(answer.get_by_text("Queries behind this answer")).to_be_visible()
    expect(answer).to_contain_text("top_products")
    # each figure the answer states, linked to the highlighted cell of the query it came from
    folded = answer.locator("details.figures:not([open]) > summary")
    if folded.count():  # a long list starts folded
        folded.click()
    figures = answer.get_by_role("table", name=re.compile("Each figure the answer states"))
    expect(figures).to_be_visible()
    link = figures.get_by_role("link").first
    target = link.get_attribute("href")
    assert target and page.locator(target).locator("mark").count() == 1
    assert_clean(page, "answer")
    answer.scroll_into_view_if_needed()
    shot(page, "09-answer")


def test_product_pictures_load_from_the_sandbox_store(site: DemoSite, new_page: Callable[..., Page],
                                                     shot: Callable[..., Any]) -> None:
    """The product table shows each product's featured image, served by the sandbox store at the URL
    the Shopify sync stored, within the page's CSP; a product without one shows none, never a gid."""
    brand = api_get(site, "/api/agency/overview")["brands"][0]
    products = api_get(site, f"/api/brands/{brand['brand_id']}/products")["products"]
    pictured = [p for p in products if p["image_url"]]
    assert pictured and all(p["image_url"].startswith(site.settings_shopify_origin) for p in pictured)
    page = new_page()
    sign_in(page, site, f"/brands/{brand['brand_id']}")
    table = page.locator(".products-table")
    expect(table).to_be_visible()
    table.scroll_into_view_if_needed()
    first = table.locator("img.thumb").first
    expect(first).to_be_visible()
    # lazy: each loads once scrolled to
    for img in table.locator("img.thumb").all():
        img.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('.products-table img.thumb')].every(i => i.complete)")
    loaded = page.evaluate("() => [...document.querySelectorAll('.products-table img.thumb')].map(i => i.naturalWidth)")
    assert loaded and all(w > 0 for w in loaded)
    assert first.get_attribute("loading") == "lazy" and first.get_attribute("width") == "32"
    assert "gid://" not in table.inner_text()
    assert_clean(page, "product pictures")
    table.screenshot(path=str(ARTIFACTS / "13-product-pictures.png"))


def test_help_is_reachable_and_clean(site: DemoSite, new_page: Callable[..., Page],
                                     shot: Callable[..., Any]) -> None:
    page = new_page()
    page.goto(site.url + "/")
    page.get_by_role("link", name="Help").click()
    page.get_by_role("link", name="What the figures mean").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What the figures mean")
    expect(page.get_by_text("Days of cover", exact=True)).to_be_visible()
    assert_clean(page, "help")
    shot(page, "10-help-figures")


def test_phone_width(site: DemoSite, new_page: Callable[..., Page], shot: Callable[..., Any]) -> None:
    page = new_page(width=360, height=740)
    sign_in(page, site)
    expect(page.get_by_test_id("brand-row")).to_have_count(3)
    assert_fits(page, 360, "overview at 360 px")
    assert_clean(page, "overview at 360 px")
    shot(page, "11-phone-overview")
    page.get_by_test_id("brand-row").first.get_by_role("link").click()
    expect(page.get_by_test_id("summary-metrics")).to_be_visible()
    expect(page.locator(".echart canvas").first).to_be_visible()
    assert_fits(page, 360, "dashboard at 360 px")
    assert_clean(page, "dashboard at 360 px")
    shot(page, "12-phone-dashboard")
