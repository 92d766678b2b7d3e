"""The sandbox admin around an embedded app: it frames the app URL with Shopify's launch query, mints
session tokens as Shopify does for its own page only, and serves the stand-in App Bridge script."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests

from tower.api.embedded import SANDBOX_APP_BRIDGE_PATH
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.admin import APP_BRIDGE_PATH
from tower_dev.sandboxes.shopify_store.oauth import query_hmac
from tower_dev.sandboxes.shopify_store.server import SandboxHandle, serve_world

CLIENT, SECRET = "admin-client", "admin-secret-of-at-least-32-bytes!!"
APP_URL = "http://localhost:18080"


@pytest.fixture
def handle() -> Iterator[SandboxHandle]:
    served = testing.small_world()
    h = serve_world(served, clock=testing.clock_after(served))
    h.sandbox.oauth.register(CLIENT, SECRET, APP_URL)  # an embedded app: the admin frames its URL
    h.sandbox.oauth.register("not-embedded", SECRET)
    yield h
    h.stop()


@pytest.fixture
def world(handle: SandboxHandle) -> Any:
    return handle.sandbox


def _store(sandbox: Any) -> tuple[str, str]:
    shop = min(s.state.shop_domain for s in sandbox.shops.values())
    return shop, shop.split(".", 1)[0]


def _claims(token: str, shop: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, SECRET, algorithms=["HS256"], audience=CLIENT)
    assert claims["dest"] == f"https://{shop}" and claims["iss"] == f"https://{shop}/admin"
    assert {"sub", "exp", "nbf", "iat", "jti", "sid"} <= set(claims) and claims["exp"] - claims["iat"] == 60
    return claims


def test_the_admin_frames_the_app_url_with_shopifys_launch_query(handle: SandboxHandle, world: Any) -> None:
    shop, store = _store(world)
    r = requests.get(f"{handle.origin}/store/{store}/apps/{CLIENT}", timeout=10)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    src = unescape(re.search(r'<iframe id="app"[^>]* src="([^"]+)"', r.text).group(1))  # type: ignore[union-attr]
    where = urlsplit(src)
    assert f"{where.scheme}://{where.netloc}{where.path}" == f"{APP_URL}/shopify/install"
    q = dict(parse_qsl(where.query))
    assert set(q) == {"embedded", "host", "id_token", "locale", "session", "shop", "timestamp", "hmac"}
    assert q["embedded"] == "1" and q["shop"] == shop and q["hmac"] == query_hmac(SECRET, q)
    host = base64.urlsafe_b64decode(q["host"] + "=" * (-len(q["host"]) % 4)).decode()
    assert host == f"{urlsplit(handle.origin).netloc}/store/{store}"
    _claims(q["id_token"], shop)


def test_a_deep_link_frames_that_path_and_query_with_the_launch_query(handle: SandboxHandle, world: Any) -> None:
    shop, store = _store(world)
    # a top-level page sends the merchant back into the app: the admin URL plus the app's path and query
    r = requests.get(f"{handle.origin}/store/{store}/apps/{CLIENT}/onboarding/b1?step=accounts&pending=p-1"
                     f"&shop=evil.myshopify.com", timeout=10)
    assert r.status_code == 200
    src = unescape(re.search(r'<iframe id="app"[^>]* src="([^"]+)"', r.text).group(1))  # type: ignore[union-attr]
    where = urlsplit(src)
    assert f"{where.scheme}://{where.netloc}{where.path}" == f"{APP_URL}/onboarding/b1"
    q = dict(parse_qsl(where.query))
    assert (q["step"], q["pending"], q["embedded"]) == ("accounts", "p-1", "1")
    assert q["shop"] == shop  # the launch query is the admin's own: a deep link cannot name another shop
    _claims(q["id_token"], shop)
    assert f'"/store/{store}/apps/{CLIENT}/id-token"' in r.text  # App Bridge's tokens come from the app's page


def test_only_the_admin_page_itself_gets_fresh_session_tokens(handle: SandboxHandle, world: Any) -> None:
    shop, store = _store(world)
    url = f"{handle.origin}/store/{store}/apps/{CLIENT}/id-token"
    r = requests.post(url, headers={"Origin": handle.origin}, timeout=10)
    assert r.status_code == 200
    first = _claims(r.json()["id_token"], shop)
    again = _claims(requests.post(url, headers={"Origin": handle.origin}, timeout=10).json()["id_token"], shop)
    assert first["jti"] != again["jti"]
    for origin in ("http://evil.example", None):
        refused = requests.post(url, headers={"Origin": origin} if origin else {}, timeout=10)
        assert refused.status_code == 403 and "id_token" not in refused.json()
    assert handle.sandbox.oauth.id_tokens_minted == 2


@pytest.mark.parametrize("path", ["/store/no-such-store/apps/admin-client", "/store/{store}/apps/unknown-app",
                                  "/store/{store}/apps/not-embedded"])
def test_an_unknown_store_or_app_or_an_app_without_a_url_is_a_404(handle: SandboxHandle, world: Any,
                                                                   path: str) -> None:
    path = path.format(store=_store(world)[1])
    assert requests.get(f"{handle.origin}{path}", timeout=10).status_code == 404
    assert requests.post(f"{handle.origin}{path}/id-token", headers={"Origin": handle.origin},
                         timeout=10).status_code == 404


def test_the_stand_in_app_bridge_script_is_served_where_the_product_looks_for_it(handle: SandboxHandle) -> None:
    assert APP_BRIDGE_PATH == SANDBOX_APP_BRIDGE_PATH
    r = requests.get(f"{handle.origin}{APP_BRIDGE_PATH}", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert "window.shopify" in r.text and "idToken" in r.text and "stand-in" in r.text
