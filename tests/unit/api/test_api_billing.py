"""Billing through Shopify's Billing API, over HTTP, against the sandbox store (tower.billing, tower.api.onboarding).

The store is installed through the real routes (the install tests' fixture); the sandbox plays Shopify:
``appSubscriptionCreate`` answers a confirmation page that is approved or declined by posting its form,
then the browser goes back to the return URL. The plan's settings are not the defaults, so nothing
passes by leaning on them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from werkzeug.test import EnvironBuilder

from tests.unit.api.test_api_shopify_install import (  # noqa: F401
    CLIENT_ID,
    SECRET,
    Installer,
    brand_id,
    installer,
    world,
)
from tower import billing, names
from tower.api.auth import create_api_key
from tower.brands import add_brand
from tower.connectors.shopify.webhooks import webhook_hmac
from tower.pipeline import handle_shopify_webhook
from tower_dev.sandboxes.shopify_store.oauth import session_token

PLAN = {"billing_plan_name": "Tower Growth", "billing_price_amount": Decimal("23.50"), "billing_currency": "USD",
        "billing_trial_days": 9, "billing_test": True}


@pytest.fixture
def merchant(installer: Installer) -> dict[str, Any]:  # noqa: F811
    """The store installed, the plan's settings in place, and a key for the new brand."""
    installer.runtime.settings = installer.runtime.settings.model_copy(update=PLAN)
    assert installer.callback(installer.authorize()).status_code == 200
    b = brand_id(installer.shop)
    key = create_api_key(installer.runtime.store, brand_ids=[b], name="merchant")
    return {"brand_id": b, "headers": {"Authorization": f"Bearer {key}"}}


def api(installer: Installer, merchant: dict[str, Any], method: str, path: str) -> requests.Response:  # noqa: F811
    return requests.request(method, f"{installer.api}/api/brands/{merchant['brand_id']}{path}",
                            headers=merchant["headers"], allow_redirects=False, timeout=10)


def approve(installer: Installer, confirmation_url: str, decision: str = "approve") -> requests.Response:  # noqa: F811
    """What the merchant's browser does on Shopify's confirmation page: read it, press a button."""
    page = requests.get(confirmation_url, timeout=10)
    assert page.status_code == 200 and "Approve" in page.text, page.text
    action = re.search(r"action='([^']+)'", page.text)
    assert action is not None
    target = confirmation_url.split("?", 1)[0] + action.group(1).replace("&amp;", "&")
    return requests.post(target, data={"decision": decision}, allow_redirects=False, timeout=10)


def test_an_installed_store_without_a_plan_sees_the_subscribe_step_and_no_figures(
        installer: Installer, merchant: dict[str, Any]) -> None:  # noqa: F811
    plan = api(installer, merchant, "GET", "/billing").json()
    assert plan["status"] == "none"
    assert plan["price"] == {"amount": "23.50", "currency": "USD", "interval": "EVERY_30_DAYS"}
    wizard = api(installer, merchant, "GET", "/onboarding").json()
    assert wizard["current"] == "subscribe"
    assert [s["state"] for s in wizard["steps"]] == ["done", "done", "current", "todo", "todo", "todo"]
    assert "23.50 USD every 30 days, 9 days free" in wizard["steps"][2]["detail"]
    refused = api(installer, merchant, "GET", "/dashboard")
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "subscription_required"
    assert f"/onboarding/{merchant['brand_id']}?step=subscribe" in refused.json()["error"]["message"]
    # what it may still do: the wizard, the progress view, the plan
    assert api(installer, merchant, "GET", "/sync-progress").status_code == 200


def test_subscribe_approve_and_return_activates_the_plan_and_queues_the_first_sync(
        installer: Installer, merchant: dict[str, Any]) -> None:  # noqa: F811
    r = api(installer, merchant, "POST", "/billing/subscribe")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "pending" and out["confirmation_url"].startswith(installer.sandbox.origin)
    charge = installer.sandbox.shop(installer.bw.brand["brand_id"]).billing.charges
    [c] = charge.values()
    assert (c.name, c.price, c.trial_days, c.test) == ("Tower Growth", Decimal("23.50"), 9, True)
    detail = api(installer, merchant, "GET", "/onboarding").json()["steps"][2]["detail"]
    by = re.fullmatch(r"Waiting for your approval in Shopify \(before (\S+ \S+) UTC\)", detail)
    assert by is not None, detail  # Shopify's two days to approve, from when the charge was made
    deadline = datetime.strptime(by.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert abs(deadline - (installer.clock() + timedelta(days=2))) < timedelta(minutes=2)

    back = approve(installer, out["confirmation_url"])
    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{installer.api}/shopify/billing/return"
    assert dict(parse_qsl(location.query)) == {"brand_id": merchant["brand_id"], "charge_id": str(c.id)}
    done = requests.get(back.headers["Location"], allow_redirects=False, timeout=10)
    assert done.status_code == 302 and done.headers["Location"] == f"/onboarding/{merchant['brand_id']}?step=ads"

    plan = api(installer, merchant, "GET", "/billing").json()
    assert plan["status"] == "active" and plan["trial_days"] == 9 and plan["test"] is True
    # Shopify's period: 30 days after the trial's 9
    end = datetime.fromisoformat(plan["current_period_end"])
    assert abs(end - (datetime.now(UTC) + timedelta(days=39))) < timedelta(minutes=5)
    assert api(installer, merchant, "GET", "/onboarding").json()["current"] == "ads"
    assert api(installer, merchant, "GET", "/dashboard").status_code != 402
    assert installer.runtime.tasks.pending(names.QUEUE_SYNC) == 1  # the store's first sync
    # a second subscribe while active creates no second charge
    again = api(installer, merchant, "POST", "/billing/subscribe").json()
    assert again["status"] == "active" and again["confirmation_url"] is None and len(charge) == 1
    # the return is safe to repeat (a reload): still active, still the same task
    assert requests.get(back.headers["Location"], allow_redirects=False, timeout=10).status_code == 302
    assert installer.runtime.tasks.pending(names.QUEUE_SYNC) == 1


def test_a_declined_charge_sends_the_merchant_back_to_the_subscribe_step(
        installer: Installer, merchant: dict[str, Any]) -> None:  # noqa: F811
    url = api(installer, merchant, "POST", "/billing/subscribe").json()["confirmation_url"]
    back = approve(installer, url, "decline")
    done = requests.get(back.headers["Location"], allow_redirects=False, timeout=10)
    assert done.headers["Location"] == f"/onboarding/{merchant['brand_id']}?step=subscribe&error=plan_declined"
    wizard = api(installer, merchant, "GET", "/onboarding").json()
    assert wizard["current"] == "subscribe" and wizard["steps"][2]["state"] == "error"
    assert wizard["steps"][2]["error"]["fix"].startswith("Subscribe again")
    # the used confirmation page cannot approve it afterwards
    page = requests.get(url, timeout=10)
    assert page.status_code == 409


def test_a_forged_or_unknown_return_changes_nothing(installer: Installer, merchant: dict[str, Any]) -> None:  # noqa: F811
    r = requests.get(f"{installer.api}/shopify/billing/return", params={"brand_id": merchant["brand_id"], "charge_id": "1"},
                     allow_redirects=False, timeout=10)
    # nothing active at Shopify: the status stays, whatever the query claims
    assert r.status_code == 302 and "error=plan_none" in r.headers["Location"]
    assert api(installer, merchant, "GET", "/billing").json()["status"] == "none"
    unknown = requests.get(f"{installer.api}/shopify/billing/return", params={"brand_id": "nobody"}, timeout=10)
    assert unknown.status_code == 404
    assert requests.get(f"{installer.api}/shopify/billing/return", timeout=10).status_code == 400
    # a confirmation page with the wrong signature is not found
    url = api(installer, merchant, "POST", "/billing/subscribe").json()["confirmation_url"]
    assert requests.get(url.replace("signature=", "signature=x"), timeout=10).status_code == 404


def _deliver(installer: Installer, status: str, sub_id: str, updated_at: str, webhook_id: str) -> dict[str, Any]:  # noqa: F811
    body = json.dumps({"app_subscription": {
        "admin_graphql_api_id": sub_id, "name": "Tower Growth", "status": status,
        "admin_graphql_api_shop_id": "gid://shopify/Shop/1", "created_at": "2026-12-01T10:00:00-05:00",
        "updated_at": updated_at, "currency": "USD", "capped_amount": None}}).encode()
    env = EnvironBuilder(method="POST", data=body, headers={
        "X-Shopify-Hmac-Sha256": webhook_hmac(SECRET, body), "X-Shopify-Topic": "app_subscriptions/update",
        "X-Shopify-Shop-Domain": installer.shop, "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json"})
    out, status_code = handle_shopify_webhook(installer.runtime, env.get_request())
    assert status_code == 200, out
    return out


def test_the_subscription_webhook_keeps_the_status_current_in_order_and_once(
        installer: Installer, merchant: dict[str, Any]) -> None:  # noqa: F811
    url = api(installer, merchant, "POST", "/billing/subscribe").json()["confirmation_url"]
    requests.get(approve(installer, url).headers["Location"], allow_redirects=False, timeout=10)
    sub_id = api(installer, merchant, "GET", "/billing").json()["subscription_id"]
    assert _deliver(installer, "CANCELLED", sub_id, "2026-12-05T10:00:00Z", "w-1")["status"] == "processed"
    assert api(installer, merchant, "GET", "/billing").json()["status"] == "cancelled"
    assert api(installer, merchant, "GET", "/dashboard").status_code == 402
    # the same delivery again, and an older one arriving late, change nothing
    assert _deliver(installer, "CANCELLED", sub_id, "2026-12-05T10:00:00Z", "w-1")["status"] == "duplicate"
    assert _deliver(installer, "ACTIVE", sub_id, "2026-12-04T10:00:00Z", "w-0")["status"] == "ignored"
    assert api(installer, merchant, "GET", "/billing").json()["status"] == "cancelled"
    # another (old) subscription's decline is not the brand's plan
    assert _deliver(installer, "DECLINED", "gid://shopify/AppSubscription/9", "2026-12-06T10:00:00Z",
                    "w-2")["status"] == "ignored"
    # a body without the documented shape is ignored with a warning, not applied
    bad = _deliver(installer, "BOGUS", sub_id, "2026-12-07T10:00:00Z", "w-3")
    assert bad["status"] == "ignored" and "documented shape" in bad["warning"]


def test_the_sandbox_refuses_what_shopify_refuses(installer: Installer, merchant: dict[str, Any]) -> None:  # noqa: F811
    from tower.connectors.shopify.client import ShopifyClient

    token = installer.stored_tokens()[0]
    client = ShopifyClient(installer.shop, token, api_version="2026-04", origin=installer.sandbox.origin)
    q = billing._CREATE
    base = {"name": "P", "returnUrl": "https://app.example/return", "trialDays": 3, "test": True}
    zero = {**base, "lineItems": [{"plan": {"appRecurringPricingDetails": {
        "price": {"amount": "0", "currencyCode": "USD"}}}}]}
    assert client.execute(q, zero).data["appSubscriptionCreate"]["userErrors"][0]["message"] == \
        "Price must be greater than 0"
    relative = {**base, "returnUrl": "/return", "lineItems": zero["lineItems"]}
    assert client.execute(q, relative).data["appSubscriptionCreate"]["userErrors"][0]["field"] == ["returnUrl"]
    none = {**base, "lineItems": []}
    assert client.execute(q, none).data["appSubscriptionCreate"]["confirmationUrl"] is None
    active = client.execute(billing._ACTIVE).data["currentAppInstallation"]["activeSubscriptions"]
    assert active == []


def test_a_brand_the_operator_connected_is_exempt(installer: Installer) -> None:  # noqa: F811
    assert billing.plan(installer.runtime.store, "connected-by-hand") == {"status": "exempt"}
    billing.require_plan(installer.runtime.store, "connected-by-hand")
    add_brand(installer.runtime.warehouse, brand_id="connected-by-hand", name="By Hand", timezone="Asia/Tokyo",
              currency="JPY", now=datetime.now(UTC))
    key = create_api_key(installer.runtime.store, brand_ids=["connected-by-hand"], name="hand")
    r = requests.post(f"{installer.api}/api/brands/connected-by-hand/billing/subscribe",
                      headers={"Authorization": f"Bearer {key}"}, timeout=10)
    # answered without a call to Shopify (it has no store there), and nothing is recorded
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_billed"
    assert billing.plan(installer.runtime.store, "connected-by-hand") == {"status": "exempt"}


def test_a_charge_left_unapproved_for_two_days_expires_and_the_merchant_is_told_to_subscribe_again(
        installer: Installer) -> None:  # noqa: F811
    """Shopify's rule (AppSubscriptionStatus.EXPIRED): not approved within two days of creation. The
    sandbox runs on an injected clock; nothing sleeps."""
    from tower_dev.sandboxes.shopify_store.clock import FakeClock

    sandbox = installer.sandbox.sandbox
    clock = FakeClock(start=datetime.now(UTC))  # starts at the wall clock: shopifyapp's tokens stay in step
    sandbox.clock = clock
    for shop in sandbox.shops.values():
        shop.state.clock = clock.now
    sandbox.oauth.access_token_seconds = 10 * 86400  # the store's token outlives the days this test skips
    installer.runtime.settings = installer.runtime.settings.model_copy(update=PLAN)
    assert installer.callback(installer.authorize()).status_code == 200
    b = brand_id(installer.shop)
    merchant = {"brand_id": b, "headers": {"Authorization": "Bearer " + create_api_key(
        installer.runtime.store, brand_ids=[b], name="merchant")}}
    url = api(installer, merchant, "POST", "/billing/subscribe").json()["confirmation_url"]
    [charge] = installer.sandbox.shop(installer.bw.brand["brand_id"]).billing.charges.values()

    clock.advance(2 * 86400 - 1)  # a second before the two days are up: still waiting
    assert api(installer, merchant, "GET", "/billing").json()["status"] == "pending"
    waiting = api(installer, merchant, "GET", "/dashboard").json()["error"]["message"]
    assert "approve the charge in Shopify before" in waiting and "two days" in waiting

    clock.advance(1)
    plan = api(installer, merchant, "GET", "/billing").json()  # the page reads the status back from Shopify
    assert plan["status"] == "expired" and charge.status == "EXPIRED"
    assert requests.get(url, timeout=10).status_code == 409  # its confirmation page can no longer approve it
    wizard = api(installer, merchant, "GET", "/onboarding").json()
    step = wizard["steps"][2]
    assert wizard["current"] == "subscribe" and step["state"] == "error"
    assert step["error"]["code"] == "plan_expired" and "within two days" in step["error"]["fix"]
    refused = api(installer, merchant, "GET", "/dashboard")
    assert refused.status_code == 402
    message = refused.json()["error"]["message"]
    assert "expired unapproved" in message and f"/onboarding/{b}?step=subscribe" in message
    # subscribing again makes a new charge the merchant can approve
    again = api(installer, merchant, "POST", "/billing/subscribe").json()
    assert again["status"] == "pending" and again["confirmation_url"] != url
    assert approve(installer, again["confirmation_url"]).status_code == 302
    assert billing.refresh(installer.runtime.settings, installer.runtime.store,
                           lambda: _client_of(installer, b), b, now=installer.clock())["status"] == "active"


def _client_of(installer: Installer, b: str) -> Any:  # noqa: F811
    from tower.api.onboarding import _shop_client

    return _shop_client(installer.runtime, b)


def test_from_inside_the_admin_the_approval_returns_into_the_admins_frame_and_the_plan_is_active(
        installer: Installer, merchant: dict[str, Any]) -> None:  # noqa: F811
    sandbox = installer.sandbox
    sandbox.sandbox.oauth.register(CLIENT_ID, SECRET, installer.api)  # the app is embedded: the admin frames it
    b = merchant["brand_id"]

    def embedded() -> dict[str, str]:  # the framed page's credential: a fresh session token, no cookie
        return {"Authorization": f"Bearer {session_token(CLIENT_ID, SECRET, installer.shop, datetime.now(UTC))}"}

    out = requests.post(f"{installer.api}/api/brands/{b}/billing/subscribe", headers=embedded(), timeout=10).json()
    [c] = installer.sandbox.shop(installer.bw.brand["brand_id"]).billing.charges.values()
    handle = installer.shop.removesuffix(".myshopify.com")
    admin = f"{sandbox.origin}/store/{handle}/apps/{CLIENT_ID}"
    assert c.return_url == f"{admin}/shopify/billing/return?brand_id={b}"  # Shopify's recommended returnUrl

    back = approve(installer, out["confirmation_url"])
    assert back.headers["Location"] == f"{admin}/shopify/billing/return?brand_id={b}&charge_id={c.id}"
    page = requests.get(back.headers["Location"], timeout=10)  # the admin, framing our return route
    frame = re.search(r'<iframe id="app"[^>]* src="([^"]+)"', page.text)
    assert page.status_code == 200 and frame is not None
    src = frame.group(1).replace("&amp;", "&")
    assert src.startswith(f"{installer.api}/shopify/billing/return?")
    done = requests.get(src, allow_redirects=False, timeout=10)
    assert done.status_code == 302
    wizard = urlsplit(done.headers["Location"])
    query = dict(parse_qsl(wizard.query))
    assert wizard.path == f"/onboarding/{b}" and query["step"] == "ads"
    assert (query["embedded"], query["shop"]) == ("1", installer.shop) and query["host"]  # still in the admin
    plan = requests.get(f"{installer.api}/api/brands/{b}/billing", headers=embedded(), timeout=10).json()
    assert plan["status"] == "active"
    assert installer.runtime.tasks.pending(names.QUEUE_SYNC) == 1  # the store's first sync, as on our origin
    # a merchant on our own origin (no shop) still gets our return route
    assert billing.return_url(installer.runtime.settings, b).startswith(f"{installer.api}/shopify/billing/return?")
