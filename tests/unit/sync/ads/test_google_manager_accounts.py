"""Google Ads manager (MCC) accounts through the SDK against the gRPC sandbox: ``customer_client``, the
``login-customer-id`` rule, and the account picker that lists a manager's clients.

The hierarchy: the agency's manager 5550001111 manages the shop's advertiser 4440001111 and a sub-manager
5550002222, which manages 4440002222 (level 2) and a cancelled 4440003333. The person's token reaches the
manager alone, plus one advertiser 4440009999 directly. Time zones and currencies are the shops' own
(Australia, Japan), nothing of the demo's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tower.adapters.local_secrets import LocalSecrets
from tower.config import Settings
from tower.connectors.google_ads.client import GoogleAdsApiClient
from tower.connectors.retry import NeedsReauth, RetryPolicy
from tower.sync import ad_oauth
from tower.sync.grants import store_grant
from tower_dev.sandboxes.ad_sandbox import SandboxAccount
from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox

MANAGER, SUB = "5550001111", "5550002222"
SHOP, DEEP, CANCELLED, DIRECT = "4440001111", "4440002222", "4440003333", "4440009999"


def _account(account_id: str, name: str, currency: str, tz: str) -> SandboxAccount:
    return SandboxAccount("google_ads", account_id, brand_id="brand_mcc", currency=currency, timezone=tz, name=name)


@pytest.fixture
def google() -> Iterator[GoogleAdsSandbox]:
    box = GoogleAdsSandbox([_account(SHOP, "Koala Teas AU", "AUD", "Australia/Sydney"),
                            _account(DEEP, "Koala Teas JP", "JPY", "Asia/Tokyo"),
                            _account(CANCELLED, "Old shop", "AUD", "Australia/Perth"),
                            _account(DIRECT, "Founder's own", "AUD", "Australia/Brisbane")])
    box.add_manager(SUB, "Agency APAC", [DEEP, CANCELLED], currency="AUD", timezone="Australia/Sydney")
    box.add_manager(MANAGER, "Agency MCC", [SHOP, SUB], currency="AUD", timezone="Australia/Sydney")
    box.customer_status[CANCELLED] = "CANCELED"
    try:
        yield box
    finally:
        box.stop()


def _client(box: GoogleAdsSandbox, token: str, login: str | None = None) -> GoogleAdsApiClient:
    return GoogleAdsApiClient(token, developer_token="dev", login_customer_id=login, endpoint=box.endpoint,
                              version="v26", policy=RetryPolicy(attempts=1))


def _ids(rows: list[Any]) -> list[tuple[int, int, bool]]:
    return [(r.customer_client.id, r.customer_client.level, r.customer_client.manager) for r in rows]


def test_customer_client_is_the_managers_whole_tree_with_levels(google: GoogleAdsSandbox) -> None:
    client = _client(google, google.issue_token(MANAGER), login=MANAGER)
    try:
        every = client.search(MANAGER, "SELECT customer_client.id, customer_client.level, customer_client.manager "
                                       "FROM customer_client")
        assert sorted(_ids(every)) == [(int(SHOP), 1, False), (int(DEEP), 2, False), (int(CANCELLED), 2, False),
                                       (int(MANAGER), 0, True), (int(SUB), 1, True)]
        direct = client.search(MANAGER, "SELECT customer_client.id, customer_client.level, customer_client.manager "
                                        "FROM customer_client WHERE customer_client.level <= 1 "
                                        "AND customer_client.manager = FALSE")
        assert _ids(direct) == [(int(SHOP), 1, False)]
        [row] = client.search(MANAGER, "SELECT customer_client.id, customer_client.status, "
                                       "customer_client.client_customer FROM customer_client "
                                       "WHERE customer_client.id = 4440003333")
        assert row.customer_client.client_customer == f"customers/{CANCELLED}"
        assert row.customer_client.status == 3  # CustomerStatus.CANCELED
    finally:
        client.close()


def test_a_client_reached_through_a_manager_needs_its_login_customer_id(google: GoogleAdsSandbox) -> None:
    token = google.issue_token(MANAGER)
    query = "SELECT customer.id, customer.currency_code FROM customer"
    bare = _client(google, token)
    try:
        with pytest.raises(NeedsReauth, match="USER_PERMISSION_DENIED|permission to access customer") as refused:
            bare.search(DEEP, query)
        assert refused.value.code == "PERMISSION_DENIED"
        # The same request signed in through the manager (two levels up) is served.
        assert [r.customer.currency_code for r in bare.search(DEEP, query, login_customer_id=MANAGER)] == ["JPY"]
        # A manager is no way into an account outside its tree.
        with pytest.raises(NeedsReauth):
            bare.search(DIRECT, query, login_customer_id=MANAGER)
    finally:
        bare.close()
    assert [m.get("login-customer-id") for m in google.metadata] == [None, MANAGER, MANAGER]
    # ListAccessibleCustomers lists only what the token reaches directly (login-customer-id is ignored).
    service = (lister := _client(google, token, login=MANAGER)).service("CustomerService")
    try:
        assert list(service.list_accessible_customers(request={}).resource_names) == [f"customers/{MANAGER}"]
    finally:
        lister.close()


def test_a_client_with_its_own_login_customer_takes_no_second_one(google: GoogleAdsSandbox) -> None:
    client = _client(google, google.issue_token(MANAGER), login=MANAGER)
    try:
        with pytest.raises(ValueError, match="its own login customer id"):
            client.search(SHOP, "SELECT customer.id FROM customer", login_customer_id=SUB)
    finally:
        client.close()


def test_the_picker_lists_the_managers_enabled_advertisers_and_the_direct_ones(google: GoogleAdsSandbox,
                                                                               tmp_path: Path) -> None:
    token = google.issue_token(MANAGER, DIRECT)
    settings = Settings(google_ads_endpoint=google.endpoint, google_ads_developer_token="dev",
                        google_ads_login_customer_id="1112223333", google_ads_client_id="mcc-test.apps",
                        google_ads_client_secret="mcc-test-secret")
    secrets = LocalSecrets(tmp_path)
    store_grant(secrets, "brand_mcc", "google_ads", {"kind": "oauth", "access_token": token})
    listed = ad_oauth.list_accounts(settings, secrets, "brand_mcc", "google_ads")
    # The managers are not offered (no metrics), nor the cancelled client; the level-2 one is.
    assert [a["id"] for a in listed] == sorted([SHOP, DEEP, DIRECT])
    by_id = {a["id"]: a for a in listed}
    assert by_id[SHOP] == {"id": SHOP, "name": "Koala Teas AU", "currency": "AUD", "time_zone": "Australia/Sydney",
                           "manager_id": MANAGER}
    assert (by_id[DEEP]["currency"], by_id[DEEP]["time_zone"], by_id[DEEP]["manager_id"]) == \
        ("JPY", "Asia/Tokyo", MANAGER)
    assert by_id[DIRECT]["manager_id"] is None and by_id[DIRECT]["time_zone"] == "Australia/Brisbane"
    # Each tree was asked signed in as its own root, whatever the settings' default login customer.
    asked = sorted(cid for cid, q in google.queries if "customer_client" in q)
    assert asked == sorted([MANAGER, DIRECT])
    assert {m.get("login-customer-id") for m in google.metadata if m.get("login-customer-id")} == {MANAGER, DIRECT}


def test_a_client_under_two_managers_is_listed_once_and_direct_access_wins(google: GoogleAdsSandbox,
                                                                          tmp_path: Path) -> None:
    google.add_manager("5550003333", "Second agency", [SHOP, DIRECT])
    token = google.issue_token(MANAGER, "5550003333", DIRECT)
    settings = Settings(google_ads_endpoint=google.endpoint, google_ads_developer_token="dev",
                        google_ads_client_id="mcc-test.apps", google_ads_client_secret="mcc-test-secret")
    secrets = LocalSecrets(tmp_path)
    store_grant(secrets, "brand_mcc", "google_ads", {"kind": "oauth", "access_token": token})
    by_id = {a["id"]: a for a in ad_oauth.list_accounts(settings, secrets, "brand_mcc", "google_ads")}
    assert sorted(by_id) == sorted([SHOP, DEEP, DIRECT])
    assert by_id[SHOP]["manager_id"] == MANAGER  # the first manager by id (5550001111 < 5550003333)
    assert by_id[DIRECT]["manager_id"] is None
