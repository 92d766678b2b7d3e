"""Firebase ID tokens: the production path (RS256 against Google-style certificates, here a locally
generated key served on loopback) and the embedded default (the official Auth emulator from
firebase-tools), with invitations by e-mail through the SMTP capture."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from api_seed import AGENCY, BRAND, GROWING, NOW, OTHER, OUTSIDER, bearer
from cryptography.hazmat.primitives.asymmetric import rsa

from tower.api.app import create_app
from tower.identity import firebase
from tower.identity.roles import IdentityError
from tower.identity.sessions import CSRF_HEADER
from tower.runtime import Runtime
from tower_dev.sandboxes.firebase_auth import AuthEmulator, installed
from tower_dev.sandboxes.firebase_auth.google_certs import CertServer, signing_key
from tower_dev.sandboxes.mail_capture.server import MailCapture

PROJECT = "tower-prod-test"


@pytest.fixture(scope="module")
def google_keys() -> Iterator[tuple[rsa.RSAPrivateKey, CertServer]]:
    key, cert = signing_key()
    server = CertServer({"kid-1": cert})
    yield key, server
    server.stop()


def _claims(now: datetime, **over: object) -> dict[str, object]:
    at = int(now.timestamp())
    claims: dict[str, object] = {"iss": f"https://securetoken.google.com/{PROJECT}", "aud": PROJECT,
                                 "sub": "uid-prod-1", "user_id": "uid-prod-1", "auth_time": at - 60, "iat": at - 60,
                                 "exp": at + 3540, "email": "ana@northstar.example", "email_verified": True}
    claims.update(over)
    return claims


def _sign(key: rsa.RSAPrivateKey, claims: dict[str, object], kid: str = "kid-1") -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def prod_runtime(runtime: Runtime, google_keys: tuple[rsa.RSAPrivateKey, CertServer]) -> Iterator[Runtime]:
    rt = Runtime(runtime.settings.model_copy(update={"firebase_project_id": PROJECT,
                                                     "firebase_auth_emulator_host": "",
                                                     "firebase_certs_url": google_keys[1].url}))
    yield rt
    rt.close()


def test_a_google_signed_id_token_signs_in_the_member(prod_runtime: Runtime,
                                                     google_keys: tuple[rsa.RSAPrivateKey, CertServer]) -> None:
    key, certs = google_keys
    prod_runtime.store.set("members/uid-prod-1", {"agency_id": AGENCY, "role": "agency_member",
                                                  "email": "ana@northstar.example"})
    now = datetime.now(UTC)  # google-auth checks iat/exp against the real clock
    client = create_app(prod_runtime, clock=lambda: now).test_client()
    before = certs.hits
    r = client.post("/api/session", json={"id_token": _sign(key, _claims(now))})
    assert r.status_code == 200, r.json
    assert r.json["principal"]["role"] == "agency_member" and r.json["principal"]["agency_id"] == AGENCY
    # a member decides but may not manage keys, invitations or the agency's notifications
    csrf = {CSRF_HEADER: r.json["csrf_token"]}
    assert client.get("/api/api-keys").status_code == 403
    assert client.post(f"/api/agencies/{AGENCY}/invitations", json={"email": "x@y.example", "role": "agency_member"},
                       headers=csrf).status_code == 403
    # the certificates are fetched once and kept for their max-age
    client.post("/api/session", json={"id_token": _sign(key, _claims(now))})
    assert certs.hits - before <= 1


@pytest.mark.parametrize("forgery", ["another key", "another audience", "another issuer", "expired", "unsigned",
                                     "hs256 with the certificate", "unknown kid", "no subject", "future iat"])
def test_a_forged_id_token_is_refused(google_keys: tuple[rsa.RSAPrivateKey, CertServer], prod_runtime: Runtime,
                                      forgery: str) -> None:
    key = google_keys[0]
    now = datetime.now(UTC)
    other, _ = signing_key()
    token = {
        "another key": lambda: _sign(other, _claims(now)),
        "another audience": lambda: _sign(key, _claims(now, aud="someone-elses-project")),
        "another issuer": lambda: _sign(key, _claims(now, iss="https://securetoken.google.com/someone-else")),
        "expired": lambda: _sign(key, _claims(now - timedelta(hours=2))),
        "unsigned": lambda: _unsigned(_claims(now)),
        "hs256 with the certificate": lambda: jwt.encode(_claims(now), "a-shared-secret-32-bytes-at-least!",
                                                         algorithm="HS256", headers={"kid": "kid-1"}),
        "unknown kid": lambda: _sign(key, _claims(now), kid="kid-unknown"),
        "no subject": lambda: _sign(key, _claims(now, sub="")),
        "future iat": lambda: _sign(key, _claims(now, iat=int(now.timestamp()) + 600)),
    }[forgery]()
    with pytest.raises(IdentityError) as e:
        firebase.verify_id_token(prod_runtime.settings, token, now=now)
    assert e.value.status == 401 and e.value.code == "invalid_id_token"
    r = create_app(prod_runtime, clock=lambda: now).test_client().post("/api/session", json={"id_token": token})
    assert r.status_code == 401 and not r.headers.getlist("Set-Cookie")


def _unsigned(claims: dict[str, object]) -> str:
    def part(d: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_an_emulator_outside_loopback_is_never_trusted(prod_runtime: Runtime) -> None:
    settings = prod_runtime.settings.model_copy(update={"firebase_auth_emulator_host": "auth.example.com:9099"})
    with pytest.raises(IdentityError) as e:
        firebase.verify_id_token(settings, _unsigned(_claims(datetime.now(UTC))), now=datetime.now(UTC))
    assert e.value.status == 503


# -- the embedded default: the official Auth emulator ---------------------------------------------------
@pytest.fixture(scope="module")
def emulator() -> Iterator[AuthEmulator]:
    if not installed():
        pytest.fail("the Firebase Auth emulator is not installed: npm ci in shared/tower_dev/sandboxes/firebase_auth")
    with AuthEmulator("demo-tower-tests") as running:
        yield running


@pytest.fixture
def mail() -> Iterator[MailCapture]:
    capture = MailCapture()
    yield capture
    capture.stop()


@pytest.fixture
def emu_runtime(runtime: Runtime, emulator: AuthEmulator, mail: MailCapture) -> Iterator[Runtime]:
    rt = Runtime(runtime.settings.model_copy(update={
        "firebase_project_id": emulator.project_id, "firebase_auth_emulator_host": emulator.host_port,
        "notify_smtp_host": mail.host, "notify_smtp_port": mail.port, "notify_smtp_starttls": False,
        "notify_public_url": "http://tower.test"}))
    yield rt
    rt.close()


def _invite(client, key: str, email: str, role: str = "agency_member", agency: str = AGENCY):
    return client.post(f"/api/agencies/{agency}/invitations", json={"email": email, "role": role},
                       headers=bearer(key))


def _link_token(mail: MailCapture, email: str) -> str:
    (message,) = mail.to(email)
    found = re.search(r"http://tower\.test/invitations/([A-Za-z0-9_-]+)", message.part("plain"))
    assert found, message.part("plain")
    return found.group(1)


def test_an_invited_agency_member_sees_only_the_agencys_brands(emu_runtime: Runtime, emulator: AuthEmulator,
                                                              mail: MailCapture, keys: dict[str, str]) -> None:
    now = datetime.now(UTC)
    client = create_app(emu_runtime, clock=lambda: now).test_client()
    r = _invite(client, keys["agency"], "Bea@Northstar.example")
    assert r.status_code == 201 and r.json["invitation"]["sent"] is True, r.json
    assert "bea@northstar.example" in r.get_data(as_text=True) and "invitations/" not in r.get_data(as_text=True)
    token = _link_token(mail, "bea@northstar.example")
    # the store keeps the token's hash only
    assert token not in json.dumps([d for _, d in emu_runtime.store.query(_q("invitations"))], default=str)
    user = emulator.sign_up("bea@northstar.example", "correct-horse-1")
    # before accepting, the account has no role here
    r = client.post("/api/session", json={"id_token": user["idToken"]})
    assert r.status_code == 403 and r.json["error"]["code"] == "no_role"
    r = client.post(f"/api/invitations/{token}/accept", json={"id_token": user["idToken"]})
    assert r.status_code == 200, r.json
    assert r.json["principal"]["role"] == "agency_member" and r.json["principal"]["via"] == "sign_in"
    overview = client.get("/api/agency/overview")
    assert overview.status_code == 200
    assert {b["brand_id"] for b in overview.json["brands"]} == {BRAND, OTHER, GROWING, "calm-co"}
    assert client.get(f"/api/brands/{OUTSIDER}/alerts").status_code == 403
    assert client.get(f"/api/brands/{BRAND}/alerts").status_code == 200
    # the link works once
    r = client.post(f"/api/invitations/{token}/accept", json={"id_token": user["idToken"]})
    assert r.status_code == 404
    # later sign-ins with a fresh ID token keep the role
    fresh = emulator.sign_in("bea@northstar.example", "correct-horse-1")["idToken"]
    other_client = create_app(emu_runtime, clock=lambda: now).test_client()
    assert other_client.post("/api/session", json={"id_token": fresh}).json["principal"]["role"] == "agency_member"


def _q(collection: str):
    from tower.ports import DocQuery

    return DocQuery(collection)


def test_an_invitation_is_for_its_addressee_and_expires(emu_runtime: Runtime, emulator: AuthEmulator,
                                                       mail: MailCapture, keys: dict[str, str]) -> None:
    now = [datetime.now(UTC)]
    client = create_app(emu_runtime, clock=lambda: now[0]).test_client()
    assert _invite(client, keys["agency"], "cy@northstar.example", role="agency_admin").status_code == 201
    token = _link_token(mail, "cy@northstar.example")
    intruder = emulator.sign_up("mallory@elsewhere.example", "correct-horse-2")
    r = client.post(f"/api/invitations/{token}/accept", json={"id_token": intruder["idToken"]})
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_invitee"
    now[0] += timedelta(hours=emu_runtime.settings.invitation_hours, seconds=1)
    cy = emulator.sign_up("cy@northstar.example", "correct-horse-3")
    r = client.post(f"/api/invitations/{token}/accept", json={"id_token": cy["idToken"]})
    assert r.status_code in (401, 410)  # the link expired (or, by then, the ID token too)


@pytest.mark.parametrize("role, key, agency, status", [
    ("agency_member", "other_brand", AGENCY, 403),  # a merchant's key invites nobody into an agency
    ("agency_member", "agency", "agency_other", 403),  # another agency's
    ("merchant_owner", "agency", AGENCY, 400),  # not an agency's role
])
def test_who_may_invite_and_as_what(emu_runtime: Runtime, keys: dict[str, str], role: str, key: str, agency: str,
                                    status: int) -> None:
    client = create_app(emu_runtime, clock=lambda: NOW).test_client()
    assert _invite(client, keys[key], "dee@example.com", role=role, agency=agency).status_code == status


def test_forged_emulator_tokens_are_refused(emu_runtime: Runtime, emulator: AuthEmulator) -> None:
    now = datetime.now(UTC)
    real = emulator.sign_up("eve@northstar.example", "correct-horse-4")
    emu_runtime.store.set(f"members/{real['localId']}", {"agency_id": AGENCY, "role": "agency_admin",
                                                         "email": "eve@northstar.example"})
    settings = emu_runtime.settings
    assert firebase.verify_id_token(settings, real["idToken"], now=now).uid == real["localId"]
    payload = real["idToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    at = int(now.timestamp())
    base = {**claims, "iat": at - 5, "auth_time": at - 5, "exp": at + 3600}
    forged = {
        "a user the emulator never made": _unsigned({**base, "sub": "nobody", "user_id": "nobody"}),
        "another project": _unsigned({**base, "aud": "demo-other", "iss": "https://securetoken.google.com/demo-other"}),
        "expired": _unsigned({**base, "iat": at - 7200, "exp": at - 3600}),
        "signed with some key": jwt.encode(base, "k" * 40, algorithm="HS256"),
    }
    for what, token in forged.items():
        with pytest.raises(IdentityError) as e:
            firebase.verify_id_token(settings, token, now=now)
        assert e.value.status == 401, what
    emulator.delete_user(real["localId"])
    with pytest.raises(IdentityError):
        firebase.verify_id_token(settings, real["idToken"], now=now)


def test_tower_serve_starts_the_emulator_on_a_demo_project(runtime: Runtime) -> None:
    """What `tower serve` does (tower.sandboxes.identity_standins): a demo-* project and no emulator
    configured start the official emulator; its users' tokens then verify; a real project starts nothing."""
    from tower import sandboxes

    settings = runtime.settings.model_copy(update={"firebase_project_id": "demo-serve-test",
                                                   "firebase_auth_emulator_host": ""})
    started = sandboxes.identity_standins(settings)
    assert started is not None
    try:
        host = started.settings.firebase_auth_emulator_host
        assert host.startswith("127.0.0.1:")
        running = AuthEmulator("demo-serve-test", port=int(host.rsplit(":", 1)[1]))
        user = running.sign_up("fay@example.com", "correct-horse-5")
        assert firebase.verify_id_token(started.settings, user["idToken"], now=datetime.now(UTC)).uid == user["localId"]
    finally:
        started.stop()
    real = settings.model_copy(update={"firebase_project_id": "tower-prod"})
    assert sandboxes.identity_standins(real) is None
