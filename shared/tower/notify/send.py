"""Sending one rendered notification to one recipient by its channel, through the delivery log."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tower.notify import deliveries, mail, slack
from tower.notify.links import link_key, make_token, unsubscribe_page_url, unsubscribe_url
from tower.notify.recipients import branding

if TYPE_CHECKING:  # pragma: no cover
    from tower.runtime import Runtime


@dataclass(frozen=True)
class Rendered:
    """One notification in both forms: the e-mail's subject, HTML and text, and Slack's text and blocks."""

    subject: str
    html: str
    text: str
    slack_text: str
    blocks: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


@dataclass(frozen=True)
class UnsubscribeLinks:
    """A recipient's two signed links: the page's screen (in the text) and the one-click URL (the header)."""

    page: str
    one_click: str


def unsubscribe_link(runtime: Runtime, recipient_id: str, kind: str) -> UnsubscribeLinks:
    """The signed links that unsubscribe this recipient from ``kind``."""
    token = make_token(link_key(runtime.secrets), recipient_id, kind)
    return UnsubscribeLinks(unsubscribe_page_url(runtime.settings, token), unsubscribe_url(runtime.settings, token))


def deliver(runtime: Runtime, doc_id: str, recipient: Mapping[str, Any], rendered: Rendered, *,
            unsubscribe: UnsubscribeLinks, clock: Callable[[], datetime] | None = None,
            sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Send by the recipient's channel with retries (:func:`tower.notify.deliveries.attempt`); the log's
    document afterwards (``sent`` or ``dead``).

    Seven parameters: what is sent to whom and logged where, the unsubscribe link, and the clock and sleep
    tests pin.
    """
    settings = runtime.settings
    now = clock or (lambda: datetime.now(UTC))

    def send() -> Any:
        if recipient["channel"] == "slack":
            return slack.post(settings, runtime.secrets, recipient, rendered.slack_text, rendered.blocks)
        brand = branding(runtime.store, str(recipient["agency_id"]))
        msg = mail.build_message(
            sender=brand["from_address"] or settings.notify_from_address, sender_name=brand["display_name"],
            to=str(recipient["address"]), subject=rendered.subject, html=rendered.html, text=rendered.text,
            unsubscribe_url=unsubscribe.one_click, list_id=f"{recipient['agency_id']}.control-tower", now=now())
        return mail.send(settings, runtime.secrets, msg)

    extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    return deliveries.attempt(runtime.store, doc_id, send, attempts=settings.notify_send_attempts,
                              retry_seconds=settings.notify_retry_seconds, now=now, **extra)
