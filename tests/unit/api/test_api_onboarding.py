"""The install callback's two answers (a browser is signed in and sent to the wizard; an API client gets JSON),
and the wizard's steps as the system fills up, over HTTP against the sandbox store."""

from __future__ import annotations

from typing import Any

import requests

from tests.unit.api.test_api_shopify_install import Installer, brand_id, installer, world  # noqa: F401
from tower.api.auth import create_api_key
from tower.identity.sessions import COOKIE


def test_a_browser_finishing_the_install_is_signed_in_as_the_owner_and_sent_to_the_wizard(
        installer: Installer) -> None:  # noqa: F811
    params = installer.authorize()
    browser = requests.Session()
    r = browser.get(f"{installer.api}/shopify/callback", params=params, allow_redirects=False, timeout=10,
                    headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    b = brand_id(installer.shop)
    assert r.status_code == 302 and r.headers["Location"] == f"/onboarding/{b}"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "shpat_" not in cookie and "shpat_" not in r.text  # the store's token is not in the answer
    # the cookie is the store owner's session: the wizard's own routes answer, another brand's do not
    me = browser.get(f"{installer.api}/api/session", timeout=10).json()["principal"]
    assert (me["role"], me["brand_ids"]) == ("merchant_owner", [b])
    wizard = browser.get(f"{installer.api}/api/brands/{b}/onboarding", timeout=10)
    assert wizard.status_code == 200 and wizard.json()["current"] == "subscribe"
    assert browser.get(f"{installer.api}/api/brands/someone-else/onboarding", timeout=10).status_code == 403


def test_an_api_client_finishing_the_install_keeps_the_json_answer(installer: Installer) -> None:  # noqa: F811
    r = installer.callback(installer.authorize())
    assert r.status_code == 200 and r.json()["brand_id"] == brand_id(installer.shop)
    assert COOKIE not in r.headers.get("Set-Cookie", "")


def test_the_wizard_resumes_where_the_system_stands(installer: Installer) -> None:  # noqa: F811
    assert installer.callback(installer.authorize()).status_code == 200
    b = brand_id(installer.shop)
    headers = {"Authorization": f"Bearer {create_api_key(installer.runtime.store, brand_ids=[b], name='m')}"}

    def steps() -> dict[str, Any]:
        return requests.get(f"{installer.api}/api/brands/{b}/onboarding", headers=headers, timeout=10).json()

    first = steps()
    assert [s["id"] for s in first["steps"]] == ["install", "shopify", "subscribe", "ads", "sync", "dashboard"]
    assert first["steps"][1]["detail"] == installer.shop and first["complete"] is False
    # the app uninstalled: the Shopify step says what to do
    installer.uninstall()
    after = steps()
    shopify = after["steps"][1]
    assert shopify["state"] == "error" and shopify["error"]["fix"] == f"Install the app again: /shopify/install?shop={installer.shop}"
    assert after["current"] == "shopify"
    progress = requests.get(f"{installer.api}/api/brands/{b}/sync-progress", headers=headers, timeout=10).json()
    assert [(p["platform"], p["status"], p["eta_seconds"]) for p in progress["platforms"]] == \
        [("shopify", "not_started", None)]  # never synced: nothing to measure
