"""The embedded app: a Shopify session token as a bearer credential on every API request, and the page
served for the Shopify admin's frame (frame-ancestors of that shop's admin, App Bridge) or for nobody's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_seed import BRAND, NOW, OTHER, bearer
from flask.testing import FlaskClient

from tower.api.app import create_app
from tower.api.embedded import SHOPIFY_APP_BRIDGE, is_session_token
from tower.identity.sessions import CSRF_HEADER
from tower.runtime import Runtime
from tower_dev.sandboxes.shopify_store.oauth import session_token

CLIENT_ID, SECRET = "embedded-test-client", "embedded-test-app-secret-32-bytes!!"
SHOP = "lakeside-tea.myshopify.com"
SANDBOX = "http://127.0.0.1:48211"


@pytest.fixture
def page_dir(tmp_path: Path) -> Path:
    d = tmp_path / "dist"
    d.mkdir()
    (d / "index.html").write_text('<!doctype html><html><head><meta charset="UTF-8" />'
                                  '<script type="module" src="/assets/app.js"></script></head><body></body></html>')
    return d


def _runtime(runtime: Runtime, page_dir: Path, **extra: str) -> Runtime:
    runtime.warehouse.execute("UPDATE brands SET shop_domain = @s WHERE brand_id = @b", {"s": SHOP, "b": BRAND})
    return Runtime(runtime.settings.model_copy(update={"shopify_client_id": CLIENT_ID, "shopify_api_secret": SECRET,
                                                       "page_dir": str(page_dir), **extra}))


@pytest.fixture
def embedded(runtime: Runtime, page_dir: Path) -> Iterator[FlaskClient]:
    rt = _runtime(runtime, page_dir, shopify_api_origin=SANDBOX)
    yield create_app(rt, clock=lambda: NOW).test_client()
    rt.close()


def _token(shop: str = SHOP, **kw: object) -> str:
    # shopifyapp checks exp/nbf on the wall clock, whatever the API's clock says
    return session_token(CLIENT_ID, SECRET, shop, kw.pop("at", None) or datetime.now(UTC), **kw)  # type: ignore[arg-type]


def test_a_session_token_is_a_bearer_credential_scoped_to_its_shops_brand(embedded: FlaskClient) -> None:
    r = embedded.get(f"/api/brands/{BRAND}/alerts", headers=bearer(_token()))
    assert r.status_code == 200, r.json
    assert not r.headers.getlist("Set-Cookie")  # nothing to keep: the next call brings its own token
    me = embedded.get("/api/session", headers=bearer(_token()))
    assert me.json["principal"]["role"] == "merchant_owner" and me.json["principal"]["brand_ids"] == [BRAND]
    other = embedded.get(f"/api/brands/{OTHER}/alerts", headers=bearer(_token()))
    assert other.status_code == 403 and other.json["error"]["code"] == "forbidden"


def test_an_unsafe_request_with_a_session_token_needs_no_csrf_header(embedded: FlaskClient) -> None:
    url = f"/api/brands/{BRAND}/recommendations/no-such/dismiss"
    r = embedded.post(url, json={"reason": "x"}, headers=bearer(_token()))
    assert r.status_code not in (401, 403), r.json  # past authentication: the view answers (unknown rec)
    assert CSRF_HEADER not in r.request.headers


@pytest.mark.parametrize("what", ["another secret", "another audience", "expired", "not yet valid", "no install"])
def test_a_forged_session_token_is_refused_on_an_api_route(embedded: FlaskClient, what: str) -> None:
    at = datetime.now(UTC)
    token = {"another secret": session_token(CLIENT_ID, "y" * 40, SHOP, at),
             "another audience": session_token(CLIENT_ID, SECRET, SHOP, at, audience="someone-else"),
             "expired": session_token(CLIENT_ID, SECRET, SHOP, at - timedelta(minutes=10)),
             "not yet valid": session_token(CLIENT_ID, SECRET, SHOP, at + timedelta(minutes=10)),
             "no install": session_token(CLIENT_ID, SECRET, "nobody-here.myshopify.com", at)}[what]
    r = embedded.get(f"/api/brands/{BRAND}/alerts", headers=bearer(token))
    expected = (403, "not_installed") if what == "no install" else (401, "invalid_session_token")
    assert (r.status_code, r.json["error"]["code"]) == expected
    if r.status_code == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_keys_in_authorization_still_work(embedded: FlaskClient, keys: dict[str, str]) -> None:
    assert embedded.get(f"/api/brands/{BRAND}/alerts", headers=bearer(keys["agency"])).status_code == 200
    unknown = embedded.get(f"/api/brands/{BRAND}/alerts", headers=bearer("nope"))
    assert unknown.status_code == 401 and unknown.json["error"]["message"] == "unknown API key"
    assert not is_session_token(f"Bearer {keys['agency']}") and is_session_token(f"Bearer {_token()}")


def _directive(csp: str, name: str) -> str:
    return next(d.strip() for d in csp.split(";") if d.strip().startswith(name + " "))


def test_the_page_embedded_in_a_shops_admin_is_framed_by_it_and_loads_app_bridge(embedded: FlaskClient) -> None:
    r = embedded.get(f"/onboarding/{BRAND}?embedded=1&shop={SHOP}&host=YWRtaW4")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert _directive(csp, "frame-ancestors") == f"frame-ancestors https://{SHOP} https://admin.shopify.com {SANDBOX}"
    assert _directive(csp, "script-src") == f"script-src 'self' {SANDBOX}"
    assert "X-Frame-Options" not in r.headers
    html = r.get_data(as_text=True)
    bridge = (f'<meta name="shopify-api-key" content="{CLIENT_ID}" />'
              f'<script src="{SANDBOX}/shopifycloud/app-bridge.js" data-api-key="{CLIENT_ID}"></script>')
    # App Bridge is the first script of <head>, before the page's own
    assert html.index(bridge) == html.index("<head>") + len("<head>") < html.index("/assets/app.js")


@pytest.mark.parametrize("query", ["", "?shop=" + SHOP, "?embedded=1", "?embedded=1&shop=evil.example",
                                   "?embedded=1&shop=a.myshopify.com%20https://evil.example",
                                   "?embedded=0&shop=" + SHOP])
def test_any_other_page_load_is_framed_by_nobody(embedded: FlaskClient, query: str) -> None:
    r = embedded.get(f"/brands/{BRAND}{query}")
    csp = r.headers["Content-Security-Policy"]
    assert _directive(csp, "frame-ancestors") == "frame-ancestors 'none'" and r.headers["X-Frame-Options"] == "DENY"
    assert _directive(csp, "script-src") == "script-src 'self'"
    assert "app-bridge.js" not in r.get_data(as_text=True)


def test_production_loads_app_bridge_from_shopifys_cdn(runtime: Runtime, page_dir: Path) -> None:
    rt = _runtime(runtime, page_dir)
    try:
        r = create_app(rt, clock=lambda: NOW).test_client().get(f"/?embedded=1&shop={SHOP}")
        csp = r.headers["Content-Security-Policy"]
        assert _directive(csp, "frame-ancestors") == f"frame-ancestors https://{SHOP} https://admin.shopify.com"
        assert _directive(csp, "script-src") == "script-src 'self' https://cdn.shopify.com"
        assert f'<script src="{SHOPIFY_APP_BRIDGE}" data-api-key="{CLIENT_ID}">' in r.get_data(as_text=True)
    finally:
        rt.close()


def test_an_api_answer_is_never_framed(embedded: FlaskClient) -> None:
    r = embedded.get(f"/api/brands/{BRAND}/alerts?embedded=1&shop={SHOP}", headers=bearer(_token()))
    assert _directive(r.headers["Content-Security-Policy"], "frame-ancestors") == "frame-ancestors 'none'"
