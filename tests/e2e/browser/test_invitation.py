"""An agency member invited by e-mail, in the browser: the agency admin invites an address through the
API, the mail lands in the SMTP capture, the invitee opens the link in Chromium, creates their account
with the official Firebase Auth emulator, and then sees only their agency's brands."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import _require_setup
from demo_site import DemoSite, mailing_demo_site
from playwright.sync_api import Page, expect

from tower_dev.demo import DEMO_AGENCY_ID
from tower_dev.sandboxes.mail_capture.server import MailCapture

INVITEE = "bea@northstar.example"


@pytest.fixture(scope="module")
def invited_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoSite, MailCapture, str]]:
    """The demo with the Auth emulator and the SMTP capture; its last brand moved to another agency."""
    _require_setup()
    with mailing_demo_site(tmp_path_factory.mktemp("browser-invite"), "demo-tower-browser") as (site, mail):
        store = site.runtime.store
        brands = list(store.get(f"agencies/{DEMO_AGENCY_ID}")["brand_ids"])
        store.merge(f"agencies/{DEMO_AGENCY_ID}", {"brand_ids": brands[:-1]})
        store.set("agencies/agency_rival", {"name": "Rival Growth", "brand_ids": brands[-1:]})
        yield site, mail, brands[-1]


def _invite(site: DemoSite) -> dict[str, Any]:
    req = urllib.request.Request(f"{site.url}/api/agencies/{DEMO_AGENCY_ID}/invitations", method="POST",
                                 data=json.dumps({"email": INVITEE, "role": "agency_member"}).encode(),
                                 headers={"Authorization": f"Bearer {site.key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return dict(json.loads(r.read()))


def test_an_invited_member_sees_only_the_agencys_brands(invited_site: tuple[DemoSite, MailCapture, str],
                                                       new_page: Callable[..., Page],
                                                       shot: Callable[..., Any]) -> None:
    site, mail, rival_brand = invited_site
    assert _invite(site)["invitation"]["sent"] is True
    (message,) = mail.to(INVITEE)
    token = re.search(r"/invitations/([A-Za-z0-9_-]+)", message.part("plain")).group(1)  # type: ignore[union-attr]

    page = new_page()
    page.goto(f"{site.url}/invitations/{token}")
    expect(page.get_by_role("heading", name="Join your team on Control Tower")).to_be_visible()
    shot(page, "20-invitation")
    page.get_by_label("E-mail", exact=True).fill(INVITEE)
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Accept the invitation").click()

    rows = page.get_by_test_id("brand-row")
    own = [b for b in site.runtime.store.get(f"agencies/{DEMO_AGENCY_ID}")["brand_ids"]]
    expect(rows).to_have_count(len(own))
    shown = {rows.nth(i).get_attribute("data-brand-id") for i in range(len(own))}
    assert shown == set(own) and rival_brand not in shown
    assert token not in page.url  # the used link left the address bar
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["tower_session"]["httpOnly"] is True and cookies["tower_session"]["sameSite"] == "Lax"
    shot(page, "21-invited-member-overview")

    # another agency's brand is closed to the member, and the link does not work twice
    answer = page.evaluate(f"fetch('/api/brands/{rival_brand}/dashboard').then(r => r.status)")
    assert answer == 403
    again = page.evaluate(f"fetch('/api/invitations/{token}/accept', {{method: 'POST', headers: "
                          "{'Content-Type': 'application/json'}, body: JSON.stringify({id_token: 'x'})})"
                          ".then(r => r.status)")
    assert again in (401, 404)
