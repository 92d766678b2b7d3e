"""The ad sandboxes' OAuth endpoints on the wire: what each platform answers, as the product's code relies on.

Driven over HTTP and gRPC (the google-ads SDK's own service client for ``ListAccessibleCustomers``);
the consent page's form is submitted as a browser submits it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tower.connectors.google_ads.client import GoogleAdsApiClient
from tower.connectors.retry import NeedsReauth, RetryPolicy
from tower_dev.sandboxes.ad_oauth import submit_consent
from tower_dev.sandboxes.ad_sandbox import AdSandboxes, sample_accounts, start_ad_sandboxes

REDIRECT = "https://tower.example.test/oauth/{}/callback"


@pytest.fixture(scope="module")
def boxes() -> Iterator[AdSandboxes]:
    sandboxes = start_ad_sandboxes(sample_accounts(seed=21, brand_id="b_wire"))
    for platform in ("meta", "tiktok", "google_ads"):
        sandboxes.get(platform).oauth.register(f"{platform}-client", f"{platform}-secret", {REDIRECT.format(platform)})
    yield sandboxes
    sandboxes.stop()


def _consent(url: str, decision: str = "approve") -> dict[str, list[str]]:
    return parse_qs(urlsplit(submit_consent(url, decision).split("#")[0]).query)


def _google_code(boxes: AdSandboxes, offline: bool = True) -> str:
    g = boxes.google_ads
    query = {"client_id": "google_ads-client", "redirect_uri": REDIRECT.format("google_ads"), "response_type": "code",
             "scope": "https://www.googleapis.com/auth/adwords", "state": "s1"}
    if offline:
        query |= {"access_type": "offline", "prompt": "consent"}
    return _consent(f"{g.oauth_origin}/o/oauth2/v2/auth?{urlencode(query)}")["code"][0]


def _google_token(boxes: AdSandboxes, **form: str) -> requests.Response:
    return requests.post(f"{boxes.google_ads.oauth_origin}/token", timeout=10, data={
        "client_id": "google_ads-client", "client_secret": "google_ads-secret",
        "redirect_uri": REDIRECT.format("google_ads"), **form})


def test_authorize_pages_refuse_an_unknown_app_or_a_redirect_uri_not_registered(boxes: AdSandboxes) -> None:
    meta = f"{boxes.meta.origin}/v26.0/dialog/oauth"
    assert requests.get(meta, params={"client_id": "nope", "redirect_uri": REDIRECT.format("meta")},
                        timeout=10).status_code == 400
    assert requests.get(meta, params={"client_id": "meta-client", "redirect_uri": "https://evil.example/cb"},
                        timeout=10).status_code == 400
    tiktok = requests.get(f"{boxes.tiktok.origin}/portal/auth", timeout=10,
                          params={"app_id": "tiktok-client", "redirect_uri": REDIRECT.format("tiktok"), "state": "s"})
    assert tiktok.status_code == 200 and 'id="approve"' in tiktok.text


def test_google_codes_are_single_use_and_offline_access_brings_a_refresh_token(boxes: AdSandboxes) -> None:
    code = _google_code(boxes)
    first = _google_token(boxes, grant_type="authorization_code", code=code)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599 and body["refresh_token"]
    again = _google_token(boxes, grant_type="authorization_code", code=code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    online = _google_token(boxes, grant_type="authorization_code", code=_google_code(boxes, offline=False)).json()
    assert "refresh_token" not in online
    bad_client = requests.post(f"{boxes.google_ads.oauth_origin}/token", timeout=10, data={
        "client_id": "google_ads-client", "client_secret": "wrong", "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"]})
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"


def _accessible(boxes: AdSandboxes, token: str) -> list[str]:
    client = GoogleAdsApiClient(token, developer_token="dev", login_customer_id=None,
                                endpoint=boxes.google_ads.endpoint, version="v26", policy=RetryPolicy(attempts=1))
    try:
        service = client.service("CustomerService")
        return client.call(lambda: list(service.list_accessible_customers(request={}).resource_names))
    finally:
        client.close()


def test_google_tokens_expire_after_their_hour_and_revoking_the_refresh_token_ends_them(boxes: AdSandboxes) -> None:
    body = _google_token(boxes, grant_type="authorization_code", code=_google_code(boxes)).json()
    [account] = [a for a in boxes.google_ads.registry.accounts.values()]
    assert _accessible(boxes, body["access_token"]) == [f"customers/{account.account_id}"]
    boxes.google_ads.registry.advance(3600)
    try:
        with pytest.raises(NeedsReauth, match="OAUTH_TOKEN_EXPIRED|invalid authentication") as expired:
            _accessible(boxes, body["access_token"])
        assert expired.value.code == "UNAUTHENTICATED"
        fresh = _google_token(boxes, grant_type="refresh_token", refresh_token=body["refresh_token"]).json()
        assert _accessible(boxes, fresh["access_token"]) == [f"customers/{account.account_id}"]
        revoked = requests.post(f"{boxes.google_ads.oauth_origin}/revoke", data={"token": body["refresh_token"]},
                                timeout=10)
        assert revoked.status_code == 200
        with pytest.raises(NeedsReauth):
            _accessible(boxes, fresh["access_token"])
        refused = _google_token(boxes, grant_type="refresh_token", refresh_token=body["refresh_token"])
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    finally:
        boxes.google_ads.registry.advance(-3600)


def test_meta_code_then_long_lived_token_then_revoke(boxes: AdSandboxes) -> None:
    q = _consent(f"{boxes.meta.origin}/v26.0/dialog/oauth?" + urlencode({
        "client_id": "meta-client", "redirect_uri": REDIRECT.format("meta"), "state": "s2",
        "scope": "ads_read,ads_management"}))
    assert q["state"] == ["s2"]
    base = f"{boxes.meta.origin}/v26.0/oauth/access_token"
    creds = {"client_id": "meta-client", "client_secret": "meta-secret"}
    short = requests.get(base, params={**creds, "redirect_uri": REDIRECT.format("meta"), "code": q["code"][0]},
                         timeout=10).json()
    assert short["expires_in"] == 7200
    replay = requests.get(base, params={**creds, "redirect_uri": REDIRECT.format("meta"), "code": q["code"][0]},
                          timeout=10)
    assert replay.status_code == 400 and replay.json()["error"]["code"] == 100
    long = requests.get(base, params={**creds, "grant_type": "fb_exchange_token",
                                      "fb_exchange_token": short["access_token"]}, timeout=10).json()
    assert long["expires_in"] == 60 * 24 * 3600
    me = requests.get(f"{boxes.meta.origin}/v26.0/me/adaccounts", timeout=10,
                      params={"fields": "account_id,name,currency,timezone_name", "access_token": long["access_token"]})
    assert [a["id"] for a in me.json()["data"]] == [f"act_{a}" for a in boxes.meta.registry.accounts]
    gone = requests.delete(f"{boxes.meta.origin}/v26.0/me/permissions", params={"access_token": long["access_token"]},
                           timeout=10)
    assert gone.json() == {"success": True}
    after = requests.get(f"{boxes.meta.origin}/v26.0/me/adaccounts", params={"access_token": long["access_token"]},
                         timeout=10)
    assert after.status_code == 400 and after.json()["error"]["code"] == 190
    assert all("client_secret" not in params and "code" not in params for _, _, params in boxes.meta.calls)


def test_tiktok_auth_code_then_advertisers_then_revoke(boxes: AdSandboxes) -> None:
    q = _consent(f"{boxes.tiktok.origin}/portal/auth?" + urlencode({
        "app_id": "tiktok-client", "redirect_uri": REDIRECT.format("tiktok"), "state": "s3"}))
    assert q["auth_code"] == q["code"]
    api = f"{boxes.tiktok.origin}/open_api/v1.3"
    creds = {"app_id": "tiktok-client", "secret": "tiktok-secret"}
    token = requests.post(f"{api}/oauth2/access_token/", json={**creds, "auth_code": q["auth_code"][0]}, timeout=10).json()
    assert token["code"] == 0 and token["data"]["advertiser_ids"] == sorted(boxes.tiktok.registry.accounts)
    access = token["data"]["access_token"]
    replay = requests.post(f"{api}/oauth2/access_token/", json={**creds, "auth_code": q["auth_code"][0]}, timeout=10)
    assert replay.json()["code"] != 0
    listed: Any = requests.get(f"{api}/oauth2/advertiser/get/", params=creds, headers={"Access-Token": access},
                               timeout=10).json()
    assert [a["advertiser_id"] for a in listed["data"]["list"]] == sorted(boxes.tiktok.registry.accounts)
    assert requests.post(f"{api}/oauth2/revoke_token/", json={**creds, "access_token": access},
                         timeout=10).json()["code"] == 0
    after = requests.get(f"{api}/oauth2/advertiser/get/", params=creds, headers={"Access-Token": access}, timeout=10)
    assert after.json()["code"] == 40105
