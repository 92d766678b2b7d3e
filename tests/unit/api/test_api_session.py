"""Sessions: signing in with an API key or a Shopify session token sets an HttpOnly cookie backed by a
stored, revocable, expiring session; cookie-authenticated unsafe requests need the CSRF header."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_seed import AGENCY, BRAND, NOW, OTHER, OUTSIDER, bearer
from flask import Flask, jsonify
from flask.testing import FlaskClient

from tower.api.app import create_app
from tower.identity.roles import Principal, Role
from tower.identity.sessions import COOKIE, CSRF_HEADER, start_session
from tower.ports import DocQuery
from tower.runtime import Runtime
from tower_dev.sandboxes.shopify_store.oauth import session_token

CLIENT_ID, SECRET = "session-test-client", "session-test-app-secret-32-bytes-long!"


def _cookie(r) -> str:
    return next(h for h in r.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))


def test_an_api_key_signs_in_with_an_httponly_lax_cookie(client: FlaskClient, keys: dict[str, str],
                                                        runtime: Runtime) -> None:
    r = client.post("/api/session", json={"api_key": keys["agency"]})
    assert r.status_code == 200, r.json
    brands = sorted(runtime.store.get(f"agencies/{AGENCY}")["brand_ids"])
    assert r.json["principal"] == {"name": "northstar", "role": "agency_admin", "agency_id": AGENCY,
                                   "brand_ids": brands, "via": "api_key",
                                   "brand_roles": dict.fromkeys(brands, "agency_admin")}
    cookie = _cookie(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback; on https it is Secure (next test)
    sid = cookie.split(";")[0].split("=", 1)[1]
    # the store keeps the hash of the cookie, never the cookie or the key
    docs = runtime.store.query(DocQuery("sessions"))
    assert len(docs) == 1 and sid not in docs[0][0] and sid not in str(docs[0][1])
    assert keys["agency"] not in str(docs[0][1])
    # the cookie alone now reads the agency's brands, and GET /api/session answers the CSRF token again
    assert client.get(f"/api/brands/{BRAND}/alerts").status_code == 200
    assert client.get(f"/api/brands/{OUTSIDER}/alerts").status_code == 403
    again = client.get("/api/session")
    assert again.status_code == 200 and again.json["csrf_token"] == r.json["csrf_token"]


def test_the_cookie_is_secure_on_https(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.post("/api/session", json={"api_key": keys["agency"]}, base_url="https://tower.example")
    assert "Secure" in _cookie(r)


def test_a_signed_in_unsafe_request_needs_the_csrf_header(client: FlaskClient, keys: dict[str, str]) -> None:
    csrf = client.post("/api/session", json={"api_key": keys["agency"]}).json["csrf_token"]
    url = f"/api/brands/{BRAND}/recommendations/no-such/dismiss"
    r = client.post(url, json={"reason": "x"})
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf_token_missing"
    assert client.post(url, json={"reason": "x"}, headers={CSRF_HEADER: "wrong"}).status_code == 403
    r = client.post(url, json={"reason": "x"}, headers={CSRF_HEADER: csrf})
    assert r.status_code not in (401, 403), r.json  # past authentication: the view answers (unknown rec)
    # a bearer key needs no CSRF token: nothing sends it on a browser's behalf
    fresh = create_app(client.application.extensions["tower"], clock=lambda: NOW).test_client()
    assert fresh.post(url, json={"reason": "x"}, headers=bearer(keys["agency"])).status_code not in (401, 403)


def test_sign_out_ends_the_session_on_the_server(client: FlaskClient, keys: dict[str, str],
                                                 runtime: Runtime) -> None:
    r = client.post("/api/session", json={"api_key": keys["agency"]})
    sid = _cookie(r).split(";")[0].split("=", 1)[1]
    out = client.delete("/api/session", headers={CSRF_HEADER: r.json["csrf_token"]})
    assert out.status_code == 200 and out.json == {"removed": True}
    assert any(h.startswith(f"{COOKIE}=;") for h in out.headers.getlist("Set-Cookie"))
    assert runtime.store.query(DocQuery("sessions")) == []
    # the old cookie, replayed, opens nothing
    client.set_cookie(COOKIE, sid)
    r = client.get(f"/api/brands/{BRAND}/alerts")
    assert r.status_code == 401 and r.json["error"]["code"] == "session_ended"


def test_revoking_the_key_ends_its_sessions(client: FlaskClient, keys: dict[str, str], runtime: Runtime) -> None:
    assert client.post("/api/session", json={"api_key": keys["other_brand"]}).status_code == 200
    assert client.get(f"/api/brands/{OTHER}/alerts").status_code == 200
    (path, _), = [(p, d) for p, d in runtime.store.query(DocQuery("api_keys")) if d["name"] == "urban-team"]
    runtime.store.delete(path)
    assert client.get(f"/api/brands/{OTHER}/alerts").status_code == 401


def test_a_session_expires(runtime: Runtime, keys: dict[str, str]) -> None:
    now = [NOW]
    client = create_app(runtime, clock=lambda: now[0]).test_client()
    client.post("/api/session", json={"api_key": keys["agency"]})
    now[0] = NOW + timedelta(hours=runtime.settings.session_hours) - timedelta(seconds=1)
    assert client.get(f"/api/brands/{BRAND}/alerts").status_code == 200
    now[0] = NOW + timedelta(hours=runtime.settings.session_hours)
    assert client.get(f"/api/brands/{BRAND}/alerts").status_code == 401
    assert runtime.store.query(DocQuery("sessions")) == []


@pytest.mark.parametrize("body, message", [
    ({}, "exactly one of"),
    ({"api_key": "a", "id_token": "b"}, "exactly one of"),
    ({"password": "x"}, "password"),
])
def test_sign_in_needs_exactly_one_credential(client: FlaskClient, body: dict, message: str) -> None:
    r = client.post("/api/session", json=body)
    assert r.status_code == 400 and message in r.json["error"]["message"]
    assert not r.headers.getlist("Set-Cookie")


def test_an_unknown_key_signs_nobody_in(client: FlaskClient) -> None:
    r = client.post("/api/session", json={"api_key": "tower_nobody-issued-this"})
    assert r.status_code == 401 and not r.headers.getlist("Set-Cookie")


@pytest.fixture
def shopify_runtime(runtime: Runtime) -> Runtime:
    runtime.warehouse.execute("UPDATE brands SET shop_domain = 'acme-candles.myshopify.com' WHERE brand_id = @b",
                              {"b": BRAND})
    rt = Runtime(runtime.settings.model_copy(update={"shopify_client_id": CLIENT_ID, "shopify_api_secret": SECRET}))
    yield rt
    rt.close()


def test_a_shopify_session_token_signs_in_the_shops_merchant_owner(shopify_runtime: Runtime) -> None:
    client = create_app(shopify_runtime, clock=lambda: NOW).test_client()
    # shopifyapp checks a session token's exp/nbf on the wall clock, whatever the API's clock says
    token = session_token(CLIENT_ID, SECRET, "acme-candles.myshopify.com", datetime.now(UTC))
    r = client.post("/api/session", headers=bearer(token))
    assert r.status_code == 200, r.json
    assert r.json["principal"]["role"] == "merchant_owner" and r.json["principal"]["brand_ids"] == [BRAND]
    assert client.get(f"/api/brands/{BRAND}/alerts").status_code == 200
    assert client.get(f"/api/brands/{OTHER}/alerts").status_code == 403


@pytest.mark.parametrize("what", ["another secret", "another audience", "expired", "another shop"])
def test_a_forged_shopify_session_token_is_refused(shopify_runtime: Runtime, what: str) -> None:
    client = create_app(shopify_runtime, clock=lambda: NOW).test_client()
    shop, at = "acme-candles.myshopify.com", datetime.now(UTC)  # shopifyapp's clock is the wall clock
    token = {"another secret": session_token(CLIENT_ID, "x" * 40, shop, at),
             "another audience": session_token(CLIENT_ID, SECRET, shop, at, audience="other-app"),
             "expired": session_token(CLIENT_ID, SECRET, shop, at - timedelta(minutes=10)),
             "another shop": session_token(CLIENT_ID, SECRET, "not-installed.myshopify.com", at)}[what]
    r = client.post("/api/session", headers=bearer(token))
    assert r.status_code in (401, 403) and not r.headers.getlist("Set-Cookie")


def test_start_session_signs_in_whoever_other_code_authenticated(runtime: Runtime) -> None:
    """What the Shopify install's browser path calls: a principal in, a cookie and a stored session out."""
    app: Flask = create_app(runtime, clock=lambda: NOW)

    @app.get("/test-install-done")
    def _done():  # a stand-in for a route that has just authenticated a merchant
        response = jsonify(ok=True)
        start_session(response, Principal(name="acme-candles.myshopify.com", key_hash="", agency_id=None,
                                          brand_ids=frozenset({BRAND}), role=Role.MERCHANT_OWNER,
                                          subject="acme-candles.myshopify.com"), now=NOW)
        return response

    client = app.test_client()
    from tower.api.openapi import operation
    app.view_functions["_done"] = operation("test", response="Health", public=True)(app.view_functions["_done"])
    r = client.get("/test-install-done")
    assert r.status_code == 200 and "HttpOnly" in _cookie(r)
    me = client.get("/api/session")
    assert me.json["principal"]["role"] == "merchant_owner" and me.json["principal"]["brand_ids"] == [BRAND]
    assert client.get(f"/api/brands/{OTHER}/alerts").status_code == 403


def test_the_page_learns_how_to_sign_in_by_e_mail_and_may_reach_only_that(runtime: Runtime, tmp_path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    emulated = Runtime(runtime.settings.model_copy(update={"firebase_auth_emulator_host": "127.0.0.1:9099",
                                                           "page_dir": str(tmp_path)}))
    try:
        client = create_app(emulated, clock=lambda: NOW).test_client()
        config = client.get("/api/auth/config").json
        assert config == {"project_id": "demo-tower", "api_key": "emulator",
                          "identity_toolkit_url": "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1"}
        csp = client.get("/").headers["Content-Security-Policy"]
        assert "connect-src 'self' http://127.0.0.1:9099;" in csp and "frame-ancestors 'none'" in csp
    finally:
        emulated.close()
    production = Runtime(runtime.settings.model_copy(update={"firebase_project_id": "tower-prod",
                                                             "firebase_web_api_key": "AIza-public",
                                                             "page_dir": str(tmp_path)}))
    try:
        client = create_app(production, clock=lambda: NOW).test_client()
        assert client.get("/api/auth/config").json["identity_toolkit_url"] == \
            "https://identitytoolkit.googleapis.com/v1"
        csp = client.get("/").headers["Content-Security-Policy"]
        assert "https://identitytoolkit.googleapis.com https://securetoken.googleapis.com" in csp
    finally:
        production.close()


def test_an_api_key_in_the_header_is_not_a_sign_in(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.post("/api/session", headers=bearer(keys["agency"]))
    assert r.status_code == 400 and '{"api_key"' in r.json["error"]["message"]
    assert not r.headers.getlist("Set-Cookie")


def test_a_demo_project_without_its_emulator_verifies_no_id_token(client: FlaskClient) -> None:
    """Nothing is fetched from Google for a demo-* project: the answer says what to start."""
    import base64
    import json as _json

    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(_json.dumps(d).encode()).decode().rstrip("=")

    r = client.post("/api/session", json={"id_token": f"{part({'alg': 'RS256'})}.{part({'sub': 'x'})}.c2ln"})
    assert r.status_code == 503 and "emulator" in r.json["error"]["message"]
    r = client.post("/api/session", json={"id_token": "not-a-jwt"})
    assert r.status_code == 401
