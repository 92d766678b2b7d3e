"""Firebase Auth / Identity Platform ID tokens: who a signed-in person is.

**Production** (``TOWER_FIREBASE_AUTH_EMULATOR_HOST`` empty): the token must be RS256, signed by one of
the keys Google publishes for Firebase (``TOWER_FIREBASE_CERTS_URL``, fetched once and kept for as long
as its ``Cache-Control: max-age`` says), for this project (``aud`` = ``TOWER_FIREBASE_PROJECT_ID``),
issued by ``https://securetoken.google.com/<project>``, current (``iat``, ``exp``, ``auth_time``) and for
a user (``sub``). The signature and the ``aud``/``iat``/``exp`` checks are google-auth's
(:func:`google.auth.jwt.decode`, as ``google.oauth2.id_token.verify_firebase_token`` does it), the
issuer and the rest are checked here.

**The embedded default** (the official Auth emulator of ``firebase-tools``): the emulator issues
*unsigned* tokens (``alg: none``), and the Admin SDK, given ``FIREBASE_AUTH_EMULATOR_HOST``, skips the
signature check altogether and accepts any such token. Here instead every claim is checked as above,
and the emulator itself must confirm the token (``accounts:lookup`` with the token answers the user it
belongs to, who must be ``sub`` and must not have had their tokens revoked since ``iat``). Only an
emulator on a loopback address is trusted: a deployment pointed at another host refuses every token.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tower.config import Settings
from tower.identity.roles import IdentityError

ISSUER_PREFIX = "https://securetoken.google.com/"
CLOCK_SKEW_SECONDS = 30
TIMEOUT_S = 10
_LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$")


@dataclass(frozen=True)
class FirebaseUser:
    """The verified token's user."""

    uid: str
    email: str
    email_verified: bool


def _refuse(why: str) -> IdentityError:
    return IdentityError(401, "invalid_id_token", f"the ID token {why}")


def _b64json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, TypeError):
        raise _refuse("is malformed") from None
    if not isinstance(value, dict):
        raise _refuse("is malformed")
    return value


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pieces = (token or "").split(".")
    if len(pieces) != 3:
        raise _refuse("is malformed (not a JWT)")
    return _b64json(pieces[0]), _b64json(pieces[1])


class _CertCache:
    """Google's Firebase signing certificates, kept for their ``max-age``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._certs: dict[str, dict[str, str]] = {}
        self._until: dict[str, float] = {}

    def get(self, url: str) -> dict[str, str]:
        with self._lock:
            if url in self._certs and time.monotonic() < self._until[url]:
                return self._certs[url]
            try:
                with urllib.request.urlopen(url, timeout=TIMEOUT_S) as r:
                    body = json.loads(r.read())
                    max_age = re.search(r"max-age=(\d+)", r.headers.get("Cache-Control", ""))
            except (urllib.error.URLError, OSError, ValueError) as e:
                raise IdentityError(503, "id_token_keys_unavailable",
                                    f"Google's token signing keys could not be fetched ({type(e).__name__}); "
                                    "try again") from None
            if not isinstance(body, dict):
                raise IdentityError(503, "id_token_keys_unavailable", "Google's token signing keys were unreadable")
            self._certs[url] = {str(k): str(v) for k, v in body.items()}
            self._until[url] = time.monotonic() + (int(max_age.group(1)) if max_age else 0)
            return self._certs[url]


CERTS = _CertCache()


def _check_claims(claims: dict[str, Any], project: str, now: datetime) -> FirebaseUser:
    """What google-auth leaves to us: issuer, subject, auth_time; and exp/iat again against ``now``."""
    if claims.get("aud") != project:
        raise _refuse("was issued for another project (aud)")
    if claims.get("iss") != ISSUER_PREFIX + project:
        raise _refuse("was issued by someone else (iss)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 128:
        raise _refuse("names no user (sub)")
    at = now.timestamp()
    for name in ("exp", "iat"):
        if not isinstance(claims.get(name), int | float):
            raise _refuse(f"has no {name} claim")
    if at > claims["exp"] + CLOCK_SKEW_SECONDS:
        raise _refuse("has expired")
    if claims["iat"] > at + CLOCK_SKEW_SECONDS:
        raise _refuse("was issued in the future (iat)")
    auth_time = claims.get("auth_time", claims["iat"])
    if not isinstance(auth_time, int | float) or auth_time > at + CLOCK_SKEW_SECONDS:
        raise _refuse("has a sign-in time in the future (auth_time)")
    return FirebaseUser(sub, str(claims.get("email") or ""), claims.get("email_verified") is True)


def _verify_signed(token: str, settings: Settings) -> dict[str, Any]:
    """google-auth's signature, ``aud``, ``iat`` and ``exp`` checks against the cached certificates."""
    from google.auth import exceptions as gexc
    from google.auth import jwt as gjwt

    header, _ = _parts(token)
    if header.get("alg") != "RS256":
        raise _refuse(f"is not RS256-signed (alg {str(header.get('alg'))[:16]!r})")
    certs = CERTS.get(settings.firebase_certs_url)
    try:
        claims: dict[str, Any] = dict(gjwt.decode(token, certs=certs, audience=settings.firebase_project_id,
                                                  clock_skew_in_seconds=CLOCK_SKEW_SECONDS))
    except gexc.InvalidValue as e:
        text = str(e).lower()
        if "expired" in text:
            raise _refuse("has expired") from None
        if "audience" in text:
            raise _refuse("was issued for another project (aud)") from None
        if "signature" in text:
            raise _refuse("signature does not match Google's keys") from None
        raise _refuse("is invalid") from None
    except (gexc.MalformedError, ValueError):
        raise _refuse("is malformed or signed by an unknown key") from None
    return claims


def _emulator_lookup(settings: Settings, token: str) -> dict[str, Any]:
    """The emulator's own answer about the token's user (``accounts:lookup``)."""
    host = settings.firebase_auth_emulator_host.strip()
    # the end-user endpoint, as the Firebase SDKs call it: with the token and no admin credential the
    # emulator answers only for the user the token itself names (the API key is not checked by it)
    url = f"http://{host}/identitytoolkit.googleapis.com/v1/accounts:lookup?key=emulator"
    req = urllib.request.Request(url, data=json.dumps({"idToken": token}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
            body = json.loads(r.read())
    except urllib.error.HTTPError:
        raise _refuse("is not one the Auth emulator issued") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise IdentityError(503, "auth_emulator_unavailable",
                            f"the Firebase Auth emulator at {host} did not answer ({type(e).__name__})") from None
    users = body.get("users") if isinstance(body, dict) else None
    if not users:
        raise _refuse("belongs to no user of the Auth emulator")
    user: dict[str, Any] = users[0]
    return user


def verify_id_token(settings: Settings, token: str, *, now: datetime) -> FirebaseUser:
    """The user a Firebase ID token names, or a refusal naming what failed.

    Raises:
        IdentityError: 401 ``invalid_id_token`` (signature, algorithm, audience, issuer, expiry, user);
            503 when the keys or the emulator cannot be reached, or sign-in is not configured.
    """
    project = settings.firebase_project_id.strip()
    if not project:
        raise IdentityError(503, "sign_in_not_configured",
                            "Firebase sign-in is not configured: set TOWER_FIREBASE_PROJECT_ID")
    emulator = settings.firebase_auth_emulator_host.strip()
    if not emulator:
        _parts(token)  # a malformed token is the caller's fault (401), whatever the configuration
        if project.startswith("demo-"):
            # Google signs no token of a demo-* project: only its emulator can vouch for one
            raise IdentityError(503, "sign_in_not_configured", f"{project} is a demo project and no Auth emulator "
                                "is configured (TOWER_FIREBASE_AUTH_EMULATOR_HOST; `tower serve` starts one)")
        return _check_claims(_verify_signed(token, settings), project, now)
    if not _LOOPBACK.match(emulator):
        raise IdentityError(503, "sign_in_not_configured",
                            "TOWER_FIREBASE_AUTH_EMULATOR_HOST must be a loopback address: the emulator's "
                            "tokens are unsigned and are trusted only from this machine")
    header, claims = _parts(token)
    if header.get("alg") != "none":
        raise _refuse("was not issued by the Auth emulator (signed tokens need the production setup)")
    user = _check_claims(claims, project, now)
    found = _emulator_lookup(settings, token)
    if found.get("localId") != user.uid:
        raise _refuse("names another user than the Auth emulator's")
    valid_since = int(str(found.get("validSince") or "0") or 0)
    if valid_since and int(claims["iat"]) < valid_since:
        raise _refuse("was revoked (issued before the user's tokens were revoked)")
    if found.get("disabled") is True:
        raise _refuse("belongs to a disabled user")
    return user
