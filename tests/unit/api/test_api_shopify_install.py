"""Installing from Shopify through the real routes, over HTTP, against the sandbox store.

The API runs on a local port (werkzeug, as ``tower serve`` hosts it) with a clock the tests can move;
the sandbox store plays Shopify: its authorize endpoint redirects back with a signed code, its token
endpoint issues offline tokens, its GraphQL keeps webhook subscriptions. Nothing of Shopify is mocked.
Forged requests must be refused with a 4xx naming the problem and leave nothing behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from tower import names
from tower.api.app import create_app
from tower.api.headers import quiet_request_handler
from tower.config import Settings
from tower.connectors.shopify.webhooks import webhook_hmac
from tower.pipeline import handle_shopify_webhook
from tower.runtime import Runtime
from tower.sync import install, shopify_tokens
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.oauth import query_hmac, session_token
from tower_dev.sandboxes.shopify_store.server import SandboxHandle, serve_world

CLIENT_ID = "ct-client-7f3a"
SECRET = "shpss_sandbox_app_secret_91c2_0a7d4e6b"
WEBHOOK_URL = "https://tower-shopify-webhooks-x1.a.run.app/"


@dataclass
class Clock:
    """The API's clock: the real time plus an offset a test can move (the sandbox runs on real time)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Installer:
    api: str
    sandbox: SandboxHandle
    runtime: Runtime
    clock: Clock
    world: Any

    @property
    def bw(self) -> Any:
        # The second brand (another time zone and currency than the first), so nothing leans on the demo one.
        return self.world.brands[1]

    @property
    def shop(self) -> str:
        return str(self.bw.brand["shop_domain"])

    def start(self, shop: str | None = None) -> requests.Response:
        return requests.get(f"{self.api}/shopify/install", params={"shop": shop or self.shop},
                            allow_redirects=False, timeout=10)

    def authorize(self) -> dict[str, str]:
        """/shopify/install → the sandbox's authorize page → the callback's query (not yet followed)."""
        r = self.start()
        assert r.status_code == 302, r.text
        back = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
        assert back.status_code == 302, back.text
        location = back.headers["Location"]
        assert location.startswith(f"{self.api}/shopify/callback?")
        return dict(parse_qsl(urlsplit(location).query))

    def callback(self, params: dict[str, str]) -> requests.Response:
        return requests.get(f"{self.api}/shopify/callback?{urlencode(params)}", allow_redirects=False, timeout=10)

    def exchange(self, token: str) -> requests.Response:
        return requests.post(f"{self.api}/shopify/token-exchange", headers={"Authorization": f"Bearer {token}"},
                             timeout=10)

    def stored_tokens(self) -> list[str]:
        secret_id = names.integration_secret_id(brand_id(self.shop), "shopify")
        return [self.runtime.secrets.get(secret_id)] if self.runtime.secrets.exists(secret_id) else []

    def integrations(self) -> list[dict[str, Any]]:
        return self.runtime.warehouse.rows("SELECT * FROM integrations WHERE platform = 'shopify'", {})

    def subscriptions(self) -> list[tuple[str, str]]:
        shop = self.sandbox.shop(self.bw.brand["brand_id"])
        book = shop.__dict__.get("_webhook_subscriptions")
        return sorted((s.topic, s.uri) for s in book.items.values()) if book else []

    def uninstall(self) -> tuple[dict[str, Any], int]:
        body = json.dumps({"id": 1, "domain": self.shop}).encode()
        env = EnvironBuilder(method="POST", data=body, headers={
            "X-Shopify-Hmac-Sha256": webhook_hmac(SECRET, body), "X-Shopify-Topic": "app/uninstalled",
            "X-Shopify-Shop-Domain": self.shop, "X-Shopify-Webhook-Id": f"uninstall-{len(self.integrations())}",
            "Content-Type": "application/json"})
        return handle_shopify_webhook(self.runtime, env.get_request())


def brand_id(shop: str) -> str:
    return install.brand_id_for_shop(shop)


@pytest.fixture(scope="module")
def world() -> Any:
    return testing.small_world(seed=11)


@pytest.fixture
def installer(world: Any, tmp_path: Path) -> Iterator[Installer]:
    sandbox = serve_world(world)  # real time: the session tokens' exp is checked by both sides
    sandbox.sandbox.oauth.register(CLIENT_ID, SECRET)
    clock = Clock()
    holder: dict[str, Any] = {}
    settings = Settings(
        warehouse=f"duckdb:///{tmp_path}/warehouse.duckdb", store=f"local:///{tmp_path}/store.sqlite",
        bus=f"local:///{tmp_path}/bus.sqlite", tasks=f"local:///{tmp_path}/tasks.sqlite",
        secrets=f"local:///{tmp_path}/secrets", data_dir=tmp_path, anthropic_api_key="",
        shopify_api_origin=sandbox.origin, shopify_client_id=CLIENT_ID, shopify_app_url="http://placeholder",
        shopify_webhook_url=WEBHOOK_URL)
    runtime = Runtime(settings)
    runtime.warehouse.init_schema()  # what `tower setup` does once per deployment
    runtime.secrets.put(names.SECRET_SHOPIFY_API_SECRET, SECRET)  # the secret from the secret store
    server = make_server("127.0.0.1", 0, create_app(runtime, clock=clock), threaded=True,
                         request_handler=quiet_request_handler())
    api = f"http://127.0.0.1:{server.server_port}"
    # the redirect URI names the API's own address, known once the port is bound
    runtime.settings = settings.model_copy(update={"shopify_app_url": api})
    holder["thread"] = threading.Thread(target=server.serve_forever, daemon=True)
    holder["thread"].start()
    yield Installer(api, sandbox, runtime, clock, world)
    server.shutdown()
    server.server_close()
    sandbox.stop()


def assert_nothing_stored(inst: Installer) -> None:
    assert inst.stored_tokens() == []
    assert inst.integrations() == []
    assert inst.subscriptions() == []
    assert inst.sandbox.sandbox.oauth.issued == []


def error_of(r: requests.Response) -> str:
    return str(r.json()["error"]["code"])


# -- the authorization code grant --------------------------------------------------------------------
def test_install_from_an_empty_system_connects_the_store_with_an_offline_token(installer: Installer) -> None:
    r = installer.start()
    authorize = urlsplit(r.headers["Location"])
    q = dict(parse_qsl(authorize.query))
    assert authorize.path == "/admin/oauth/authorize"
    assert q["client_id"] == CLIENT_ID and q["redirect_uri"] == f"{installer.api}/shopify/callback"
    assert set(q["scope"].split(",")) >= {"read_orders", "read_all_orders", "read_products", "read_inventory",
                                          "read_locations", "read_merchant_managed_fulfillment_orders",
                                          "read_discounts", "write_discounts"}
    assert "grant_options[]" not in q  # offline, not per-user

    params = installer.authorize()
    done = installer.callback(params)
    assert done.status_code == 200, done.text
    body = done.json()
    b = installer.bw.brand
    assert body["brand_id"] == brand_id(installer.shop) and body["shop"] == installer.shop
    assert sorted(body["webhooks"]["created"]) == sorted(install.WEBHOOK_TOPICS) and body["webhooks"]["existing"] == []
    # the brand was registered as the shop describes itself
    brand = installer.runtime.warehouse.rows("SELECT * FROM brands WHERE brand_id = @b", {"b": body["brand_id"]})[0]
    assert (brand["timezone"], brand["currency"], brand["shop_domain"]) == (b["timezone"], b["currency"],
                                                                           installer.shop)
    # the token works against the store, and lives only in the secret store
    [token] = installer.stored_tokens()
    assert installer.sandbox.sandbox.tokens[token] == b["brand_id"]
    assert installer.sandbox.sandbox.oauth.issued == [(b["brand_id"], "authorization_code")]
    [row] = installer.integrations()
    assert row["status"] == "active" and row["secret_ref"] == names.integration_secret_id(body["brand_id"], "shopify")
    assert token not in json.dumps(row, default=str) and token not in done.text
    assert "read_all_orders" in row["scopes"]
    # every subscribable topic, once, at the webhook function's address
    assert installer.subscriptions() == sorted((install.graphql_topic(t), WEBHOOK_URL) for t in install.WEBHOOK_TOPICS)
    # the nonce is gone
    assert installer.runtime.store.get(f"{install.STATE_COLLECTION}/{params['state']}") is None


def test_reinstall_registers_no_duplicate_webhook(installer: Installer) -> None:
    assert installer.callback(installer.authorize()).status_code == 200
    again = installer.callback(installer.authorize())
    assert again.status_code == 200, again.text
    assert again.json()["webhooks"] == {"created": [], "existing": sorted(install.WEBHOOK_TOPICS)}
    assert len(installer.subscriptions()) == len(install.WEBHOOK_TOPICS)
    assert len(installer.integrations()) == 1
    [token] = installer.stored_tokens()
    assert installer.sandbox.sandbox.tokens[token] == installer.bw.brand["brand_id"]  # the newest token


def test_a_bad_hmac_is_refused_and_nothing_is_stored(installer: Installer) -> None:
    params = installer.authorize()
    forged = {**params, "shop": installer.world.brands[0].brand["shop_domain"]}  # the signature no longer covers it
    r = installer.callback(forged)
    assert r.status_code == 401 and error_of(r) == "invalid_hmac"
    wrong_key = {**params, "hmac": query_hmac("not-the-app-secret", params)}
    assert error_of(installer.callback(wrong_key)) == "invalid_hmac"
    no_hmac = {k: v for k, v in params.items() if k != "hmac"}
    assert error_of(installer.callback(no_hmac)) == "invalid_hmac"
    assert_nothing_stored(installer)
    # the forgeries did not use the merchant's nonce up: the genuine callback still works
    assert installer.callback(params).status_code == 200


def test_a_reused_state_is_refused(installer: Installer) -> None:
    params = installer.authorize()
    assert installer.callback(params).status_code == 200
    tokens = installer.stored_tokens()
    replay = installer.callback(params)
    assert replay.status_code == 401 and error_of(replay) == "invalid_state"
    assert "already used" in replay.json()["error"]["message"]
    assert installer.stored_tokens() == tokens  # the replay changed nothing


def test_an_unknown_state_is_refused(installer: Installer) -> None:
    params = installer.authorize()
    made_up = {**params, "state": "x" * 43}
    made_up["hmac"] = query_hmac(SECRET, made_up)  # correctly signed, but we never issued that nonce
    r = installer.callback(made_up)
    assert r.status_code == 401 and error_of(r) == "invalid_state"
    assert_nothing_stored(installer)


def test_an_expired_state_is_refused(installer: Installer) -> None:
    params = installer.authorize()
    installer.clock.offset = timedelta(seconds=installer.runtime.settings.shopify_oauth_state_seconds + 1)
    r = installer.callback(params)
    assert r.status_code == 401 and error_of(r) == "expired_state"
    assert_nothing_stored(installer)


def test_a_state_issued_for_another_shop_is_refused(installer: Installer) -> None:
    other = installer.world.brands[0].brand["shop_domain"]
    r = installer.start(other)
    state = dict(parse_qsl(urlsplit(r.headers["Location"]).query))["state"]
    params = installer.authorize()
    swapped = {**params, "state": state}
    swapped["hmac"] = query_hmac(SECRET, swapped)
    r = installer.callback(swapped)
    assert r.status_code == 401 and error_of(r) == "invalid_state"
    assert "another shop" in r.json()["error"]["message"]
    assert_nothing_stored(installer)


@pytest.mark.parametrize("shop", ["evil.example.com", "acme.myshopify.com.evil.io", "", "ACME..myshopify.com"])
def test_a_bad_shop_is_refused(installer: Installer, shop: str) -> None:
    r = requests.get(f"{installer.api}/shopify/install", params={"shop": shop}, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and error_of(r) == "invalid_shop"
    params = {"code": "abc", "shop": shop, "state": "s" * 43, "timestamp": "1"}
    params["hmac"] = query_hmac(SECRET, params)
    r = installer.callback(params)
    assert r.status_code == 400 and error_of(r) == "invalid_shop"
    assert_nothing_stored(installer)


def test_a_signed_launch_request_with_a_bad_hmac_is_refused(installer: Installer) -> None:
    q = {"shop": installer.shop, "timestamp": "1700000000"}
    ok = requests.get(f"{installer.api}/shopify/install", params={**q, "hmac": query_hmac(SECRET, q)},
                      allow_redirects=False, timeout=10)
    assert ok.status_code == 302
    bad = requests.get(f"{installer.api}/shopify/install", params={**q, "hmac": "0" * 64},
                       allow_redirects=False, timeout=10)
    assert bad.status_code == 401 and error_of(bad) == "invalid_hmac"


# -- token exchange (embedded) -----------------------------------------------------------------------
def test_token_exchange_from_a_session_token_connects_the_store(installer: Installer) -> None:
    token = session_token(CLIENT_ID, SECRET, installer.shop, installer.clock())
    r = installer.exchange(token)
    assert r.status_code == 200, r.text
    assert r.json()["brand_id"] == brand_id(installer.shop)
    assert installer.sandbox.sandbox.oauth.issued == [(installer.bw.brand["brand_id"], "token_exchange")]
    [stored] = installer.stored_tokens()
    assert installer.sandbox.sandbox.tokens[stored] == installer.bw.brand["brand_id"]
    assert len(installer.subscriptions()) == len(install.WEBHOOK_TOPICS)


def _forged(inst: Installer, kind: str) -> str:
    now = inst.clock()
    if kind == "wrong_secret":
        return session_token(CLIENT_ID, "someone-elses-secret-of-32-bytes-or-more", inst.shop, now)
    if kind == "wrong_audience":
        return session_token(CLIENT_ID, SECRET, inst.shop, now, audience="another-app")
    if kind == "expired":
        return session_token(CLIENT_ID, SECRET, inst.shop, now - timedelta(minutes=5), lifetime=60)
    if kind == "not_yet_valid":
        return session_token(CLIENT_ID, SECRET, inst.shop, now + timedelta(minutes=5))
    if kind == "bad_dest":
        import jwt

        at = int(now.timestamp())
        return str(jwt.encode({"iss": "https://evil.example.com/admin", "dest": "https://evil.example.com",
                               "aud": CLIENT_ID, "exp": at + 60, "nbf": at}, SECRET, algorithm="HS256"))
    if kind == "none_alg":
        import jwt

        at = int(now.timestamp())
        return str(jwt.encode({"iss": f"https://{inst.shop}/admin", "dest": f"https://{inst.shop}",
                               "aud": CLIENT_ID, "exp": at + 60, "nbf": at}, None, algorithm="none"))
    return "not-a-jwt"


@pytest.mark.parametrize(("kind", "says"), [
    ("wrong_secret", "signature"), ("wrong_audience", "another app"), ("expired", "expired"),
    ("not_yet_valid", "not valid yet"), ("bad_dest", "myshopify"), ("none_alg", "malformed"),
    ("garbage", "malformed"),
])
def test_a_forged_session_token_is_refused_and_nothing_is_stored(installer: Installer, kind: str, says: str) -> None:
    r = installer.exchange(_forged(installer, kind))
    assert r.status_code == 401 and error_of(r) == "invalid_session_token", r.text
    assert says in r.json()["error"]["message"]
    assert_nothing_stored(installer)


def test_a_token_exchange_without_a_bearer_token_is_refused(installer: Installer) -> None:
    r = requests.post(f"{installer.api}/shopify/token-exchange", timeout=10)
    assert r.status_code == 401 and error_of(r) == "invalid_session_token"
    assert_nothing_stored(installer)


# -- uninstall ---------------------------------------------------------------------------------------
def test_app_uninstalled_disconnects_the_store_and_leaves_no_token(installer: Installer) -> None:
    assert installer.callback(installer.authorize()).status_code == 200
    assert installer.stored_tokens()
    body, status = installer.uninstall()
    assert status == 200 and body["status"] == "processed", body
    assert installer.stored_tokens() == []
    [row] = installer.integrations()
    assert row["status"] == "uninstalled"
    # a repeated delivery (a new id) finds nothing left and still succeeds
    assert installer.uninstall()[1] == 200
    # reinstalling connects again with a new token and keeps the subscriptions single
    assert installer.callback(installer.authorize()).status_code == 200
    assert len(installer.stored_tokens()) == 1 and installer.integrations()[0]["status"] == "active"
    assert len(installer.subscriptions()) == len(install.WEBHOOK_TOPICS)


def test_the_app_must_be_configured(installer: Installer) -> None:
    installer.runtime.settings = installer.runtime.settings.model_copy(update={"shopify_client_id": ""})
    r = installer.start()
    assert r.status_code == 503 and "TOWER_SHOPIFY_CLIENT_ID" in r.json()["error"]["message"]


def test_a_new_shop_never_takes_over_a_brand_of_another_shop(installer: Installer) -> None:
    from tower.brands import add_brand

    taken = brand_id(installer.shop)
    add_brand(installer.runtime.warehouse, brand_id=taken, name="Someone Else", timezone="Asia/Tokyo",
              currency="JPY", now=installer.clock(), shop_domain="someone-else.myshopify.com")
    r = installer.callback(installer.authorize())
    assert r.status_code == 200, r.text
    assert r.json()["brand_id"] != taken and r.json()["brand_id"].startswith(taken + "-")
    other = installer.runtime.warehouse.rows("SELECT * FROM brands WHERE brand_id = @b", {"b": taken})[0]
    assert (other["brand_name"], other["timezone"], other["shop_domain"]) == ("Someone Else", "Asia/Tokyo",
                                                                            "someone-else.myshopify.com")


# -- expiring offline tokens (shopifyapp's token exchange and refresh, against the sandbox) ----------
def refresh_record(inst: Installer) -> dict[str, Any] | None:
    secret_id = shopify_tokens.refresh_secret_id(brand_id(inst.shop))
    return json.loads(inst.runtime.secrets.get(secret_id)) if inst.runtime.secrets.exists(secret_id) else None


def test_token_exchange_keeps_an_expiring_token_and_its_refresh_token_in_the_secret_store_only(
        installer: Installer) -> None:
    r = installer.exchange(session_token(CLIENT_ID, SECRET, installer.shop, installer.clock()))
    assert r.status_code == 200, r.text
    [token] = installer.stored_tokens()
    oauth = installer.sandbox.sandbox.oauth
    assert token in oauth.token_expiry  # shopifyapp asked for an expiring token (expiring=1)
    record = refresh_record(installer)
    assert record is not None and record["refresh_token"] in oauth.refresh_tokens
    assert record["shop"] == installer.shop.split(".", 1)[0] and record["expires"] and record["refresh_token_expires"]
    # an hour from now, by shopifyapp's reckoning (wall clock)
    expires = datetime.fromisoformat(record["expires"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    [row] = installer.integrations()
    assert record["refresh_token"] not in json.dumps(row, default=str) and record["refresh_token"] not in r.text


def test_the_install_callback_also_asks_for_an_expiring_token(installer: Installer) -> None:
    assert installer.callback(installer.authorize()).status_code == 200
    [token] = installer.stored_tokens()
    assert token in installer.sandbox.sandbox.oauth.token_expiry
    assert refresh_record(installer) is not None


def test_an_expiring_token_is_refreshed_before_it_lapses(installer: Installer) -> None:
    oauth = installer.sandbox.sandbox.oauth
    oauth.access_token_seconds = 30  # inside shopifyapp's one-minute margin: due for a refresh at once
    assert installer.exchange(session_token(CLIENT_ID, SECRET, installer.shop, installer.clock())).status_code == 200
    [old] = installer.stored_tokens()
    old_refresh = refresh_record(installer)["refresh_token"]  # type: ignore[index]
    settings, secrets, b = installer.runtime.settings, installer.runtime.secrets, brand_id(installer.shop)
    secret_ref = names.integration_secret_id(b, "shopify")
    new = shopify_tokens.fresh_token(settings, secrets, b, secret_ref)
    assert new != old and installer.stored_tokens() == [new]
    assert oauth.issued[-1] == (installer.bw.brand["brand_id"], "refresh_token")
    assert refresh_record(installer)["refresh_token"] not in (None, old_refresh)  # type: ignore[index]
    assert installer.sandbox.sandbox.shop_for(new) is not None
    # a token with most of its hour left is not refreshed: no call to Shopify
    oauth.access_token_seconds = 3600
    newest = shopify_tokens.fresh_token(settings, secrets, b, secret_ref)
    assert newest != new and oauth.issued[-1][1] == "refresh_token"  # the 30 s token was refreshed once more
    calls = len(oauth.issued)
    assert shopify_tokens.fresh_token(settings, secrets, b, secret_ref) == newest
    assert len(oauth.issued) == calls


def test_a_refresh_token_shopify_no_longer_honours_stops_the_sync_with_what_to_do(installer: Installer) -> None:
    from tower.sync.connect import NotConnected
    from tower.sync.shopify import ShopifySync

    oauth = installer.sandbox.sandbox.oauth
    oauth.access_token_seconds = 30
    assert installer.exchange(session_token(CLIENT_ID, SECRET, installer.shop, installer.clock())).status_code == 200
    oauth.refresh_tokens.clear()  # revoked on Shopify's side
    with pytest.raises(shopify_tokens.TokenRefreshFailed, match="open the app from the Shopify admin again"):
        shopify_tokens.fresh_token(installer.runtime.settings, installer.runtime.secrets, brand_id(installer.shop),
                                   names.integration_secret_id(brand_id(installer.shop), "shopify"))
    sync = ShopifySync(installer.runtime, brand_id(installer.shop))
    with pytest.raises(NotConnected, match="invalid_grant"):
        sync.connect()


def test_uninstall_leaves_no_refresh_token_behind(installer: Installer) -> None:
    assert installer.exchange(session_token(CLIENT_ID, SECRET, installer.shop, installer.clock())).status_code == 200
    assert refresh_record(installer) is not None
    assert installer.uninstall()[1] == 200
    assert installer.stored_tokens() == [] and refresh_record(installer) is None


# -- a browser arriving by token exchange or by the App Home load -------------------------------------
def test_a_browser_exchanging_a_session_token_is_signed_in_and_sent_to_the_wizard(installer: Installer) -> None:
    token = session_token(CLIENT_ID, SECRET, installer.shop, installer.clock())
    r = requests.post(f"{installer.api}/shopify/token-exchange", allow_redirects=False, timeout=10,
                      headers={"Authorization": f"Bearer {token}", "Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == f"/onboarding/{brand_id(installer.shop)}"
    session = requests.Session()
    session.cookies.update(r.cookies)
    me = session.get(f"{installer.api}/api/session", timeout=10).json()
    assert me["principal"]["role"] == "merchant_owner" and me["principal"]["brand_ids"] == [brand_id(installer.shop)]


def app_home(inst: Installer, token: str) -> requests.Response:
    """What the Shopify admin loads when the embedded app opens: the app URL with the launch query."""
    q = {"embedded": "1", "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ", "id_token": token, "locale": "en",
         "session": "abc123", "shop": inst.shop, "timestamp": str(int(inst.clock().timestamp()))}
    q["hmac"] = query_hmac(SECRET, q)
    return requests.get(f"{inst.api}/shopify/install", params=q, allow_redirects=False, timeout=10)


def test_the_app_home_load_connects_the_store_signs_in_and_redirects_inside_the_admin(installer: Installer) -> None:
    r = app_home(installer, session_token(CLIENT_ID, SECRET, installer.shop, installer.clock()))
    assert r.status_code == 302, r.text
    where = urlsplit(r.headers["Location"])
    assert where.path == f"/onboarding/{brand_id(installer.shop)}"
    kept = dict(parse_qsl(where.query))
    assert kept == {"embedded": "1", "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ", "locale": "en",
                    "shop": installer.shop}  # no id_token, hmac or session in the page's address
    assert r.headers["Content-Security-Policy"] == f"frame-ancestors https://{installer.shop} https://admin.shopify.com;"
    assert "session" in "".join(r.headers.get("Set-Cookie", "")).lower()
    assert installer.sandbox.sandbox.oauth.issued == [(installer.bw.brand["brand_id"], "token_exchange")]
    # opening the app again signs in without a second exchange (the store already holds a token)
    again = app_home(installer, session_token(CLIENT_ID, SECRET, installer.shop, installer.clock()))
    assert again.status_code == 302 and len(installer.sandbox.sandbox.oauth.issued) == 1


def test_a_stale_app_home_token_bounces_to_the_patch_page(installer: Installer) -> None:
    stale = session_token(CLIENT_ID, SECRET, installer.shop, installer.clock() - timedelta(minutes=5))
    r = app_home(installer, stale)
    assert r.status_code == 302
    patch = urlsplit(r.headers["Location"])
    assert patch.path == install.PATCH_ID_TOKEN_PATH
    q = dict(parse_qsl(patch.query))
    assert q["shop"] == installer.shop and q["shopify-reload"].startswith("/shopify/install?")
    assert "id_token" not in q and stale not in r.headers["Location"]
    page = requests.get(f"{installer.api}{patch.path}?{patch.query}", timeout=10)
    assert page.status_code == 200 and f'data-api-key="{CLIENT_ID}"' in page.text
    assert "app-bridge.js" in page.text
    assert_nothing_stored(installer)
    missing = requests.get(f"{installer.api}{install.PATCH_ID_TOKEN_PATH}", params={"shop": installer.shop},
                           timeout=10)
    assert missing.status_code == 400 and error_of(missing) == "missing_shopify_reload"


def test_an_app_home_token_for_another_app_is_refused(installer: Installer) -> None:
    r = app_home(installer, session_token(CLIENT_ID, SECRET, installer.shop, installer.clock(), audience="other"))
    assert r.status_code == 401 and error_of(r) == "invalid_session_token"
    assert "another app" in r.json()["error"]["message"]
    assert_nothing_stored(installer)
