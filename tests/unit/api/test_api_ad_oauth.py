"""Connecting Meta, TikTok and Google Ads accounts by OAuth through the API, against the running sandboxes.

Each sandbox plays its platform: its authorize page is a real form (Approve / Cancel) that the test
submits as a browser would, its token endpoint trades codes (and Google's refreshes them), its data
endpoints check the tokens it issued. The API runs in the Flask test client; nothing of the platforms
is mocked. The brand is in Berlin and bills in euros, so nothing leans on the demo's brand.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from tower import names
from tower.api.ad_oauth import BROWSER_COOKIE
from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.brands import add_brand
from tower.identity.keys import key_principal
from tower.identity.sessions import COOKIE, create_session
from tower.pipeline import run_sync
from tower.sync.grants import grant_secret_id, parse_grant
from tower.sync.health import integration_health, problems
from tower.wiring import wire_local
from tower_dev.sandboxes.ad_oauth import submit_consent
from tower_dev.sandboxes.ad_sandbox import AdSandboxes, sample_accounts, sandbox_runtime, start_ad_sandboxes

BRAND = "brand_oauth"
OTHER_ACCOUNT = {"meta": "2020044410", "tiktok": "7009910022", "google_ads": "9988776655"}
APPS = {"meta": ("9001122334455", "meta-app-secret-5e1f"), "tiktok": ("7311000222333", "tiktok-app-secret-0c9d"),
        "google_ads": ("4411-sbx.apps.googleusercontent.com", "GOCSPX-sandbox-2b7e")}
REDIRECT_BASE = "https://tower.example.test"


@dataclasses.dataclass
class World:
    client: FlaskClient
    key: str
    runtime: Any
    sandboxes: AdSandboxes
    clock: list[datetime]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def authorize(self, platform: str) -> str:
        r = self.client.post(f"/api/brands/{BRAND}/integrations/{platform}/authorize", headers=self.headers())
        assert r.status_code == 200, r.json
        return str(r.json["authorize_url"])

    def consent(self, url: str, decision: str = "approve") -> str:
        """Open the platform's authorize page and click a button: the Location it redirects to."""
        return submit_consent(url, decision)

    def callback(self, location: str) -> Any:
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}" == REDIRECT_BASE
        return self.client.get(f"{parts.path}?{parts.query}")

    def connect_flow(self, platform: str) -> list[dict[str, Any]]:
        """Authorize, consent, callback, list, connect the brand's own account: the integrations answer."""
        r = self.callback(self.consent(self.authorize(platform)))
        assert r.status_code == 302, r.json
        assert r.headers["Location"] == f"/onboarding/{BRAND}?step=accounts&platform={platform}"
        listed = self.client.get(f"/api/brands/{BRAND}/integrations/{platform}/accounts", headers=self.headers())
        assert listed.status_code == 200, listed.json
        own = next(a for a in sample_accounts(seed=5, brand_id=BRAND) if a.platform == platform)
        assert [a["id"] for a in listed.json["accounts"]] == sorted([own.account_id, OTHER_ACCOUNT[platform]])
        mine = next(a for a in listed.json["accounts"] if a["id"] == own.account_id)
        assert (mine["currency"], mine["time_zone"]) == ("EUR", "Europe/Berlin") and mine["name"]
        done = self.client.post(f"/api/brands/{BRAND}/integrations/{platform}/accounts", headers=self.headers(),
                                json={"account_ids": [own.account_id]})
        assert done.status_code == 202, done.json
        return list(done.json["integrations"])

    def sync(self, platform: str) -> str:
        """Another sync, the way the hourly task runs it (its outcome recorded on the integration)."""
        return str(run_sync(self.runtime, BRAND, platform)["status"])

    def integration(self, platform: str) -> dict[str, Any]:
        r = self.client.get(f"/api/brands/{BRAND}/integrations", headers=self.headers())
        assert r.status_code == 200, r.json
        return next(i for i in r.json["integrations"] if i["platform"] == platform)


@pytest.fixture
def world(tmp_path: Any) -> Iterator[World]:
    yield from make_world(tmp_path)


def make_world(tmp_path: Any, **settings: Any) -> Iterator[World]:
    """The brand, both sandboxes' accounts and the API on them (``settings`` added to the runtime's)."""
    accounts = sample_accounts(seed=5, brand_id=BRAND, start=date(2026, 9, 20), days=20, currency="EUR",
                               timezone="Europe/Berlin")
    others = [dataclasses.replace(a, account_id=OTHER_ACCOUNT[a.platform], brand_id="someone_else",
                                  name=f"Another {a.platform} account", campaigns={}, products={}, performance={})
              for a in accounts]
    sandboxes = start_ad_sandboxes(accounts + others)
    for platform, (client_id, secret) in APPS.items():
        sandboxes.get(platform).oauth.register(client_id, secret, {f"{REDIRECT_BASE}/oauth/{platform}/callback"})
    runtime = sandbox_runtime(tmp_path, sandboxes, ads_history_days=90, ad_oauth_redirect_base=REDIRECT_BASE,
                              meta_app_id=APPS["meta"][0], meta_app_secret=APPS["meta"][1],
                              tiktok_app_id=APPS["tiktok"][0], tiktok_app_secret=APPS["tiktok"][1],
                              google_ads_client_id=APPS["google_ads"][0],
                              google_ads_client_secret=APPS["google_ads"][1], **settings)
    add_brand(runtime.warehouse, brand_id=BRAND, name="Oauth Brand", timezone="Europe/Berlin", currency="EUR",
              now=datetime(2026, 10, 1, tzinfo=UTC))
    key = create_api_key(runtime.store, brand_ids=[BRAND], name="oauth-test")
    clock = [datetime.now(UTC)]
    app = create_app(runtime, clock=lambda: clock[0])
    try:
        yield World(app.test_client(), key, runtime, sandboxes, clock)
    finally:
        sandboxes.stop()
        runtime.close()


def _no_token_outside_secrets(w: World, token: str) -> None:
    """The token is in the secret store's grant, and nowhere in the warehouse's rows or the document store's file."""
    rows = w.runtime.warehouse.rows("SELECT * FROM integrations WHERE brand_id = @b", {"b": BRAND})
    assert rows and token not in json.dumps(rows, default=str)
    store_file = w.runtime.settings.data_dir / "store.sqlite"
    assert store_file.exists() and token.encode() not in store_file.read_bytes()


@pytest.mark.parametrize("platform", ["meta", "tiktok", "google_ads"])
def test_connect_by_oauth_then_sync(world: World, platform: str) -> None:
    connected = world.connect_flow(platform)
    own = next(a for a in sample_accounts(seed=5, brand_id=BRAND) if a.platform == platform)
    assert [(i["account_id"], i["account_currency"]) for i in connected] == [(own.account_id, "EUR")]
    grant = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, platform)))
    assert grant is not None and grant["access_token"]
    _no_token_outside_secrets(world, grant["access_token"])
    # The first sync is on the sync queue, for the platform's sync function.
    assert world.runtime.tasks.pending(names.QUEUE_SYNC) == 1
    # The grant is what that sync uses: run as the queue runs it, it pulls the account's data.
    wire_local(world.runtime)
    assert world.runtime.tasks.drain() == 1
    n = world.runtime.warehouse.rows("SELECT COUNT(*) AS n FROM ad_performance WHERE brand_id = @b AND "
                                     "platform = @p", {"b": BRAND, "p": platform})[0]["n"]
    assert n > 0
    row = world.integration(platform)
    assert (row["status"], row["last_sync_status"], row["needs_reconnect"]) == ("connected", "ok", False)


def test_meta_token_is_exchanged_for_a_long_lived_one(world: World) -> None:
    world.connect_flow("meta")
    grant = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "meta")))
    assert world.sandboxes.meta.oauth.served == ["authorization_code", "fb_exchange_token"]
    expires = datetime.fromisoformat(grant["expires_at"])
    assert timedelta(days=59) < expires - world.clock[0] < timedelta(days=61)


def test_google_grant_has_a_refresh_token_and_the_hour_long_access_token(world: World) -> None:
    url = world.authorize("google_ads")
    q = parse_qs(urlsplit(url).query)
    assert q["access_type"] == ["offline"] and q["prompt"] == ["consent"]
    assert q["scope"] == ["https://www.googleapis.com/auth/adwords"]
    world.callback(world.consent(url))
    grant = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "google_ads")))
    assert grant["refresh_token"].startswith("1//")
    assert timedelta(minutes=58) < datetime.fromisoformat(grant["expires_at"]) - world.clock[0] <= timedelta(hours=1)


def test_google_access_token_expiring_mid_sync_is_refreshed_and_the_sync_completes(world: World) -> None:
    world.connect_flow("google_ads")
    before = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "google_ads")))
    google = world.sandboxes.google_ads
    # The third query finds the access token expired (as when its hour runs out mid-sync).
    google.faults.add("token_expired", endpoint="search_stream", after=2, times=1)
    assert world.sync("google_ads") == "ok"
    assert google.faults.count("token_expired") == 1
    assert google.oauth.served.count("refresh_token") == 1
    after = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "google_ads")))
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]
    assert world.integration("google_ads")["status"] == "connected"


def test_google_token_past_its_hour_is_refreshed_before_the_first_call(world: World) -> None:
    world.connect_flow("google_ads")
    google = world.sandboxes.google_ads
    google.registry.advance(3700)  # the sandbox's hour is up
    stored = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "google_ads")))
    stored["expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()  # and ours says so
    world.runtime.secrets.rotate(grant_secret_id(BRAND, "google_ads"), json.dumps(stored))
    assert world.sync("google_ads") == "ok"
    assert google.oauth.served.count("refresh_token") == 1
    assert google.faults.count() == 0


def test_google_refused_refresh_needs_reconnect(world: World) -> None:
    world.connect_flow("google_ads")
    google = world.sandboxes.google_ads
    grant = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "google_ads")))
    google.oauth.revoke(grant["refresh_token"])  # the person removed the app's access in their Google account
    assert world.sync("google_ads") == "needs_reauth"
    row = world.integration("google_ads")
    assert row["status"] == "needs_reconnect" and row["needs_reconnect"] is True
    assert "invalid_grant" in row["reconnect_reason"]
    health = integration_health(world.runtime.warehouse, world.runtime.store, brand_ids=[BRAND])
    assert any("needs reconnecting" in p and "invalid_grant" in p for p in problems(health))


def test_meta_token_expired_after_sixty_days_needs_reconnect(world: World) -> None:
    world.connect_flow("meta")
    world.sandboxes.meta.registry.advance(61 * 24 * 3600)
    assert world.sync("meta") == "needs_reauth"
    row = world.integration("meta")
    assert row["status"] == "needs_reconnect" and "190" in (row["reconnect_reason"] or "")


def test_tiktok_revoked_token_needs_reconnect(world: World) -> None:
    world.connect_flow("tiktok")
    r = world.client.delete(f"/api/brands/{BRAND}/integrations/tiktok/authorization", headers=world.headers())
    assert r.status_code == 200 and r.json == {"revoked": True}
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "tiktok"))
    assert world.sandboxes.tiktok.oauth.served[-1] == "revoke"
    row = world.integration("tiktok")
    assert (row["status"], row["state"]) == ("needs_reconnect", "revoked")
    assert row["reconnect_reason"].startswith("its authorization was revoked")
    assert world.sync("tiktok") == "failed"  # nothing is called with a revoked grant
    again = world.client.delete(f"/api/brands/{BRAND}/integrations/tiktok/authorization", headers=world.headers())
    assert again.status_code == 409 and again.json["error"]["code"] == "not_authorized"
    listed = world.client.get(f"/api/brands/{BRAND}/integrations/tiktok/accounts", headers=world.headers())
    assert listed.status_code == 409 and listed.json["error"]["code"] == "not_authorized"


# -- the state: single use, short-lived, one platform's --------------------------------------------------
def _state_refused(world: World, query: str, status: int, code: str) -> None:
    r = world.client.get(f"/oauth/meta/callback?{query}")
    assert r.status_code == status, r.data
    assert r.json["error"]["code"] == code


def test_reused_state_is_refused(world: World) -> None:
    location = world.consent(world.authorize("meta"))
    assert world.callback(location).status_code == 302
    again = world.callback(location)
    assert again.status_code == 401 and again.json["error"]["code"] == "invalid_state"


def test_unknown_malformed_missing_and_expired_states_are_refused(world: World) -> None:
    _state_refused(world, "code=abc&state=" + "x" * 43, 401, "invalid_state")
    _state_refused(world, "code=abc&state=<script>", 401, "invalid_state")
    _state_refused(world, "code=abc", 400, "missing_state")
    location = world.consent(world.authorize("meta"))
    world.clock[0] += timedelta(minutes=11)
    r = world.callback(location)
    assert r.status_code == 401 and r.json["error"]["code"] == "expired_state"
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "meta"))


def test_another_platforms_state_is_refused(world: World) -> None:
    location = world.consent(world.authorize("tiktok"))
    state = parse_qs(urlsplit(location).query)["state"][0]
    _state_refused(world, f"code=abc&state={state}", 401, "invalid_state")


def test_declined_consent_goes_back_to_the_wizard_with_the_error(world: World) -> None:
    r = world.callback(world.consent(world.authorize("google_ads"), decision="deny"))
    assert r.status_code == 302
    assert r.headers["Location"] == f"/onboarding/{BRAND}?step=accounts&platform=google_ads&error=access_denied"
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "google_ads"))


def test_replayed_code_is_refused_by_the_platform(world: World) -> None:
    location = world.consent(world.authorize("tiktok"))
    assert world.callback(location).status_code == 302
    code = parse_qs(urlsplit(location).query)["auth_code"][0]
    # A fresh state with the used code: the state passes, TikTok refuses the code.
    fresh = parse_qs(urlsplit(world.authorize("tiktok")).query)["state"][0]
    r = world.client.get(f"/oauth/tiktok/callback?auth_code={code}&state={fresh}")
    assert r.status_code == 302 and r.headers["Location"].endswith("&error=code_refused")


def test_bad_requests_name_the_problem(world: World) -> None:
    h = world.headers()
    r = world.client.post(f"/api/brands/{BRAND}/integrations/snapchat/authorize", headers=h)
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_platform"
    r = world.client.get(f"/api/brands/{BRAND}/integrations/meta/accounts", headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "not_authorized"
    world.connect_flow("meta")
    r = world.client.post(f"/api/brands/{BRAND}/integrations/meta/accounts", headers=h,
                          json={"account_ids": ["555"]})
    assert r.status_code == 400 and r.json["error"]["code"] == "unknown_account" and "555" in r.json["error"]["message"]
    r = world.client.post(f"/api/brands/{BRAND}/integrations/meta/accounts", headers=h, json={"account_ids": []})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_body"
    r = world.client.post("/api/brands/someone_else/integrations/meta/authorize", headers=h)
    assert r.status_code in (403, 404)
    r = world.client.post(f"/api/brands/{BRAND}/integrations/meta/authorize")
    assert r.status_code == 401


def test_tiktok_token_revoked_at_tiktok_needs_reconnect(world: World) -> None:
    world.connect_flow("tiktok")
    grant = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "tiktok")))
    world.sandboxes.tiktok.oauth.revoke(grant["access_token"])  # the advertiser removed the app in TikTok
    assert world.sync("tiktok") == "needs_reauth"
    row = world.integration("tiktok")
    assert row["status"] == "needs_reconnect" and "40105" in row["reconnect_reason"]
    listed = world.client.get(f"/api/brands/{BRAND}/integrations/tiktok/accounts", headers=world.headers())
    assert listed.status_code == 409 and listed.json["error"]["code"] == "needs_reconnect"


def test_a_meta_grant_ending_within_a_week_warns_with_the_date(world: World) -> None:
    world.connect_flow("meta")
    assert world.sync("meta") == "ok"
    assert world.integration("meta")["warnings"] == []
    secret_id = grant_secret_id(BRAND, "meta")
    grant = parse_grant(world.runtime.secrets.get(secret_id))
    ends = datetime.now(UTC) + timedelta(days=3)
    world.runtime.secrets.rotate(secret_id, json.dumps({**grant, "expires_at": ends.isoformat()}))
    assert world.sync("meta") == "ok"
    [warning] = world.integration("meta")["warnings"]
    assert warning["code"] == "authorization_expiring" and f"{ends:%Y-%m-%d}" in warning["message"]
    # Reconnected: a fresh ~60-day grant, and the warning goes at the next sync.
    world.connect_flow("meta")
    assert world.sync("meta") == "ok"
    assert world.integration("meta")["warnings"] == []


# -- the person who started finishes: the browser binding and the signed-in principal ------------------------
def _session_cookie(world: World, key: str) -> str:
    """A live session for the API key's principal, as POST /api/session opens one."""
    principal = key_principal(world.runtime.store, key, now=world.clock[0])
    assert principal is not None
    session_id, _ = create_session(world.runtime.store, principal, now=world.clock[0])
    return session_id


def test_a_consent_link_finished_in_another_browser_attaches_nothing(world: World) -> None:
    location = world.consent(world.authorize("meta"))  # the sender's browser holds the binding cookie
    elsewhere = world.client.application.test_client()  # the person the link was sent to
    parts = urlsplit(location)
    r = elsewhere.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 302
    assert r.headers["Location"] == f"/onboarding/{BRAND}?step=accounts&platform=meta&error=other_browser"
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "meta"))
    assert world.sandboxes.meta.oauth.served == []  # the code was never traded
    # The state is used up: the sender's own browser cannot finish with it afterwards either.
    assert world.callback(location).status_code == 401


def test_a_forged_binding_cookie_is_refused(world: World) -> None:
    location = world.consent(world.authorize("tiktok"))
    forger = world.client.application.test_client()
    forger.set_cookie(BROWSER_COOKIE, "f" * 43)
    parts = urlsplit(location)
    r = forger.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 302 and r.headers["Location"].endswith("&error=other_browser")
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "tiktok"))


def test_the_binding_cookie_is_httponly_lax_and_one_per_browser(world: World) -> None:
    r = world.client.post(f"/api/brands/{BRAND}/integrations/google_ads/authorize", headers=world.headers())
    [cookie] = [c for c in r.headers.getlist("Set-Cookie") if c.startswith(f"{BROWSER_COOKIE}=")]
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path", "max-age"} <= attrs and "SameSite=Lax" in cookie
    # One secret per browser: a second flow (another platform, in parallel) keeps it, so both can finish.
    first = world.client.get_cookie(BROWSER_COOKIE).value
    meta = world.consent(world.authorize("meta"))
    assert world.client.get_cookie(BROWSER_COOKIE).value == first
    google = world.consent(r.json["authorize_url"])
    assert world.callback(google).headers["Location"].endswith("platform=google_ads")
    assert world.callback(meta).headers["Location"].endswith("platform=meta")


def test_a_browser_signed_in_as_someone_else_cannot_finish(world: World) -> None:
    location = world.consent(world.authorize("google_ads"))  # started with the brand's key
    other_key = create_api_key(world.runtime.store, brand_ids=[BRAND], name="a colleague")
    world.client.set_cookie(COOKIE, _session_cookie(world, other_key))
    r = world.callback(location)
    assert r.status_code == 302 and r.headers["Location"].endswith("&error=other_person")
    assert not world.runtime.secrets.exists(grant_secret_id(BRAND, "google_ads"))


def test_the_same_person_signed_in_finishes(world: World) -> None:
    location = world.consent(world.authorize("google_ads"))
    world.client.set_cookie(COOKIE, _session_cookie(world, world.key))  # the starter's own session
    r = world.callback(location)
    assert r.headers["Location"] == f"/onboarding/{BRAND}?step=accounts&platform=google_ads"
    grant = parse_grant(world.runtime.secrets.get(grant_secret_id(BRAND, "google_ads")))
    assert grant is not None and grant["authorized_by"] == "api:oauth-test"


# -- Google manager accounts: an agency's grant reaches the brand's account through its manager ---------------
MANAGER = "5550007777"


def test_a_client_of_the_agencys_manager_is_listed_connected_and_synced_through_it(world: World) -> None:
    google = world.sandboxes.google_ads
    own = next(a for a in sample_accounts(seed=5, brand_id=BRAND) if a.platform == "google_ads")
    google.add_manager(MANAGER, "Agency MCC", [own.account_id, OTHER_ACCOUNT["google_ads"]],
                       currency="EUR", timezone="Europe/Berlin")
    google.oauth.user_accounts = {MANAGER}  # the person approving is a user of the manager account only
    r = world.callback(world.consent(world.authorize("google_ads")))
    assert r.headers["Location"] == f"/onboarding/{BRAND}?step=accounts&platform=google_ads"
    listed = world.client.get(f"/api/brands/{BRAND}/integrations/google_ads/accounts", headers=world.headers())
    assert listed.status_code == 200, listed.json
    assert [(a["id"], a["manager_id"]) for a in listed.json["accounts"]] == sorted(
        [(own.account_id, MANAGER), (OTHER_ACCOUNT["google_ads"], MANAGER)])  # the manager itself is not offered
    mine = next(a for a in listed.json["accounts"] if a["id"] == own.account_id)
    assert (mine["currency"], mine["time_zone"]) == ("EUR", "Europe/Berlin")
    done = world.client.post(f"/api/brands/{BRAND}/integrations/google_ads/accounts", headers=world.headers(),
                             json={"account_ids": [own.account_id]})
    assert done.status_code == 202, done.json
    # The manager is kept with the integration (the settings' login customer id stays the default of others).
    [row] = world.runtime.warehouse.rows("SELECT login_customer_id FROM integrations WHERE brand_id = @b AND "
                                         "platform = 'google_ads'", {"b": BRAND})
    assert row["login_customer_id"] == MANAGER and world.runtime.settings.google_ads_login_customer_id != MANAGER
    # The first sync signs in through the manager: without it the sandbox, as Google, refuses the client.
    google.metadata.clear()
    wire_local(world.runtime)
    assert world.runtime.tasks.drain() == 1
    assert world.integration("google_ads")["last_sync_status"] == "ok"
    n = world.runtime.warehouse.rows("SELECT COUNT(*) AS n FROM ad_performance WHERE brand_id = @b AND "
                                     "platform = 'google_ads'", {"b": BRAND})[0]["n"]
    assert n > 0
    assert google.metadata and {m.get("login-customer-id") for m in google.metadata} == {MANAGER}


# -- Meta: ad accounts reached through the person's businesses (an agency's Business Manager) -----------------
AGENCY_BUSINESS = "1780000111222"


def test_meta_picker_lists_the_accounts_of_the_persons_businesses(world: World) -> None:
    meta = world.sandboxes.meta
    own = next(a for a in sample_accounts(seed=5, brand_id=BRAND) if a.platform == "meta")
    # The agency's business has the brand's account as a client's and owns another; the person reaches the
    # business only (no ad account assigned to them directly).
    meta.add_business(AGENCY_BUSINESS, "Agency BM", owned=(OTHER_ACCOUNT["meta"],), client=(f"act_{own.account_id}",))
    meta.oauth.user_accounts = {AGENCY_BUSINESS}
    url = world.authorize("meta")
    assert parse_qs(urlsplit(url).query)["scope"] == ["ads_read,ads_management,business_management"]
    assert world.callback(world.consent(url)).status_code == 302
    listed = world.client.get(f"/api/brands/{BRAND}/integrations/meta/accounts", headers=world.headers())
    assert listed.status_code == 200, listed.json
    assert [a["id"] for a in listed.json["accounts"]] == sorted([own.account_id, OTHER_ACCOUNT["meta"]])
    mine = next(a for a in listed.json["accounts"] if a["id"] == own.account_id)
    assert (mine["currency"], mine["time_zone"]) == ("EUR", "Europe/Berlin")
    paths = [p for _m, p, _q in meta.calls]
    assert any(p.endswith(f"/{AGENCY_BUSINESS}/client_ad_accounts") for p in paths)
    assert any(p.endswith(f"/{AGENCY_BUSINESS}/owned_ad_accounts") for p in paths)
    # Connected, the account syncs with the same grant (reached through the business).
    done = world.client.post(f"/api/brands/{BRAND}/integrations/meta/accounts", headers=world.headers(),
                             json={"account_ids": [own.account_id]})
    assert done.status_code == 202, done.json
    assert world.sync("meta") == "ok"


def test_meta_business_the_token_does_not_reach_is_refused_by_the_sandbox(world: World) -> None:
    meta = world.sandboxes.meta
    meta.add_business(AGENCY_BUSINESS, "Agency BM", owned=(OTHER_ACCOUNT["meta"],))
    token = meta.issue_token()  # every account, but no business
    r = requests.get(f"{meta.origin}/v26.0/{AGENCY_BUSINESS}/owned_ad_accounts",
                     params={"access_token": token, "fields": "account_id"}, timeout=10)
    assert r.status_code == 400 and (r.json()["error"]["code"], r.json()["error"]["error_subcode"]) == (100, 33)
    assert requests.get(f"{meta.origin}/v26.0/me/businesses", params={"access_token": token},
                        timeout=10).json()["data"] == []
