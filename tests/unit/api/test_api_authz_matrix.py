"""The authorisation matrix: every route × every role × its own and a foreign brand or agency, by bearer
key and by session cookie (with the CSRF token); the merchant owner also by the embedded app's Shopify
session token (a fresh one in Authorization on every request, no cookie, no CSRF token).

The expectations are written here from the roles' definitions (tower.identity.roles' table), not read
from the API's own endpoint map, and :func:`test_every_route_is_in_the_matrix` fails when a route is
added without a row. Allowed cells must get past authentication and the role check (anything but 401 and
403, and never a 5xx); denied cells must be 401 without a credential and 403 (or 404 for another scope's
key or recipient, which answer as unknown ones do) with one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from api_seed import AGENCY, BRAND, NOW, OUTSIDER, bearer
from flask.testing import FlaskClient

from tower.api.app import create_app
from tower.api.auth import create_api_key, hash_key
from tower.api.limits import AuthFailureLimiter
from tower.identity.sessions import CSRF_HEADER
from tower.runtime import Runtime
from tower_dev.sandboxes.shopify_store.oauth import session_token

FOREIGN_AGENCY = "agency_other"  # holds OUTSIDER
SHOPIFY_APP = ("matrix-shopify-client", "matrix-shopify-app-secret-32-bytes!")
SHOP = "matrix-own-brand.myshopify.com"  # the shop of BRAND; OUTSIDER's is another
ROLES = ("merchant_owner", "merchant_viewer", "agency_admin", "agency_member", "operator")
MERCHANT = {"merchant_owner", "merchant_viewer"}
AGENCY_ROLES = {"agency_admin", "agency_member"}
DECIDERS = {"merchant_owner", "agency_admin", "agency_member"}
SETTINGS = {"merchant_owner", "agency_admin"}
KEY_MANAGERS = {"merchant_owner", "agency_admin", "operator"}
EVERYONE = set(ROLES)
TEAM = {"merchant_owner", "operator"}

#: endpoint -> (who may, on which target kind, the request's body). Targets: "brand" (own = BRAND, foreign
#: = OUTSIDER; the operator covers no brand), "agency" (own = AGENCY, foreign = FOREIGN_AGENCY; the operator
#: has every agency), "team" (a brand's people: own = BRAND, foreign = OUTSIDER; the operator has every brand's),
#: "recipient", "key" (own scope's key, another scope's), or None (no target).
MATRIX: dict[str, tuple[set[str], str | None, Any]] = {
    "brands.dashboard": (EVERYONE - {"operator"}, "brand", None),
    "brands.series": (EVERYONE - {"operator"}, "brand", None),
    "brands.products": (EVERYONE - {"operator"}, "brand", None),
    "brands.alerts": (EVERYONE - {"operator"}, "brand", None),
    "brands.recommendations": (EVERYONE - {"operator"}, "brand", None),
    "brands.drilldown_channel": (EVERYONE - {"operator"}, "brand", None),
    "brands.accept": (DECIDERS, "brand", {"dry_run": True}),
    "brands.dismiss": (DECIDERS, "brand", {"reason": "matrix"}),
    "brands.undo": (DECIDERS, "brand", {}),
    "brands.ask": (EVERYONE - {"operator"}, "brand", {"question": "How did Meta do last week?"}),
    "brand_settings.settings_get": (EVERYONE - {"operator"}, "brand", None),
    "brand_settings.settings_put": (SETTINGS, "brand", {}),
    "brand_settings.regions_get": (EVERYONE - {"operator"}, "brand", None),
    "brand_settings.regions_put": (SETTINGS, "brand", {"location_id": "matrix"}),
    "brand_settings.regions_delete": (SETTINGS, "brand", None),
    "brand_records.integrations": (EVERYONE - {"operator"}, "brand", None),
    "brand_records.decisions": (EVERYONE - {"operator"}, "brand", None),
    "agency.agency_overview": (EVERYONE, None, None),
    "agencies.agencies_list": ({"operator"}, None, None),
    "agencies.agencies_add": ({"operator"}, None, {"agency_id": "matrix-agency", "name": "Matrix"}),
    "agencies.agencies_attach": ({"operator"}, "agency", {"brand_ids": [BRAND]}),
    "access.invite": ({"agency_admin", "operator"}, "agency", {"email": "new@example.com", "role": "agency_member"}),
    "notify.notifications": (AGENCY_ROLES, None, None),
    "notify.recipients_add": ({"agency_admin"}, None,
                              {"recipient_id": "matrix", "channel": "email", "address": "m@example.com"}),
    "notify.recipients_remove": ({"agency_admin"}, "recipient", None),
    "notify.mutes_add": ({"agency_admin"}, "recipient", {"brand_id": BRAND, "alert_type": "*"}),
    "notify.mutes_remove": ({"agency_admin"}, "recipient", None),
    "access.keys_list": (KEY_MANAGERS, None, None),
    "access.keys_create": (KEY_MANAGERS, None, {"name": "matrix"}),
    "access.keys_rotate": (KEY_MANAGERS, "key", None),
    "access.keys_revoke": (KEY_MANAGERS, "key", None),
    "session.session_get": (EVERYONE, None, None),
    "session.session_delete": (EVERYONE, None, None),
    # a brand's ad-platform grant and accounts are its setup (the picker lists accounts beyond the brand's)
    "ad_oauth.authorize": (SETTINGS, "brand", {}),
    "ad_oauth.accounts": (SETTINGS, "brand", None),
    "ad_oauth.connect": (SETTINGS, "brand", {"account_ids": ["act_matrix"]}),
    "ad_oauth.revoke": (SETTINGS, "brand", None),
    "ad_oauth.confirm": (SETTINGS, "brand", {"pending": "m" * 43}),  # past the checks: 404 unknown_pending
    "onboarding.get_onboarding": (EVERYONE - {"operator"}, "brand", None),
    "onboarding.get_sync_progress": (EVERYONE - {"operator"}, "brand", None),
    "onboarding.get_billing": (EVERYONE - {"operator"}, "brand", None),
    "onboarding.post_subscribe": (SETTINGS, "brand", None),
    # a brand's people: its owner, and the operator on any brand ("team"); an agency's: its admin, the operator
    "members.brand_invite": (TEAM, "team", {"email": "new@example.com", "role": "merchant_viewer"}),
    "members.brand_members": (TEAM, "team", None),
    "members.brand_member_remove": (TEAM, "team", None),
    "members.brand_invitation_revoke": (TEAM, "team", None),
    "members.agency_members": ({"agency_admin", "operator"}, "agency", None),
    "members.agency_member_remove": ({"agency_admin", "operator"}, "agency", None),
    "members.agency_invitation_revoke": ({"agency_admin", "operator"}, "agency", None),
}
#: Public routes: they authenticate the request themselves (tested in their own files).
PUBLIC = {"health.health", "openapi.openapi_json", "shopify_install.start_install", "shopify_install.callback",
          "shopify_install.token_exchange", "shopify_install.patch_id_token", "notify.unsubscribe_get", "notify.unsubscribe_post",
          "notify.slack_actions", "session.session_create", "session.auth_config", "access.invitation_accept", "page.index", "page.asset",
          "page.spa", "ad_oauth.callback", "onboarding.billing_return"}


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    """The API tests' runtime with a Meta app configured, so an allowed authorize builds its consent URL
    (no call leaves the process) rather than answering 503 ``app_not_configured``."""
    runtime.settings = runtime.settings.model_copy(update={
        "meta_app_id": "9001122334455", "meta_app_secret": "matrix-meta-secret",
        "ad_oauth_redirect_base": "https://tower.example"})
    return runtime


def _role_key(runtime: Runtime, role: str) -> str:
    if role == "operator":
        return create_api_key(runtime.store, operator=True, name="matrix-operator")
    if role in AGENCY_ROLES:
        return create_api_key(runtime.store, agency_id=AGENCY, name=f"matrix-{role}", role=role)
    return create_api_key(runtime.store, brand_ids=[BRAND], name=f"matrix-{role}", role=role)


def _target_key(runtime: Runtime, role: str, own: bool) -> str:
    """A key the role's own scope manages (own) or another scope's; the prefix goes in the URL."""
    if role == "operator" or (role in AGENCY_ROLES and own):
        key = create_api_key(runtime.store, agency_id=AGENCY if own else FOREIGN_AGENCY, name="target",
                             role="agency_member")
    elif role in MERCHANT and own:
        key = create_api_key(runtime.store, brand_ids=[BRAND], name="target", role="merchant_viewer")
    else:
        key = create_api_key(runtime.store, brand_ids=[OUTSIDER], name="target", role="merchant_viewer")
    return str(runtime.store.get(f"api_keys/{hash_key(key)}")["key_prefix"])


def _url(rule: str, runtime: Runtime, role: str, target: str | None, own: bool) -> str:
    from tower.notify.recipients import recipient_path

    brand = BRAND if own else OUTSIDER
    agency = AGENCY if own else FOREIGN_AGENCY
    recipient = "matrix-own" if own else "matrix-foreign"
    runtime.store.set(recipient_path(recipient), {
        "recipient_id": recipient, "agency_id": agency, "channel": "email", "address": f"{recipient}@example.com",
        "timezone": "UTC", "quiet_hours": None, "daily_budget": 10, "min_severity": "low", "alerts": True,
        "digest": True, "unsubscribed": [], "mutes": [], "created_at": NOW, "updated_at": NOW})
    url = (rule.replace("<brand_id>", brand).replace("<agency_id>", agency).replace("<rec_id>", "rec_matrix_none")
           .replace("<channel>", "meta").replace("<platform>", "meta").replace("<region_code>", "US-NY").replace("<recipient_id>", recipient)
           .replace("<uid>", "matrix-nobody").replace("<invitation_id>", "matrix-none"))
    if "<key_prefix>" in url:
        url = url.replace("<key_prefix>", _target_key(runtime, role, own))
    return url


def _cells(app: Any) -> list[tuple[str, str, str]]:
    cells = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            cells.append((rule.endpoint, method, rule.rule))
    return sorted(cells)


def test_every_route_is_in_the_matrix(runtime: Runtime) -> None:
    app = create_app(runtime)
    unclassified = {e for e, _, _ in _cells(app)} - set(MATRIX)
    assert not unclassified, f"add these routes to MATRIX (who may, on what): {sorted(unclassified)}"


def _expected(endpoint: str, role: str | None, own: bool) -> bool:
    allowed, target, _ = MATRIX[endpoint]
    if role is None or role not in allowed:
        return False
    if target in ("key", "team") and role == "operator":
        return True  # the operator manages every key, and every brand's people
    if target in ("brand", "team", "recipient", "key") and not own:
        return False
    # another agency: only the operator, who has them all
    return not (target == "agency" and not own and role != "operator")


Call = Callable[[str, str, Any], Any]


def _caller(runtime: Runtime, role: str | None, via: str) -> Call:
    # the failed-authentication limit would turn the no-credential column into 429s: it has its own tests
    client: FlaskClient = create_app(runtime, clock=lambda: NOW,
                                     auth_failures=AuthFailureLimiter(1_000_000)).test_client()
    headers: dict[str, str] = {}
    if via == "shopify session token":
        runtime.warehouse.execute("UPDATE brands SET shop_domain = @s WHERE brand_id = @b", {"s": SHOP, "b": BRAND})
        runtime.settings = runtime.settings.model_copy(update={"shopify_client_id": SHOPIFY_APP[0],
                                                               "shopify_api_secret": SHOPIFY_APP[1]})

        def embedded(method: str, url: str, body: Any) -> Any:
            # as App Bridge's page does: a fresh token per request (shopifyapp checks exp on the wall clock)
            token = session_token(*SHOPIFY_APP, SHOP, datetime.now(UTC))
            return client.open(url, method=method, headers=bearer(token), json=body)

        return embedded
    if role is not None and via == "person":
        headers = {CSRF_HEADER: _person_session(runtime, client, role)}
    elif role is not None:
        key = _role_key(runtime, role)
        if via == "bearer":
            headers = bearer(key)
        else:
            r = client.post("/api/session", json={"api_key": key})
            assert r.status_code == 200, r.json
            headers = {CSRF_HEADER: r.json["csrf_token"]}

    def call(method: str, url: str, body: Any) -> Any:
        return client.open(url, method=method, headers=headers, json=body)

    return call


def _person_session(runtime: Runtime, client: FlaskClient, role: str) -> str:
    """A signed-in person (a Firebase user's session) holding the role through a membership; the CSRF token."""
    from tower.identity.memberships import Target, join
    from tower.identity.sessions import COOKIE, create_session, member_principal

    target = Target("agency", AGENCY) if role in AGENCY_ROLES else Target("brand", BRAND)
    runtime.store.transaction(lambda tx: join(tx, target, "uid-matrix", email="matrix@example.com", role=role,
                                              now=NOW, invited_by="matrix"))
    principal = member_principal(runtime.store, "uid-matrix")
    assert principal is not None and principal.role.value == role
    session_id, doc = create_session(runtime.store, principal, now=NOW, uid="uid-matrix")
    client.set_cookie(COOKIE, session_id)
    return str(doc["csrf"])


#: Every role by bearer key and by the key's session; the four membership roles also as a person signed in
#: by e-mail (their role from an accepted invitation: tower.identity.memberships).
@pytest.mark.parametrize("role, via", [*((r, v) for r in ROLES for v in ("bearer", "session")),
                                       *((r, "person") for r in ROLES if r != "operator"), (None, "bearer"),
                                       ("merchant_owner", "shopify session token")])
def test_the_matrix(runtime: Runtime, role: str | None, via: str) -> None:
    call = _caller(runtime, role, via)
    wrong: list[str] = []
    cells = _cells(create_app(runtime))
    # denied cells first (they must change nothing), then the allowed ones; sign-out last of all
    order = sorted(((e, m, r, own) for e, m, r in cells for own in (True, False)
                    if own or MATRIX[e][1] is not None),
                   key=lambda c: (_expected(c[0], role, c[3]), c[0] == "session.session_delete"))
    for endpoint, method, rule, own in order:
        url = _url(rule, runtime, role or "merchant_owner", MATRIX[endpoint][1], own)
        body = MATRIX[endpoint][2] if method != "GET" else None
        r = call(method, url, body)
        where = f"{method} {url} [{role} via {via}, {'own' if own else 'foreign'}]"
        if r.status_code >= 500:
            wrong.append(f"{where}: {r.status_code}")
        elif _expected(endpoint, role, own):
            if r.status_code in (401, 403):
                wrong.append(f"{where}: {r.status_code} {r.get_json()} for an allowed cell")
        elif role is None:
            if r.status_code != 401:
                wrong.append(f"{where}: {r.status_code}, expected 401")
        elif r.status_code not in (403, 404):
            wrong.append(f"{where}: {r.status_code}, expected 403 or 404")
    assert not wrong, "\n".join(wrong)
