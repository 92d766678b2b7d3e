"""A brand's people, in the browser: the operator invites the brand's owner by e-mail; the owner accepts in
Chromium (creating the account with the official Firebase Auth emulator) and lands on the brand; from the
Team screen the owner invites a viewer; the viewer accepts the mailed link, signs in again by e-mail, sees
that brand only and read only (no Accept offered, and the API refuses one); the owner removes the viewer,
whose session stops working at its next request."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_kit import axe_violations
from conftest import _require_setup
from demo_site import DemoSite, mailing_demo_site
from playwright.sync_api import Page, expect

from tower.api.auth import create_api_key
from tower.identity.sessions import CSRF_HEADER
from tower_dev.demo import DEMO_AGENCY_ID
from tower_dev.sandboxes.mail_capture.server import MailCapture

OWNER = "ola@fjordknits.example"
VIEWER = "per@fjordknits.example"
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def members_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoSite, MailCapture, str]]:
    """The demo with the Auth emulator and the SMTP capture; an operator key."""
    _require_setup()
    with mailing_demo_site(tmp_path_factory.mktemp("browser-members"), "demo-tower-members",
                           notify_public_url="http://x.test") as (site, mail):
        yield site, mail, create_api_key(site.runtime.store, operator=True, name="browser-operator")


def _link(site: DemoSite, mail: MailCapture, email: str) -> str:
    """The invitation's link on this site (the mail names the configured public URL)."""
    token = re.search(r"/invitations/([A-Za-z0-9_-]+)", mail.to(email)[-1].part("plain"))
    assert token, mail.to(email)[-1].part("plain")
    return f"{site.url}/invitations/{token.group(1)}"


def _accept(page: Page, link: str, email: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name="Join your team on Control Tower")).to_be_visible()
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Accept the invitation").click()


def _api(page: Page, method: str, path: str, body: Any = None) -> Any:
    """A request with the page's cookies (and its session's CSRF token on a change) to the page's origin."""
    origin = "/".join(page.url.split("/", 3)[:3])
    if method == "GET":
        return page.request.get(origin + path)
    csrf = page.request.get(f"{origin}/api/session").json()["csrf_token"]
    return page.request.fetch(origin + path, method=method, headers={CSRF_HEADER: csrf, "Content-Type": "application/json"},
                              data=json.dumps(body or {}))


def test_an_owner_invites_a_viewer_who_reads_one_brand_until_removed(
        members_site: tuple[DemoSite, MailCapture, str], new_page: Callable[..., Page],
        shot: Callable[..., Any]) -> None:
    site, mail, operator_key = members_site
    brands = list(site.runtime.store.get(f"agencies/{DEMO_AGENCY_ID}")["brand_ids"])
    brand, other = brands[0], brands[1]
    req = urllib.request.Request(f"{site.url}/api/brands/{brand}/invitations", method="POST",
                                 data=json.dumps({"email": OWNER, "role": "merchant_owner"}).encode(),
                                 headers={"Authorization": f"Bearer {operator_key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read())["invitation"]["sent"] is True

    # the owner accepts, creating the account, and lands on the brand's dashboard
    owner = new_page()
    _accept(owner, _link(site, mail, OWNER), OWNER)
    owner.wait_for_url(f"**/brands/{brand}")
    owner.get_by_role("link", name="Team").click()
    expect(owner.get_by_role("cell", name=OWNER, exact=True)).to_be_visible()
    owner.get_by_label("E-mail", exact=True).fill(VIEWER)
    owner.get_by_label("Role", exact=True).select_option("merchant_viewer")
    owner.get_by_role("button", name="Send invitation").click()
    expect(owner.get_by_test_id("invitation")).to_have_count(1)
    assert axe_violations(owner) == []
    shot(owner, "30-team")

    # the viewer accepts, signs out, signs in again by e-mail: that brand only, read only
    viewer = new_page()
    _accept(viewer, _link(site, mail, VIEWER), VIEWER)
    viewer.wait_for_url(f"**/brands/{brand}")
    viewer.get_by_role("button", name="Sign out").click()
    viewer.get_by_text("Sign in with your e-mail instead").click()
    viewer.get_by_label("E-mail", exact=True).fill(VIEWER)
    viewer.get_by_label("Password", exact=True).fill(PASSWORD)
    viewer.get_by_role("button", name="Sign in with e-mail").click()
    viewer.wait_for_url(f"**/brands/{brand}")
    expect(viewer.get_by_test_id("recommendation").first).to_be_visible()
    expect(viewer.get_by_role("button", name="Accept", exact=True)).to_have_count(0)
    expect(viewer.get_by_text("View only: an owner acts on recommendations.").first).to_be_visible()
    expect(viewer.get_by_role("link", name="Team")).to_have_count(0)
    shot(viewer, "31-viewer")
    session = _api(viewer, "GET", "/api/session").json()["principal"]
    assert session["brand_ids"] == [brand] and session["role"] == "merchant_viewer"
    assert [b["brand_id"] for b in _api(viewer, "GET", "/api/agency/overview").json()["brands"]] == [brand]
    assert _api(viewer, "GET", f"/api/brands/{other}/dashboard").status == 403
    rec = viewer.get_by_test_id("recommendation").first.get_attribute("data-rec-id")
    refused = _api(viewer, "POST", f"/api/brands/{brand}/recommendations/{rec}/accept", {"dry_run": True})
    assert refused.status == 403 and "merchant_viewer" in refused.json()["error"]["message"]

    # the owner removes the viewer: the viewer's next request is refused, and the page asks to sign in
    owner.reload()
    row = owner.get_by_test_id("member").filter(has_text=VIEWER)
    row.get_by_role("button", name=re.compile("Remove")).click()
    expect(owner.get_by_role("cell", name=VIEWER, exact=True)).to_have_count(0)
    assert _api(viewer, "GET", f"/api/brands/{brand}/dashboard").status == 401
    viewer.reload()
    expect(viewer.get_by_label("API key")).to_be_visible()
    assert viewer.errors == []  # type: ignore[attr-defined]
