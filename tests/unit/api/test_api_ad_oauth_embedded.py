"""Connecting an ad platform from the embedded app (inside the Shopify admin's frame, no cookie there).

The authorize call carries a Shopify session token: the state is bound to "confirm in the app" instead
of a browser. The callback trades the code, keeps the grant pending and sends the window into the
shop's admin with ``pending=<id>``; the app there confirms it with the shop's session token. A consent
link forwarded to someone else ends in an admin they cannot open, and confirming needs the starting
shop's session token: nothing of theirs reaches the brand. The platforms are the ad sandboxes; the brand
is in Berlin (another shop and time zone than the demo's).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from test_api_ad_oauth import BRAND, World, make_world

from tower.api.ad_oauth import BROWSER_COOKIE
from tower.billing import admin_app_url
from tower.brands import add_brand
from tower.ports import DocQuery
from tower.sync.ad_oauth import PENDING_COLLECTION
from tower.sync.grants import grant_secret_id, parse_grant
from tower.sync.install import brand_id_for_shop
from tower_dev.sandboxes.shopify_store.oauth import session_token

CLIENT_ID, SECRET = "embedded-oauth-client", "embedded-oauth-app-secret-of-32-bytes"
SHOP = "kiez-kaffee.myshopify.com"
OTHER_SHOP = "nachbar-tee.myshopify.com"
ADMIN = "http://127.0.0.1:47999"  # where the sandbox store (its admin) would be: the embedded default


@pytest.fixture
def world(tmp_path: Any) -> Iterator[World]:
    made = make_world(tmp_path, shopify_client_id=CLIENT_ID, shopify_api_secret=SECRET, shopify_api_origin=ADMIN)
    w = next(made)
    w.runtime.warehouse.execute("UPDATE brands SET shop_domain = @s WHERE brand_id = @b", {"s": SHOP, "b": BRAND})
    add_brand(w.runtime.warehouse, brand_id=brand_id_for_shop(OTHER_SHOP), name="Nachbar", timezone="Europe/Vienna",
              currency="EUR", now=datetime(2026, 10, 2, tzinfo=UTC), shop_domain=OTHER_SHOP)
    yield w
    next(made, None)


def _token(shop: str = SHOP) -> dict[str, str]:
    # shopifyapp checks a session token's exp/nbf on the wall clock
    return {"Authorization": f"Bearer {session_token(CLIENT_ID, SECRET, shop, datetime.now(UTC))}"}


def _embedded_consent(w: World, platform: str = "meta") -> str:
    """Authorize from the embedded app, approve at the platform, call back: the callback's Location."""
    r = w.client.post(f"/api/brands/{BRAND}/integrations/{platform}/authorize", headers=_token())
    assert r.status_code == 200, r.json
    assert not r.headers.getlist("Set-Cookie")  # no browser binding: the frame keeps no cookie
    back = w.callback(w.consent(str(r.json["authorize_url"])))
    assert back.status_code == 302, back.json
    return str(back.headers["Location"])


def _pending(location: str) -> str:
    return parse_qs(urlsplit(location).query)["pending"][0]


def _confirm(w: World, pending: str, *, shop: str = SHOP, brand: str = BRAND, platform: str = "meta") -> Any:
    return w.client.post(f"/api/brands/{brand}/integrations/{platform}/authorization/confirm",
                         json={"pending": pending}, headers=_token(shop))


def test_the_callback_sends_the_window_into_the_shops_admin_with_a_pending_grant(world: World) -> None:
    location = _embedded_consent(world)
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{ADMIN}/store/kiez-kaffee/apps/{CLIENT_ID}/onboarding/{BRAND}")
    query = parse_qs(parts.query)
    assert (query["step"], query["platform"]) == (["accounts"], ["meta"]) and len(query["pending"][0]) == 43
    # nothing is the brand's yet: the grant waits, in the secret store only, for the app's confirmation
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "meta"))
    listed = world.client.get(f"/api/brands/{BRAND}/integrations/meta/accounts", headers=_token())
    assert (listed.status_code, listed.json["error"]["code"]) == (409, "not_authorized")


def test_production_returns_into_admin_shopify_com(world: World) -> None:
    production = world.runtime.settings.model_copy(update={"shopify_api_origin": ""})
    assert admin_app_url(production, SHOP, "/onboarding/b?x=1") == (
        f"https://admin.shopify.com/store/kiez-kaffee/apps/{CLIENT_ID}/onboarding/b?x=1")


def test_the_app_confirms_then_picks_and_connects_accounts(world: World) -> None:
    pending = _pending(_embedded_consent(world))
    r = _confirm(world, pending)
    assert r.status_code == 200 and r.json == {"confirmed": True, "brand_id": BRAND, "platform": "meta"}
    grant = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "meta")))
    assert grant is not None and grant["authorized_by"] == f"user:{SHOP}"
    assert _pending_secrets(world) == []  # taken: its secret and document are gone
    listed = world.client.get(f"/api/brands/{BRAND}/integrations/meta/accounts", headers=_token())
    assert listed.status_code == 200 and len(listed.json["accounts"]) == 2
    own = next(a["id"] for a in listed.json["accounts"] if a["currency"] == "EUR" and a["time_zone"] ==
               "Europe/Berlin" and not a["name"].startswith("Another"))
    done = world.client.post(f"/api/brands/{BRAND}/integrations/meta/accounts", json={"account_ids": [own]},
                             headers=_token())
    assert done.status_code == 202 and done.json["integrations"][0]["account_id"] == own


def test_a_pending_grant_is_confirmed_once(world: World) -> None:
    pending = _pending(_embedded_consent(world))
    assert _confirm(world, pending).status_code == 200
    again = _confirm(world, pending)
    assert (again.status_code, again.json["error"]["code"]) == (404, "unknown_pending")


def test_another_shop_cannot_confirm_and_the_starter_still_can(world: World) -> None:
    # the forwarded link's opener came back with a pending id; another shop's app tries it on both brands
    pending = _pending(_embedded_consent(world))
    theirs = _confirm(world, pending, shop=OTHER_SHOP, brand=brand_id_for_shop(OTHER_SHOP))
    assert (theirs.status_code, theirs.json["error"]["code"]) == (403, "other_brand")
    into_ours = _confirm(world, pending, shop=OTHER_SHOP)
    assert into_ours.status_code == 403 and into_ours.json["error"]["code"] == "forbidden"  # not its brand
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "meta"))
    assert _confirm(world, pending, platform="tiktok").json["error"]["code"] == "other_brand"
    assert _confirm(world, pending).status_code == 200  # the starter's app still confirms it


def test_an_api_key_of_the_brand_is_not_who_started_it(world: World) -> None:
    pending = _pending(_embedded_consent(world))
    r = world.client.post(f"/api/brands/{BRAND}/integrations/meta/authorization/confirm", json={"pending": pending},
                          headers=world.headers())
    assert (r.status_code, r.json["error"]["code"]) == (403, "other_person")


def test_an_expired_pending_grant_is_refused_and_its_secret_deleted(world: World) -> None:
    pending = _pending(_embedded_consent(world))
    secrets_before = _pending_secrets(world)
    assert len(secrets_before) == 1
    world.clock[0] += timedelta(seconds=world.runtime.settings.ad_oauth_state_seconds + 1)
    r = _confirm(world, pending)
    assert (r.status_code, r.json["error"]["code"]) == (410, "expired_pending")
    assert not world.runtime.secrets.exists(secrets_before[0])
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "meta"))


def test_the_next_flow_sweeps_expired_pending_grants(world: World) -> None:
    _embedded_consent(world)
    stale = _pending_secrets(world)
    world.clock[0] += timedelta(seconds=world.runtime.settings.ad_oauth_state_seconds + 1)
    _embedded_consent(world, "tiktok")
    assert not world.runtime.secrets.exists(stale[0]) and len(_pending_secrets(world)) == 1


@pytest.mark.parametrize("pending", ["", "short", "x" * 43])
def test_a_malformed_or_unknown_pending_id_is_refused(world: World, pending: str) -> None:
    r = _confirm(world, pending)
    expected = {"": (400, "invalid_body"), "short": (400, "invalid_pending"),
                "x" * 43: (404, "unknown_pending")}[pending]
    assert (r.status_code, r.json["error"]["code"]) == expected


def test_a_decline_from_the_embedded_flow_returns_into_the_admin_with_the_error(world: World) -> None:
    r = world.client.post(f"/api/brands/{BRAND}/integrations/meta/authorize", headers=_token())
    back = world.callback(world.consent(str(r.json["authorize_url"]), "cancel"))
    location = back.headers["Location"]
    assert location.startswith(f"{ADMIN}/store/kiez-kaffee/apps/{CLIENT_ID}/onboarding/{BRAND}?")
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"] and "pending=" not in location


def test_a_cookie_flow_still_binds_the_browser(world: World) -> None:
    url = world.authorize("meta")  # an API key here: a browser cookie as before, and a plain return
    assert world.client.get_cookie(BROWSER_COOKIE) is not None
    back = world.callback(world.consent(url))
    assert back.headers["Location"] == f"/onboarding/{BRAND}?step=accounts&platform=meta"
    assert world.runtime.secrets.exists(grant_secret_id(BRAND, "meta")) and _pending_secrets(world) == []


def _pending_secrets(w: World) -> list[str]:
    return [str(d["secret_id"]) for _, d in w.runtime.store.query(DocQuery(PENDING_COLLECTION))]
