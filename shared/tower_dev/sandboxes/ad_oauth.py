"""What the three ad sandboxes' OAuth endpoints share: apps, the consent page, codes, refresh, revocation.

Each platform's dialect (paths, parameter names, answer shapes, error bodies) lives in its own
sandbox; this holds the state behind them, over the sandbox's :class:`AccountRegistry` (the access
tokens it issues are the registry's, so the data endpoints accept them at once):

* the apps the sandbox knows (client id → secret, optional allowed redirect URIs);
* the consent page: a real HTML form a browser can click (Approve / Cancel), its hidden fields the
  authorize request's own parameters, posted back to the same path;
* authorization codes: single use, valid ten minutes, bound to the app and the redirect URI;
* access tokens with a lifetime on the registry's clock (:meth:`AccountRegistry.advance` lets them
  expire without waiting), refresh tokens, and revocation (a refresh token takes its access tokens
  with it, as Google's revoke does).
"""

from __future__ import annotations

import hmac
import html
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tower_dev.sandboxes.ad_sandbox import AccountRegistry

CODE_SECONDS = 600


@dataclass(frozen=True)
class Code:
    """An authorization code the consent page issued."""

    client_id: str
    redirect_uri: str
    accounts: frozenset[str]
    scope: str
    expires: float


@dataclass
class OAuthProvider:
    """One sandbox's OAuth state (thread-safe)."""

    registry: AccountRegistry
    #: Seconds an access token works (None: until revoked, as TikTok's advertiser tokens do).
    access_lifetime: float | None = None
    apps: dict[str, str] = field(default_factory=dict)
    redirect_uris: dict[str, set[str]] = field(default_factory=dict)
    #: The accounts the person approving can reach (None: every account the sandbox serves).
    user_accounts: set[str] | None = None
    codes: dict[str, Code] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    #: Every grant served, in order (``authorization_code``, ``refresh_token``, ``revoke``...).
    served: list[str] = field(default_factory=list)
    _issued_from: dict[str, set[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, client_id: str, secret: str, redirect_uris: set[str] | None = None) -> None:
        """Know an app (what creating it in the platform's developer console does)."""
        self.apps[client_id] = secret
        if redirect_uris:
            self.redirect_uris[client_id] = set(redirect_uris)

    def client_ok(self, client_id: str, secret: str) -> bool:
        """Whether the client id is known and the secret is its own (compared in constant time)."""
        known = self.apps.get(client_id)
        return known is not None and hmac.compare_digest(known.encode(), (secret or "").encode())

    def authorize_problem(self, client_id: str, redirect_uri: str) -> str | None:
        """Why an authorize request cannot show the consent page (None: it can)."""
        if client_id not in self.apps:
            return "The client_id is not valid"
        if not redirect_uri:
            return "The redirect_uri is missing"
        allowed = self.redirect_uris.get(client_id)
        if allowed and redirect_uri not in allowed:
            return "The redirect_uri is not whitelisted in the app's settings"
        return None

    def consent_page(self, action: str, params: dict[str, str], app_label: str) -> bytes:
        """The consent page: the accounts to be shared and Approve / Cancel buttons posting ``params`` back."""
        accounts = sorted(self.user_accounts if self.user_accounts is not None else self.registry.accounts)
        items = "".join(f"<li>{html.escape(self.registry.accounts[a].name or a)} ({html.escape(a)})</li>"
                        for a in accounts if a in self.registry.accounts)
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items())
        return (f"<!doctype html><html><head><title>{html.escape(app_label)}</title></head><body>"
                f"<h1>{html.escape(app_label)}</h1><p>The app asks to read and manage these ad accounts:</p>"
                f"<ul>{items}</ul><form method=\"post\" action=\"{html.escape(action)}\">{hidden}"
                '<button type="submit" name="decision" value="approve" id="approve">Approve</button> '
                '<button type="submit" name="decision" value="deny" id="deny">Cancel</button>'
                "</form></body></html>").encode()

    def issue_code(self, client_id: str, redirect_uri: str, scope: str = "") -> str:
        """A fresh code for what the approving person can reach."""
        accounts = frozenset(self.user_accounts if self.user_accounts is not None else self.registry.accounts)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = Code(client_id, redirect_uri, accounts, scope, self.registry.now() + CODE_SECONDS)
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str | None) -> Code | None:
        """Use a code up (None: unknown, used, expired, another app's, or another redirect URI's).

        Args:
            redirect_uri: The one the token request names (None: the platform does not send it).
        """
        with self._lock:
            found = self.codes.pop(code or "", None)
        if found is None or found.expires <= self.registry.now() or found.client_id != client_id:
            return None
        if redirect_uri is not None and redirect_uri != found.redirect_uri:
            return None
        return found

    def access_token(self, accounts: frozenset[str], grant: str, *, lifetime: float | None = None,
                     refresh_token: str | None = None) -> str:
        """A new access token reaching ``accounts`` (remembered under its refresh token, if any)."""
        token = self.registry.issue_token(*sorted(accounts), lifetime=lifetime if lifetime else self.access_lifetime)
        with self._lock:
            self.served.append(grant)
            if refresh_token:
                self._issued_from.setdefault(refresh_token, set()).add(token)
        return token

    def refresh_token(self, client_id: str, accounts: frozenset[str]) -> str:
        """A new refresh token (long-lived, revocable)."""
        token = f"1//sbx-{secrets.token_urlsafe(24)}"
        with self._lock:
            self.refresh_tokens[token] = (client_id, accounts)
        return token

    def refreshable(self, refresh_token: str, client_id: str) -> frozenset[str] | None:
        """The accounts a refresh token reaches, when it is this app's and not revoked."""
        with self._lock:
            found = self.refresh_tokens.get(refresh_token or "")
        return found[1] if found is not None and found[0] == client_id else None

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token takes its access tokens with it)."""
        with self._lock:
            self.served.append("revoke")
            refresh = self.refresh_tokens.pop(token or "", None)
            issued = self._issued_from.pop(token or "", set())
        for t in issued:
            self.registry.expire_token(t)
        if refresh is not None:
            return True
        known = self.registry.token_state(token) != "unknown"
        self.registry.expire_token(token)
        return known


def redirect_to(uri: str, params: dict[str, Any]) -> str:
    """``uri`` with ``params`` added to its query."""
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode({k: v for k, v in params.items() if v is not None})}"


def page(status: int, text: str) -> tuple[int, dict[str, str], bytes]:
    """A plain HTML error page: (status, headers, body)."""
    return status, {"Content-Type": "text/html; charset=utf-8"}, \
        f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>".encode()


def submit_consent(authorize_url: str, decision: str = "approve") -> str:
    """Do what a person does on a sandbox's consent page: open it, press Approve (or Cancel).

    Returns:
        The ``Location`` the sandbox redirects to (the app's redirect URI with the code and state).
    """
    import re
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    with urllib.request.urlopen(authorize_url, timeout=10) as resp:
        text = resp.read().decode()
    found = re.search(r'<form method="post" action="([^"]+)"', text)
    if found is None:
        raise ValueError(f"no consent form at {authorize_url}: {text[:200]}")
    fields = {html.unescape(k): html.unescape(v)
              for k, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', text)}
    parts = urlsplit(authorize_url)

    class _Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # the redirect is the answer: it goes to the app, not to be followed here

    opener = urllib.request.build_opener(_Stay)
    data = urlencode({**fields, "decision": decision}).encode()
    try:
        opener.open(f"{parts.scheme}://{parts.netloc}{html.unescape(found.group(1))}", data=data, timeout=10)
    except urllib.error.HTTPError as e:
        if e.code == 302:
            return str(e.headers["Location"])
        raise
    raise ValueError("the consent form did not redirect")
