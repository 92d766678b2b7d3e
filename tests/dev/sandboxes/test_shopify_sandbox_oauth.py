"""The sandbox store's OAuth endpoints and webhook subscriptions behave as Shopify documents them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.clock import FakeClock
from tower_dev.sandboxes.shopify_store.oauth import query_hmac, session_token
from tower_dev.sandboxes.shopify_store.server import SandboxHandle, serve_world

CLIENT, SECRET = "sandbox-client", "sandbox-secret-of-at-least-32-bytes!"
CALLBACK = "https://app.example.com/shopify/callback"


@pytest.fixture(scope="module")
def world() -> Any:
    return testing.small_world()


@pytest.fixture
def clock(world: Any) -> FakeClock:
    return testing.clock_after(world)


@pytest.fixture
def handle(world: Any, clock: FakeClock) -> Iterator[SandboxHandle]:
    h = serve_world(world, clock=clock)
    h.sandbox.oauth.register(CLIENT, SECRET)
    yield h
    h.stop()


def _shop(world: Any) -> str:
    return str(world.brands[0].brand["shop_domain"])


def _authorize(handle: SandboxHandle, shop: str, **extra: str) -> requests.Response:
    params = {"client_id": CLIENT, "scope": "read_orders,read_products", "redirect_uri": CALLBACK,
              "state": "nonce-1", "shop": shop, **extra}
    return requests.get(f"{handle.origin}/admin/oauth/authorize", params=params, allow_redirects=False, timeout=10)


def _token(handle: SandboxHandle, **form: str) -> requests.Response:
    return requests.post(f"{handle.origin}/admin/oauth/access_token", data=form, timeout=10)


def _gql(handle: SandboxHandle, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    r = requests.post(f"{handle.origin}/admin/api/2026-04/graphql.json", json={"query": query,
                      "variables": variables or {}}, headers={"X-Shopify-Access-Token": token}, timeout=10)
    body: dict[str, Any] = r.json()
    return body


def test_authorize_redirects_with_a_signed_single_use_code(handle: SandboxHandle, world: Any) -> None:
    r = _authorize(handle, _shop(world))
    assert r.status_code == 302
    q = dict(parse_qsl(urlsplit(r.headers["Location"]).query))
    assert r.headers["Location"].startswith(CALLBACK + "?")
    assert q["state"] == "nonce-1" and q["shop"] == _shop(world)
    assert q["hmac"] == query_hmac(SECRET, q)
    first = _token(handle, client_id=CLIENT, client_secret=SECRET, code=q["code"])
    assert first.status_code == 200 and first.json()["scope"] == "read_orders,read_products"
    token = first.json()["access_token"]
    assert "data" in _gql(handle, token, "{ shop { name } }")
    again = _token(handle, client_id=CLIENT, client_secret=SECRET, code=q["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


def test_the_token_endpoint_wants_the_apps_secret_and_a_fresh_code(handle: SandboxHandle, world: Any,
                                                                   clock: FakeClock) -> None:
    code = dict(parse_qsl(urlsplit(_authorize(handle, _shop(world)).headers["Location"]).query))["code"]
    assert _token(handle, client_id=CLIENT, client_secret="wrong", code=code).status_code == 401
    clock.advance(61)
    assert _token(handle, client_id=CLIENT, client_secret=SECRET, code=code).status_code == 400


def test_authorize_refuses_an_unknown_app_or_shop(handle: SandboxHandle, world: Any) -> None:
    assert _authorize(handle, _shop(world), client_id="someone-else").status_code == 400
    assert _authorize(handle, "nobody.myshopify.com").status_code == 404


def test_token_exchange_checks_the_session_token(handle: SandboxHandle, world: Any, clock: FakeClock) -> None:
    def exchange(subject: str) -> requests.Response:
        return _token(handle, client_id=CLIENT, client_secret=SECRET,
                      grant_type="urn:ietf:params:oauth:grant-type:token-exchange", subject_token=subject,
                      subject_token_type="urn:ietf:params:oauth:token-type:id_token",
                      requested_token_type="urn:shopify:params:oauth:token-type:offline-access-token")

    now = clock.now()
    assert exchange(session_token(CLIENT, SECRET, _shop(world), now)).status_code == 200
    assert exchange(session_token(CLIENT, "another-secret-of-32-bytes-or-more!!", _shop(world), now)).status_code == 400
    assert exchange(session_token(CLIENT, SECRET, _shop(world), now, audience="other")).status_code == 400
    assert exchange(session_token(CLIENT, SECRET, _shop(world), now - timedelta(minutes=5))).status_code == 400


def _exchange_json(handle: SandboxHandle, subject: str, *, expiring: int = 1,
                   mode: str = "offline") -> requests.Response:
    """The token exchange exactly as shopifyapp 1.0.2 sends it: a JSON body, ``expiring`` a number."""
    return requests.post(f"{handle.origin}/admin/oauth/access_token", timeout=10, json={
        "client_id": CLIENT, "client_secret": SECRET, "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": subject, "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": f"urn:shopify:params:oauth:token-type:{mode}-access-token", "expiring": expiring},
        headers={"Accept": "application/json"})


def _refresh(handle: SandboxHandle, refresh_token: str) -> requests.Response:
    return requests.post(f"{handle.origin}/admin/oauth/access_token", timeout=10, json={
        "client_id": CLIENT, "client_secret": SECRET, "grant_type": "refresh_token", "refresh_token": refresh_token})


def test_an_expiring_offline_token_lapses_after_an_hour_and_refreshes(handle: SandboxHandle, world: Any,
                                                                      clock: FakeClock) -> None:
    # world.brands[1]: another shop than the demo's first
    shop = str(world.brands[1].brand["shop_domain"])
    r = _exchange_json(handle, session_token(CLIENT, SECRET, shop, clock.now()))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in"] == 3600 and body["refresh_token_expires_in"] == 90 * 86400
    token, first_refresh = body["access_token"], body["refresh_token"]
    clock.advance(3599)
    assert "data" in _gql(handle, token, "{ shop { name } }")
    clock.advance(1)  # the hour is up, on the sandbox's clock
    assert "data" not in _gql(handle, token, "{ shop { name } }")
    renewed = _refresh(handle, first_refresh)
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != first_refresh and second["expires_in"] == 3600
    assert "data" in _gql(handle, second["access_token"], "{ shop { name } }")
    # the used refresh token stays valid until its replacement is used (a lost answer can be retried) …
    retried = _refresh(handle, first_refresh)
    assert retried.status_code == 200
    assert _refresh(handle, retried.json()["refresh_token"]).status_code == 200
    # … and is retired once it is
    refused = _refresh(handle, first_refresh)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert _refresh(handle, "shprt_never-issued").json()["error"] == "invalid_grant"


def test_a_refresh_token_expires(handle: SandboxHandle, world: Any, clock: FakeClock) -> None:
    handle.sandbox.oauth.refresh_token_seconds = 600
    shop = str(world.brands[1].brand["shop_domain"])
    refresh = _exchange_json(handle, session_token(CLIENT, SECRET, shop, clock.now())).json()["refresh_token"]
    clock.advance(600)
    assert _refresh(handle, refresh).json()["error"] == "invalid_grant"


def test_non_expiring_and_online_tokens_and_the_grant_parameters(handle: SandboxHandle, world: Any,
                                                                  clock: FakeClock) -> None:
    shop = str(world.brands[1].brand["shop_domain"])
    still = _exchange_json(handle, session_token(CLIENT, SECRET, shop, clock.now()), expiring=0).json()
    assert "expires_in" not in still and "refresh_token" not in still
    online = _exchange_json(handle, session_token(CLIENT, SECRET, shop, clock.now()), mode="online").json()
    assert online["expires_in"] == 86399 and online["associated_user"]["id"] == 42 and "refresh_token" not in online
    clock.advance(86400)
    assert "data" in _gql(handle, still["access_token"], "{ shop { name } }")
    assert "data" not in _gql(handle, online["access_token"], "{ shop { name } }")
    wrong_type = _token(handle, client_id=CLIENT, client_secret=SECRET,
                        grant_type="urn:ietf:params:oauth:grant-type:token-exchange",
                        subject_token=session_token(CLIENT, SECRET, shop, clock.now()),
                        subject_token_type="urn:ietf:params:oauth:token-type:access_token",
                        requested_token_type="urn:shopify:params:oauth:token-type:offline-access-token")
    assert wrong_type.status_code == 400 and "subject_token_type" in wrong_type.json()["error_description"]


_CREATE = """mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri } userErrors { field message } } }"""
_LIST = "{ webhookSubscriptions(first: 10) { nodes { topic uri } pageInfo { hasNextPage } } }"


def test_webhook_subscriptions(handle: SandboxHandle, world: Any) -> None:
    token = handle.tokens[world.brands[0].brand["brand_id"]]
    made = _gql(handle, token, _CREATE, {"topic": "ORDERS_CREATE", "uri": "https://hooks.example.com/"})
    assert made["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    twice = _gql(handle, token, _CREATE, {"topic": "ORDERS_CREATE", "uri": "https://hooks.example.com/"})
    assert "already been taken" in twice["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"]
    plain = _gql(handle, token, _CREATE, {"topic": "APP_UNINSTALLED", "uri": "http://hooks.example.com/"})
    assert "https" in plain["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"]
    # the privacy topics are not in the API's enum: only shopify.app.toml can declare them
    privacy = _gql(handle, token, _CREATE, {"topic": "SHOP_REDACT", "uri": "https://hooks.example.com/"})
    assert privacy.get("errors")
    listed = _gql(handle, token, _LIST)["data"]["webhookSubscriptions"]
    assert listed["nodes"] == [{"topic": "ORDERS_CREATE", "uri": "https://hooks.example.com/"}]


def test_a_topic_needs_its_read_scope(world: Any, clock: FakeClock) -> None:
    h = serve_world(world, clock=clock, scopes={"read_products"})
    try:
        token = h.tokens[world.brands[0].brand["brand_id"]]
        out = _gql(h, token, _CREATE, {"topic": "ORDERS_PAID", "uri": "https://hooks.example.com/"})
        assert "read_orders" in out["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"]
    finally:
        h.stop()
