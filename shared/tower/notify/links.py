"""The links a notification carries: the brand's page, and a signed unsubscribe link.

An unsubscribe token is ``<base64url(recipient_id:kind)>.<base64url(HMAC-SHA256)>`` keyed with the
secret ``notify-link-key``: anyone holding the e-mail may unsubscribe its recipient (that is the
point of the link, and what RFC 8058 one-click expects), nobody can forge a link for another
recipient. Tokens do not expire: a months-old e-mail must still unsubscribe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

from tower import names
from tower.config import Settings
from tower.ports import NotFound, Secrets

UNSUBSCRIBE_PATH = "/api/notify/unsubscribe"
UNSUBSCRIBE_PAGE = "/unsubscribe"


class BadToken(ValueError):
    """An unsubscribe token that is malformed or not signed with this deployment's key."""


def link_key(secrets: Secrets) -> bytes:
    """The key that signs links (the secret ``notify-link-key``; ``tower notify add`` makes it on the
    embedded default, an operator adds it on GCP, where the runtime may only create per-brand secrets).

    Raises:
        tower.ports.NotFound: Not in the secret store, with the fix.
    """
    try:
        return secrets.get(names.SECRET_NOTIFY_LINK_KEY).encode()
    except NotFound:
        raise NotFound(f"secret {names.SECRET_NOTIFY_LINK_KEY} has no value: add a random one (locally `tower notify "
                       "add` does; on GCP: gcloud secrets versions add notify-link-key --data-file=-)") from None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(key: bytes, recipient_id: str, kind: str) -> str:
    """A token that unsubscribes ``recipient_id`` from ``kind`` (``alerts``, ``digest`` or ``all``)."""
    body = f"{recipient_id}:{kind}".encode()
    return f"{_b64(body)}.{_b64(hmac.new(key, body, hashlib.sha256).digest())}"


def read_token(key: bytes, token: str) -> tuple[str, str]:
    """The ``(recipient_id, kind)`` a token names.

    Raises:
        BadToken: Malformed, or its signature does not match.
    """
    head, dot, sig = (token or "").partition(".")
    try:
        body, given = _unb64(head), _unb64(sig)
    except ValueError:
        raise BadToken("the unsubscribe token is malformed") from None
    if not dot or not hmac.compare_digest(given, hmac.new(key, body, hashlib.sha256).digest()):
        raise BadToken("the unsubscribe token is not valid (it may have been cut or altered)")
    recipient_id, _, kind = body.decode("utf-8", "replace").partition(":")
    if not recipient_id or not kind:
        raise BadToken("the unsubscribe token is malformed")
    return recipient_id, kind


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The ``List-Unsubscribe`` URL: RFC 8058's one-click POSTs to it (a GET only reads)."""
    return f"{settings.notify_public_url.rstrip('/')}{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}"


def unsubscribe_page_url(settings: Settings, token: str) -> str:
    """The link a person clicks: the page's screen that says what it stops and asks for the click."""
    return f"{settings.notify_public_url.rstrip('/')}{UNSUBSCRIBE_PAGE}?{urlencode({'token': token})}"


def brand_url(settings: Settings, brand_id: str) -> str:
    """The brand's page."""
    return f"{settings.notify_public_url.rstrip('/')}/brands/{quote(brand_id, safe='')}"


def overview_url(settings: Settings) -> str:
    """The agency overview page."""
    return f"{settings.notify_public_url.rstrip('/')}/"
