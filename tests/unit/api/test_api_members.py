"""A brand's and an agency's people, through the official Firebase Auth emulator and the SMTP capture:
brand invitations, e-mail sign-in of merchants, per-brand roles, member lists, removal ending sessions.

The brand is not the demo's: a Norwegian knitwear shop (its own shop domain, Europe/Oslo, NOK) that
no agency holds, registered here.
"""
# ruff: noqa: F811 (pytest fixtures imported from the Firebase tests are parameters of the tests here)

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_seed import AGENCY, BRAND, OUTSIDER, bearer
from flask.testing import FlaskClient
from test_api_identity_firebase import emu_runtime, emulator, mail  # noqa: F401 (its fixtures: emulator, SMTP)

from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.brands import add_brand
from tower.identity.sessions import CSRF_HEADER
from tower.runtime import Runtime
from tower_dev.sandboxes.firebase_auth import AuthEmulator
from tower_dev.sandboxes.mail_capture.server import MailCapture

SHOP_BRAND = "fjord-knits"


@pytest.fixture
def shop(emu_runtime: Runtime) -> dict[str, str]:
    """The Oslo shop registered, and the keys of its owner and of the operator."""
    add_brand(emu_runtime.warehouse, brand_id=SHOP_BRAND, name="Fjord Knits", timezone="Europe/Oslo", currency="NOK",
              now=datetime(2026, 11, 30, 23, 30, tzinfo=UTC), shop_domain="fjord-knits.myshopify.com")
    return {"owner": create_api_key(emu_runtime.store, brand_ids=[SHOP_BRAND], name="fjord-owner"),
            "operator": create_api_key(emu_runtime.store, operator=True, name="ops")}


def _client(runtime: Runtime) -> FlaskClient:
    now = datetime.now(UTC)  # the emulator's ID tokens carry the real clock's iat/exp
    return create_app(runtime, clock=lambda: now).test_client()


def _link(mail: MailCapture, email: str) -> str:
    message = mail.to(email)[-1]
    found = re.search(r"http://tower\.test/invitations/([A-Za-z0-9_-]+)", message.part("plain"))
    assert found, message.part("plain")
    return found.group(1)


def _join(client: FlaskClient, emulator: AuthEmulator, mail: MailCapture, email: str,
          password: str = "correct-horse-9") -> tuple[dict[str, Any], dict[str, str]]:
    """The invitee signs up, accepts the e-mailed link; (the answer's principal, the CSRF header)."""
    user = emulator.sign_up(email, password)
    r = client.post(f"/api/invitations/{_link(mail, email)}/accept", json={"id_token": user["idToken"]})
    assert r.status_code == 200, r.json
    return r.json["principal"], {CSRF_HEADER: r.json["csrf_token"]}


def _sign_in(runtime: Runtime, emulator: AuthEmulator, email: str,
             password: str = "correct-horse-9") -> tuple[FlaskClient, dict[str, Any], dict[str, str]]:
    client = _client(runtime)
    r = client.post("/api/session", json={"id_token": emulator.sign_in(email, password)["idToken"]})
    assert r.status_code == 200, r.json
    return client, r.json["principal"], {CSRF_HEADER: r.json["csrf_token"]}


def test_an_owner_invites_a_viewer_who_reads_only_that_brand_until_removed(
        emu_runtime: Runtime, emulator: AuthEmulator, mail: MailCapture, shop: dict[str, str]) -> None:
    operator = _client(emu_runtime)
    # the operator invites the shop's first owner; the mail names the brand and the role
    r = operator.post(f"/api/brands/{SHOP_BRAND}/invitations", headers=bearer(shop["operator"]),
                      json={"email": "Ola@FjordKnits.example", "role": "merchant_owner"})
    assert r.status_code == 201 and r.json["invitation"]["brand_id"] == SHOP_BRAND, r.json
    assert "Fjord Knits" in mail.to("ola@fjordknits.example")[-1].part("plain")
    owner = _client(emu_runtime)
    principal, _ = _join(owner, emulator, mail, "ola@fjordknits.example")
    assert principal["role"] == "merchant_owner" and principal["brand_ids"] == [SHOP_BRAND]

    # later, the owner signs in by e-mail alone and invites a viewer from the session
    owner, principal, csrf = _sign_in(emu_runtime, emulator, "ola@fjordknits.example")
    assert principal["brand_roles"] == {SHOP_BRAND: "merchant_owner"}
    r = owner.post(f"/api/brands/{SHOP_BRAND}/invitations", headers=csrf,
                   json={"email": "per@fjordknits.example", "role": "merchant_viewer"})
    assert r.status_code == 201 and r.json["invitation"]["sent"] is True, r.json
    pending = owner.get(f"/api/brands/{SHOP_BRAND}/members").json["invitations"]
    assert [(i["email"], i["role"]) for i in pending] == [("per@fjordknits.example", "merchant_viewer")]

    viewer = _client(emu_runtime)
    principal, viewer_csrf = _join(viewer, emulator, mail, "per@fjordknits.example")
    assert principal["role"] == "merchant_viewer" and principal["brand_ids"] == [SHOP_BRAND]
    assert viewer.get(f"/api/brands/{SHOP_BRAND}/settings").status_code == 200
    assert viewer.post(f"/api/brands/{SHOP_BRAND}/recommendations/rec_x/accept", headers=viewer_csrf,
                       json={"dry_run": True}).status_code == 403
    assert viewer.get(f"/api/brands/{SHOP_BRAND}/members").status_code == 403
    assert viewer.get(f"/api/brands/{OUTSIDER}/settings").status_code == 403
    assert viewer.get(f"/api/brands/{BRAND}/settings").status_code == 403

    team = owner.get(f"/api/brands/{SHOP_BRAND}/members").json
    assert [(m["email"], m["role"]) for m in team["members"]] == [
        ("ola@fjordknits.example", "merchant_owner"), ("per@fjordknits.example", "merchant_viewer")]
    assert team["invitations"] == []  # used

    per = next(m["uid"] for m in team["members"] if m["email"] == "per@fjordknits.example")
    r = owner.delete(f"/api/brands/{SHOP_BRAND}/members/{per}", headers=csrf)
    assert r.status_code == 200 and r.json["sessions_ended"] == 1, r.json
    r = viewer.get(f"/api/brands/{SHOP_BRAND}/settings")
    assert r.status_code == 401 and r.json["error"]["code"] == "session_ended"
    # and they cannot sign in again: no role here any more
    fresh = _client(emu_runtime).post("/api/session", json={
        "id_token": emulator.sign_in("per@fjordknits.example", "correct-horse-9")["idToken"]})
    assert fresh.status_code == 403 and fresh.json["error"]["code"] == "no_role"
    assert owner.delete(f"/api/brands/{SHOP_BRAND}/members/{per}", headers=csrf).status_code == 404


def test_the_last_owner_stays_and_invitations_are_revocable(
        emu_runtime: Runtime, emulator: AuthEmulator, mail: MailCapture, shop: dict[str, str]) -> None:
    client = _client(emu_runtime)
    key = bearer(shop["owner"])  # an owner's API key manages the brand's people too
    assert client.post(f"/api/brands/{SHOP_BRAND}/invitations", headers=key,
                       json={"email": "kari@fjordknits.example", "role": "merchant_owner"}).status_code == 201
    _, _ = _join(_client(emu_runtime), emulator, mail, "kari@fjordknits.example")
    kari = client.get(f"/api/brands/{SHOP_BRAND}/members", headers=key).json["members"][0]["uid"]
    r = client.delete(f"/api/brands/{SHOP_BRAND}/members/{kari}", headers=key)
    assert r.status_code == 409 and r.json["error"]["code"] == "last_owner", r.json

    r = client.post(f"/api/brands/{SHOP_BRAND}/invitations", headers=key,
                    json={"email": "nils@fjordknits.example", "role": "merchant_viewer"})
    invitation_id = r.json["invitation"]["invitation_id"]
    assert client.delete(f"/api/brands/{SHOP_BRAND}/invitations/{invitation_id}", headers=key).status_code == 200
    assert client.get(f"/api/brands/{SHOP_BRAND}/members", headers=key).json["invitations"] == []
    nils = emulator.sign_up("nils@fjordknits.example", "correct-horse-9")
    r = client.post(f"/api/invitations/{_link(mail, 'nils@fjordknits.example')}/accept",
                    json={"id_token": nils["idToken"]})
    assert r.status_code == 404  # the revoked link opens nothing
    assert client.delete(f"/api/brands/{SHOP_BRAND}/invitations/{invitation_id}", headers=key).status_code == 404


@pytest.mark.parametrize("body, key, brand, status", [
    ({"email": "x@fjordknits.example", "role": "agency_member"}, "owner", SHOP_BRAND, 400),  # not a brand's role
    ({"email": "not-an-address", "role": "merchant_viewer"}, "owner", SHOP_BRAND, 400),
    ({"email": "x@fjordknits.example", "role": "merchant_viewer"}, "owner", OUTSIDER, 403),  # not their brand
    ({"email": "x@fjordknits.example", "role": "merchant_viewer"}, "operator", "no-such-brand", 404),
    ({"email": "x@fjordknits.example", "role": "merchant_viewer"}, "agency", BRAND, 403),  # an agency's admin
])
def test_bad_brand_invitations_are_refused(emu_runtime: Runtime, shop: dict[str, str], keys: dict[str, str],
                                           body: dict[str, str], key: str, brand: str, status: int) -> None:
    r = _client(emu_runtime).post(f"/api/brands/{brand}/invitations", json=body,
                                  headers=bearer({**shop, **keys}[key]))
    assert r.status_code == status, r.json


def test_a_person_owning_one_brand_and_viewing_another_acts_per_brand(
        emu_runtime: Runtime, emulator: AuthEmulator, mail: MailCapture, shop: dict[str, str]) -> None:
    operator = bearer(shop["operator"])
    client = _client(emu_runtime)
    for brand, role in ((SHOP_BRAND, "merchant_owner"), (OUTSIDER, "merchant_viewer")):
        r = client.post(f"/api/brands/{brand}/invitations", headers=operator,
                        json={"email": "sol@fjordknits.example", "role": role})
        assert r.status_code == 201, r.json
    (first, second) = mail.to("sol@fjordknits.example")
    user = emulator.sign_up("sol@fjordknits.example", "correct-horse-9")
    for message in (first, second):
        token = re.search(r"/invitations/([A-Za-z0-9_-]+)", message.part("plain")).group(1)  # type: ignore[union-attr]
        assert client.post(f"/api/invitations/{token}/accept", json={"id_token": user["idToken"]}).status_code == 200
    sol, principal, csrf = _sign_in(emu_runtime, emulator, "sol@fjordknits.example")
    assert principal["role"] == "merchant_owner"
    assert principal["brand_roles"] == {SHOP_BRAND: "merchant_owner", OUTSIDER: "merchant_viewer"}
    assert sol.get(f"/api/brands/{OUTSIDER}/settings").status_code == 200
    assert sol.put(f"/api/brands/{OUTSIDER}/settings", headers=csrf, json={}).status_code == 403
    assert sol.get(f"/api/brands/{OUTSIDER}/members").status_code == 403
    assert sol.get(f"/api/brands/{SHOP_BRAND}/members").status_code == 200
    # keys: only for the brand they own
    assert sol.post("/api/api-keys", headers=csrf, json={"name": "x", "brand_ids": [OUTSIDER]}).status_code == 403
    r = sol.post("/api/api-keys", headers=csrf, json={"name": "mine"})
    assert r.status_code == 201 and r.json["key"]["brand_ids"] == [SHOP_BRAND], r.json


def test_an_agency_admin_lists_and_removes_members(emu_runtime: Runtime, emulator: AuthEmulator,
                                                   mail: MailCapture, keys: dict[str, str],
                                                   shop: dict[str, str]) -> None:
    admin = bearer(keys["agency"])
    client = _client(emu_runtime)
    assert client.post(f"/api/agencies/{AGENCY}/invitations", headers=admin,
                       json={"email": "bo@northstar.example", "role": "agency_member"}).status_code == 201
    member = _client(emu_runtime)
    _join(member, emulator, mail, "bo@northstar.example")
    team = client.get(f"/api/agencies/{AGENCY}/members", headers=admin).json
    assert [(m["email"], m["role"]) for m in team["members"]] == [("bo@northstar.example", "agency_member")]
    assert client.get("/api/agencies/agency_other/members", headers=admin).status_code == 403
    assert client.get(f"/api/agencies/{AGENCY}/members", headers=bearer(shop["owner"])).status_code == 403
    # a pending invitation is listed until revoked
    r = client.post(f"/api/agencies/{AGENCY}/invitations", headers=admin,
                    json={"email": "cy@northstar.example", "role": "agency_admin"})
    listed = client.get(f"/api/agencies/{AGENCY}/members", headers=admin).json["invitations"]
    assert [i["invitation_id"] for i in listed] == [r.json["invitation"]["invitation_id"]]
    assert client.delete(f"/api/agencies/{AGENCY}/invitations/{listed[0]['invitation_id']}",
                         headers=admin).status_code == 200

    assert member.get(f"/api/brands/{BRAND}/settings").status_code == 200
    r = client.delete(f"/api/agencies/{AGENCY}/members/{team['members'][0]['uid']}", headers=admin)
    assert r.status_code == 200 and r.json["member"]["email"] == "bo@northstar.example"
    assert member.get(f"/api/brands/{BRAND}/settings").status_code == 401
    assert client.get(f"/api/agencies/{AGENCY}/members", headers=admin).json["members"] == []


def test_an_expired_invitation_is_not_listed(emu_runtime: Runtime, shop: dict[str, str]) -> None:
    now = [datetime.now(UTC)]
    client = create_app(emu_runtime, clock=lambda: now[0]).test_client()
    key = bearer(shop["owner"])
    client.post(f"/api/brands/{SHOP_BRAND}/invitations", headers=key,
                json={"email": "late@fjordknits.example", "role": "merchant_viewer"})
    assert len(client.get(f"/api/brands/{SHOP_BRAND}/members", headers=key).json["invitations"]) == 1
    now[0] += timedelta(hours=emu_runtime.settings.invitation_hours, seconds=1)
    assert client.get(f"/api/brands/{SHOP_BRAND}/members", headers=key).json["invitations"] == []


def test_an_embedded_owner_invites_through_the_shopify_session_token(emu_runtime: Runtime, shop: dict[str, str],
                                                                    mail: MailCapture) -> None:
    from tower_dev.sandboxes.shopify_store.oauth import session_token

    client_id, secret = "fjord-app-client", "fjord-app-secret-of-at-least-32-bytes"
    rt = Runtime(emu_runtime.settings.model_copy(update={"shopify_client_id": client_id, "shopify_api_secret": secret}))
    try:
        now = datetime.now(UTC)
        client = create_app(rt, clock=lambda: now).test_client()
        r = client.post("/api/session", headers=bearer(session_token(client_id, secret, "fjord-knits.myshopify.com", now)))
        assert r.status_code == 200 and r.json["principal"]["brand_ids"] == [SHOP_BRAND], r.json
        r = client.post(f"/api/brands/{SHOP_BRAND}/invitations", headers={CSRF_HEADER: r.json["csrf_token"]},
                        json={"email": "liv@fjordknits.example", "role": "merchant_viewer"})
        assert r.status_code == 201 and r.json["invitation"]["sent"] is True, r.json
        assert "Fjord Knits" in mail.to("liv@fjordknits.example")[-1].part("plain")
    finally:
        rt.close()


def test_an_agency_member_who_owns_a_brand_acts_per_brand(emu_runtime: Runtime, shop: dict[str, str]) -> None:
    """The rule of tower.identity.roles: the agency role on the agency's brands, the own role on a brand held
    directly; brand-less routes see the agency role."""
    from tower.identity.memberships import Target, join
    from tower.identity.sessions import COOKIE, create_session, member_principal

    now = datetime.now(UTC)
    for target, role in ((Target("agency", AGENCY), "agency_member"), (Target("brand", SHOP_BRAND), "merchant_owner")):
        emu_runtime.store.transaction(lambda tx, t=target, r=role: join(tx, t, "uid-mixed", email="mix@northstar.example",
                                                                       role=r, now=now, invited_by="test"))
    principal = member_principal(emu_runtime.store, "uid-mixed")
    assert principal is not None and principal.role.value == "agency_member" and principal.agency_id == AGENCY
    assert {BRAND, SHOP_BRAND} <= principal.brand_ids and OUTSIDER not in principal.brand_ids
    session_id, doc = create_session(emu_runtime.store, principal, now=now, uid="uid-mixed")
    client = _client(emu_runtime)
    client.set_cookie(COOKIE, session_id)
    csrf = {CSRF_HEADER: doc["csrf"]}
    assert client.get(f"/api/brands/{SHOP_BRAND}/members").status_code == 200  # owner there
    assert client.get(f"/api/brands/{BRAND}/members").status_code == 403  # an agency member on the agency's brand
    assert client.put(f"/api/brands/{SHOP_BRAND}/settings", headers=csrf, json={}).status_code != 403
    assert client.put(f"/api/brands/{BRAND}/settings", headers=csrf, json={}).status_code == 403
    assert client.get("/api/api-keys").status_code == 403  # brand-less: the agency member's role
    # leaving the agency keeps the brand
    assert client.delete(f"/api/agencies/{AGENCY}/members/uid-mixed", headers=bearer(shop["operator"])).status_code == 200
    assert client.get(f"/api/brands/{SHOP_BRAND}/members").status_code == 401  # sessions ended with the removal
    after = member_principal(emu_runtime.store, "uid-mixed")
    assert after is not None and after.brand_ids == {SHOP_BRAND} and after.role.value == "merchant_owner"
