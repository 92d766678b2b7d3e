"""ETag / If-None-Match on the API's GET answers (issue 16): the page polls and gets a bodyless 304 while nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from api_seed import AGENCY, BRAND, bearer
from flask.testing import FlaskClient

PATHS = [f"/api/brands/{BRAND}/dashboard", f"/api/brands/{BRAND}/alerts", f"/api/brands/{BRAND}/series",
         f"/api/brands/{BRAND}/dashboard?period=last_30_days&compare=previous_year", "/api/openapi.json",
         "/api/agency/overview"]


@pytest.mark.parametrize("path", PATHS)
def test_a_get_is_tagged_and_a_matching_if_none_match_is_a_bodyless_304(client: FlaskClient, keys: dict[str, str],
                                                                        path: str) -> None:
    auth = bearer(keys["agency"])
    first = client.get(path, headers=auth)
    assert first.status_code == 200, first.json
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    again = client.get(path, headers={**auth, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == tag
    assert again.headers["X-Content-Type-Options"] == "nosniff"  # the security headers still apply


def test_the_tag_changes_when_the_body_does(client: FlaskClient, keys: dict[str, str]) -> None:
    auth = bearer(keys["agency"])
    week = client.get(f"/api/brands/{BRAND}/series?period=last_week", headers=auth)
    month = client.get(f"/api/brands/{BRAND}/series?period=last_30_days", headers=auth)
    assert week.headers["ETag"] != month.headers["ETag"]
    stale = client.get(f"/api/brands/{BRAND}/series?period=last_30_days",
                       headers={**auth, "If-None-Match": week.headers["ETag"]})
    body: Any = stale.json
    assert stale.status_code == 200 and body["range"]["period"]["name"] == "last_30_days"


def test_errors_and_posts_carry_no_etag(client: FlaskClient, keys: dict[str, str]) -> None:
    auth = bearer(keys["agency"])
    bad = client.get(f"/api/brands/{BRAND}/dashboard?start=nope&end=2026-11-20", headers=auth)
    assert bad.status_code == 400 and "ETag" not in bad.headers
    posted = client.post(f"/api/brands/{BRAND}/ask", json={"question": "How did Meta do last week?"}, headers=auth)
    assert posted.status_code == 200 and "ETag" not in posted.headers


def test_every_get_route_is_tagged(client: FlaskClient, runtime: Any, keys: dict[str, str]) -> None:
    """Each GET rule the app has (filled with a brand and a channel), with a key that may read it."""
    from tower.api.auth import create_api_key

    operator = bearer(create_api_key(runtime.store, operator=True, name="ops"))
    # Signed links a person's browser follows, not data the page reads: Shopify's install and callback
    # (redirects, or errors until the query carries Shopify's HMAC) and the e-mail's unsubscribe link
    # (its token names one recipient); their own tests cover them.
    # The ad platforms' OAuth callback is such a link too (its state authenticates it), and the account
    # picker asks the platform live with the brand's grant (test_api_ad_oauth covers both).
    signed = {"/shopify/install", "/shopify/callback", "/api/notify/unsubscribe", "/oauth/<platform>/callback",
              "/api/brands/<brand_id>/integrations/<platform>/accounts",
              "/shopify/billing/return",  # Shopify's return after its charge page: a redirect
              "/shopify/patch-id-token"}  # App Bridge's bounce page for a stale session token (HTML)
    rules = [r for r in client.application.url_map.iter_rules()
             if "GET" in (r.methods or ()) and r.rule not in signed]
    assert len(rules) >= 10
    for rule in rules:
        path = rule.rule.replace("<brand_id>", BRAND).replace("<channel>", "meta").replace("<agency_id>", AGENCY)
        assert "<" not in path, f"fill the parameters of {rule.rule} in this test"
        # the operator registers agencies and manages any brand's or agency's people
        auth = operator if rule.endpoint.startswith(("agencies.", "members.")) else bearer(keys["agency"])
        first = client.get(path, headers=auth)
        assert first.status_code == 200, (path, first.json)
        assert first.headers.get("ETag"), path
        again = client.get(path, headers={**auth, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", path
