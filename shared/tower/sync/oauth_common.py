"""What every OAuth flow the product runs shares: the refusal, and the app credentials behind it.

The Shopify install (:mod:`tower.sync.install`) and the ad platforms' grants (:mod:`tower.sync.grants`,
:mod:`tower.sync.ad_oauth`) refuse a step the same way, with an HTTP status and a code a client can
branch on, and both hold an app's client id and secret the same way; their single-use state nonces
are :mod:`tower.sync.nonces`. The routes map :class:`OAuthRefused` to their JSON error in one place
(``tower.api.errors.refused``).
"""

from __future__ import annotations

from dataclasses import dataclass


class OAuthRefused(Exception):
    """An OAuth step that must not go on: the HTTP status and a code a client can branch on.

    The message names the problem, never a value from the request (a code, a token, a secret).
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class AppCredentials:
    """One platform's app: its client id and client secret (the secret never appears in a repr or log)."""

    platform: str
    client_id: str
    secret: str

    def __repr__(self) -> str:
        return f"AppCredentials(platform={self.platform!r}, client_id={self.client_id!r})"
