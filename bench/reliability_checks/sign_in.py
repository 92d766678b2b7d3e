"""R3's sign-in probe: forged Firebase ID tokens and forged Shopify session tokens at ``POST /api/session``
(and forged ID tokens at an invitation's accept) must open no session.

The production path is exercised: the API verifies RS256 ID tokens against certificates fetched from
``TOWER_FIREBASE_CERTS_URL``, here a loopback server publishing a locally generated key as Google
publishes its own. The forgeries: signed by another key under the published key's id, another
project's audience, another issuer, expired, issued in the future, unsigned (``alg: none``), HS256
with a shared secret, an unknown key id. One genuine token of a user without a role is sent too: it
must be refused for the role (403), which shows the forgeries were refused for their forgery.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

PROJECT = "tower-r3-project"


def _unsigned(claims: dict[str, Any]) -> str:
    def part(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def forged_id_tokens(key: Any, other: Any) -> tuple[str, list[tuple[str, str]]]:
    """(a genuine token of a user with no role, [(what, forged token)])."""
    import jwt

    at = int(datetime.now(UTC).timestamp())

    def claims(**over: Any) -> dict[str, Any]:
        c = {"iss": f"https://securetoken.google.com/{PROJECT}", "aud": PROJECT, "sub": "r3-user", "iat": at - 30,
             "auth_time": at - 30, "exp": at + 3000, "email": "r3@example.com"}
        c.update(over)
        return c

    def sign(k: Any, c: dict[str, Any], kid: str = "r3-kid") -> str:
        return str(jwt.encode(c, k, algorithm="RS256", headers={"kid": kid}))

    return sign(key, claims()), [
        ("another key under the published kid", sign(other, claims())),
        ("another project's audience", sign(key, claims(aud="another-project"))),
        ("another issuer", sign(key, claims(iss="https://securetoken.google.com/another-project"))),
        ("an expired exp", sign(key, claims(iat=at - 7200, auth_time=at - 7200, exp=at - 3600))),
        ("an iat in the future", sign(key, claims(iat=at + 900, auth_time=at + 900, exp=at + 4000))),
        ("no signature (alg none)", _unsigned(claims())),
        ("HS256 with a shared secret", str(jwt.encode(claims(), "r3-shared-secret-of-32-bytes-long!!",
                                                      algorithm="HS256", headers={"kid": "r3-kid"}))),
        ("an unknown key id", sign(key, claims(), kid="r3-unknown-kid")),
    ]


def probe(runtime: Any, session_tokens: list[tuple[str, str]], accepted_bad: list[str]) -> dict[str, int]:
    """Send every forgery; a 2xx, or a Set-Cookie, is an accepted forgery. Returns the counts sent."""
    from tower.api.app import create_app
    from tower.runtime import Runtime
    from tower_dev.sandboxes.firebase_auth.google_certs import CertServer, signing_key

    key, cert = signing_key()
    other, _ = signing_key()
    genuine, forged = forged_id_tokens(key, other)
    with CertServer({"r3-kid": cert}) as certs:
        rt = Runtime(runtime.settings.model_copy(update={"firebase_project_id": PROJECT,
                                                         "firebase_auth_emulator_host": "",
                                                         "firebase_certs_url": certs.url,
                                                         "api_auth_failures_per_minute": 1_000_000}))
        try:
            client = create_app(rt).test_client()
            for what, token in forged:
                for path in ("/api/session", "/api/invitations/r3-invitation/accept"):
                    r = client.post(path, json={"id_token": token})
                    if r.status_code < 300 or r.headers.get("Set-Cookie"):
                        accepted_bad.append(f"{path} answered {r.status_code} to an ID token with {what}")
            r = client.post("/api/session", json={"id_token": genuine})
            if r.status_code != 403:
                accepted_bad.append(f"a genuine ID token of a user without a role answered {r.status_code}, not 403")
            for what, token in session_tokens:
                r = client.post("/api/session", headers={"Authorization": f"Bearer {token}"})
                if r.status_code < 300 or r.headers.get("Set-Cookie"):
                    accepted_bad.append(f"/api/session answered {r.status_code} to a session token with {what}")
        finally:
            rt.close()
    return {"id_tokens": len(forged) * 2, "session_tokens": len(session_tokens)}
