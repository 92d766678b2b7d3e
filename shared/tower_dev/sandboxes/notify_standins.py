"""The notification stand-ins ``tower serve``, the demo and the tests start: the SMTP capture and Slack.

The ``tower.sandboxes`` entry point ``notify`` names :data:`provider`. It serves no platform connection
(``describe`` recognises no origin), and brings up :func:`start` when the product asks for the
notification stand-ins (:func:`tower.sandboxes.notification_standins`): a :class:`MailCapture` that
requires the SMTP user and password, and a :class:`SlackSandbox` accepting the bot token. The secrets
the product reads (SMTP password, Slack bot token and signing secret, the unsubscribe-link key) are
those already in the local secret store, made here when missing, so the product runs as deployed and
only the addresses differ.
"""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tower import names
from tower.config import Settings
from tower.ports import NotFound, Secrets
from tower.sandboxes import Restored, SandboxConnection
from tower_dev.sandboxes.mail_capture.server import MailCapture
from tower_dev.sandboxes.slack_api.server import SlackSandbox

SMTP_USER = "tower-sandbox"


@dataclass
class Standins:
    """The running stand-ins and the settings that reach them."""

    mail: MailCapture
    slack: SlackSandbox
    settings: Settings
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop both."""
        self.mail.stop()
        self.slack.stop()


def _secret(secrets: Secrets, secret_id: str) -> str:
    """The local secret's value, made (random) when it has none."""
    try:
        return secrets.get(secret_id)
    except NotFound:
        secrets.put(secret_id, pysecrets.token_urlsafe(24))
        return secrets.get(secret_id)


def start(settings: Settings, secrets: Secrets, *, host: str = "127.0.0.1") -> Standins:
    """Start the SMTP capture and the Slack sandbox; settings pointing the notifications at them."""
    password = _secret(secrets, names.SECRET_SMTP_PASSWORD)
    bot_token = _secret(secrets, names.SECRET_SLACK_BOT_TOKEN)
    signing = _secret(secrets, names.SECRET_SLACK_SIGNING_SECRET)
    _secret(secrets, names.SECRET_NOTIFY_LINK_KEY)
    mail = MailCapture(host, username=SMTP_USER, password=password)
    slack = SlackSandbox(bot_token=bot_token, signing_secret=signing, host=host)
    pointed = settings.model_copy(update={
        "notify_smtp_host": mail.host, "notify_smtp_port": mail.port, "notify_smtp_username": SMTP_USER,
        "notify_smtp_starttls": False, "notify_slack_api_url": slack.api_url,
        "notify_slack_hooks_origins": slack.origin})
    notes = [f"SMTP capture at {mail.host}:{mail.port}, Slack sandbox at {slack.origin} (notifications)"]
    return Standins(mail, slack, pointed, notes)


class _Provider:
    """The ``notify`` provider: no platform sandboxes, only the notification stand-ins."""

    def describe(self, platform: str, origin: str) -> dict[str, Any] | None:
        return None

    def restore(self, connections: Sequence[SandboxConnection], settings: Settings) -> Restored:
        return Restored(settings)

    def serve_notifications(self, settings: Settings, secrets: Secrets) -> Restored:
        s = start(settings, secrets, host=settings.host)
        return Restored(s.settings, s.notes, s.stop)


provider = _Provider()
