"""Pub/Sub CloudEvents in, bus Messages out: one decoder so every event function behaves the same.

The local bus calls the library handlers with :class:`tower.ports.Message` directly; on GCP the
Functions runtime hands a CloudEvent to the entry point, which decodes it here and calls the same
handler. Raising means "retry this event"; returning means "done" (functions-framework semantics).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.exceptions import ServiceUnavailable

from tower.adapters.local_secrets import UNAVAILABLE_MESSAGE, SecretsKeyError, log_unavailable
from tower.ports import Message
from tower.redact import at_edge, redact

log = logging.getLogger("tower.events")

MAX_EVENT_AGE = timedelta(hours=6)
"""Events older than this are dropped, not retried forever (a dead-letter topic keeps them)."""


class BadEvent(ValueError):
    """The event is not a Pub/Sub message this product published (never retried)."""


class SecretsUnavailable(ServiceUnavailable):
    """The local secret store's key cannot be used: the event is answered 503, so it is retried.

    functions-framework logs any other exception an entry point raises with its whole traceback;
    an HTTP exception is only answered. So the one line :func:`run_event_handler` logs is all the
    log shows, and the platform still sees a failure and delivers the event again.
    """


def decode_pubsub_cloud_event(cloud_event: Any) -> tuple[Message, datetime | None]:
    """Decode a ``google.cloud.pubsub.topic.v1.messagePublished`` CloudEvent into a Message."""
    data = cloud_event.data if hasattr(cloud_event, "data") else cloud_event.get("data")
    if not isinstance(data, dict) or "message" not in data:
        raise BadEvent("not a Pub/Sub CloudEvent: data.message is missing")
    msg = data["message"]
    raw = msg.get("data") or ""
    try:
        payload = json.loads(base64.b64decode(raw).decode() or "{}")
    except (ValueError, UnicodeDecodeError) as e:
        raise BadEvent(f"message data is not base64 JSON: {e}") from e
    if not isinstance(payload, dict):
        raise BadEvent("message data must be a JSON object")
    # Eventarc names the topic in the CloudEvent source: //pubsub.googleapis.com/projects/P/topics/T
    source = str(cloud_event.get("source") or "") if hasattr(cloud_event, "get") else ""
    topic = source.rsplit("/topics/", 1)[-1] if "/topics/" in source else ""
    published = msg.get("publishTime") or msg.get("publish_time")
    published_at = None
    if published:
        published_at = datetime.fromisoformat(str(published))  # 3.11 reads a trailing Z
    attempt = int(cloud_event.get("deliveryattempt") or 1) if hasattr(cloud_event, "get") else 1
    message = Message(
        topic=topic,
        data=payload,
        attributes={str(k): str(v) for k, v in (msg.get("attributes") or {}).items()},
        message_id=str(msg.get("messageId") or msg.get("message_id") or ""),
        attempt=attempt,
    )
    return message, published_at


def run_event_handler(
    handler: Callable[[Message], None], cloud_event: Any, *, now: datetime | None = None
) -> None:
    """Decode and dispatch one CloudEvent; drop stale or malformed events (log, do not raise).

    An exception the handler raises leaves sanitised (:func:`tower.redact.at_edge`): functions-framework
    logs it with its traceback, which must not print a chained vendor error and the token in its URL.
    """
    try:
        message, published_at = decode_pubsub_cloud_event(cloud_event)
    except BadEvent as e:
        log.error("dropped malformed event", extra={"error": redact(str(e))})
        return
    now = now or datetime.now(UTC)
    if published_at is not None and now - published_at > MAX_EVENT_AGE:
        log.warning("dropped stale event", extra={"message_id": message.message_id})
        return
    try:
        at_edge(handler)(message)
    except SecretsKeyError as e:
        log_unavailable(e, log, message_id=message.message_id, topic=message.topic)
        # Raised anew, without the handler's frames or the error as its context: what leaves the
        # entry point is a 503 the platform retries, not a traceback twenty frames deep.
        raise SecretsUnavailable(UNAVAILABLE_MESSAGE) from None
