"""Slack through slack-sdk: posting (incoming webhook or ``chat.postMessage``), answering a
``response_url``, and checking the signature of Slack's interactivity requests.

A recipient reached by webhook has its URL in the secret store
(:func:`tower.notify.recipients.webhook_secret_id`); one reached by the bot posts with the secret
``notify-slack-bot-token`` to its channel. Interactivity requests are signed with the secret
``notify-slack-signing-secret``: ``X-Slack-Signature`` is ``v0=`` + HMAC-SHA256 of
``v0:<X-Slack-Request-Timestamp>:<raw body>``, and a timestamp more than five minutes from now is
refused whatever its signature (a replayed request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from tower import names
from tower.config import Settings
from tower.notify.deliveries import SendError
from tower.ports import Secrets

MAX_AGE_SECONDS = 5 * 60
TIMEOUT_S = 30
# chat.postMessage errors another attempt cannot fix
_PERMANENT = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "channel_not_found",
              "not_in_channel", "is_archived", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
              "no_text", "too_many_attachments", "missing_scope"}


class SignatureError(ValueError):
    """An interactivity request Slack did not sign, or signed too long ago (``reason``: ``missing``,
    ``stale`` or ``bad_signature``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def verify_request(signing_secret: str, body: bytes, timestamp: str | None, signature: str | None,
                   now: datetime) -> None:
    """Check an interactivity request's signature and age.

    Raises:
        SignatureError: Headers missing, timestamp over five minutes from ``now``, or a signature that
            does not match.
    """
    from slack_sdk.signature import Clock, SignatureVerifier  # lazy: only the Slack routes verify

    if not timestamp or not signature:
        raise SignatureError("missing", "the request carries no Slack signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError("bad_signature", "X-Slack-Request-Timestamp is not a number") from None
    if abs(now.timestamp() - sent) > MAX_AGE_SECONDS:
        raise SignatureError("stale", "the request was signed more than five minutes ago")

    class _At(Clock):
        def now(self) -> float:
            return now.timestamp()

    if not SignatureVerifier(signing_secret, clock=_At()).is_valid(body, timestamp, signature):
        raise SignatureError("bad_signature", "the Slack signature does not match")


def signing_secret(secrets: Secrets) -> str:
    """The app's signing secret (``notify-slack-signing-secret``)."""
    return secrets.get(names.SECRET_SLACK_SIGNING_SECRET)


def post(settings: Settings, secrets: Secrets, recipient: Mapping[str, Any], text: str,
         blocks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Post a message to a Slack recipient; what Slack answered (``channel``, ``ts`` for the bot).

    Raises:
        SendError: Slack refused it (permanent for a bad token, channel or blocks) or could not be reached.
    """
    if recipient.get("slack_via") == "webhook":
        # the URL is the credential: kept with the agency's other integration tokens
        url = secrets.get(names.integration_secret_id(str(recipient["agency_id"]), "slack",
                                                      str(recipient["recipient_id"])))
        return _webhook(url, text, blocks)
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=secrets.get(names.SECRET_SLACK_BOT_TOKEN), base_url=settings.notify_slack_api_url,
                       timeout=TIMEOUT_S)
    try:
        resp = client.chat_postMessage(channel=str(recipient["address"]), text=text, blocks=[dict(b) for b in blocks])
    except SlackApiError as e:
        error = str(e.response.get("error") or e.response.status_code)
        raise SendError(f"chat.postMessage answered {error}", permanent=error in _PERMANENT) from None
    except OSError as e:
        raise SendError(f"Slack could not be reached ({type(e).__name__})") from None
    return {"channel": resp.get("channel"), "ts": resp.get("ts")}


def _webhook(url: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    from slack_sdk.webhook import WebhookClient

    try:
        resp = WebhookClient(url, timeout=TIMEOUT_S).send(text=text, blocks=[dict(b) for b in blocks])
    except OSError as e:
        raise SendError(f"the Slack webhook could not be reached ({type(e).__name__})") from None
    if resp.status_code != 200:
        # 4xx (invalid_payload, no_service, channel_is_archived) will not change; 429 and 5xx may
        raise SendError(f"the Slack webhook answered {resp.status_code} {resp.body[:100]}",
                        permanent=400 <= resp.status_code < 500 and resp.status_code != 429)
    return {"channel": None, "ts": None}


def respond(settings: Settings, response_url: str, text: str, blocks: Sequence[Mapping[str, Any]] = (), *,
            replace_original: bool = False) -> None:
    """Answer an interaction through its ``response_url`` (only to Slack's own hooks origins).

    Raises:
        SendError: The URL is not on an allowed origin, or the answer was refused.
    """
    parsed = urlparse(response_url)
    origin = f"{parsed.scheme}://{parsed.netloc}"
    allowed = {o.strip().rstrip("/") for o in settings.notify_slack_hooks_origins.split(",") if o.strip()}
    if origin not in allowed:
        raise SendError(f"response_url origin {origin} is not one of TOWER_NOTIFY_SLACK_HOOKS_ORIGINS", permanent=True)
    from slack_sdk.webhook import WebhookClient

    resp = WebhookClient(response_url, timeout=TIMEOUT_S).send(text=text, blocks=[dict(b) for b in blocks] or None,
                                                                replace_original=replace_original)
    if resp.status_code != 200:
        raise SendError(f"the response_url answered {resp.status_code}")
