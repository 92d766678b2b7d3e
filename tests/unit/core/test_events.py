"""CloudEvent decoding: the same handler runs for a Pub/Sub CloudEvent as for a local bus Message."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cloudevents.http import CloudEvent

from tower.events import BadEvent, decode_pubsub_cloud_event, run_event_handler
from tower.ports import Message

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def pubsub_event(payload: object, *, published: datetime = NOW, raw: str | None = None) -> CloudEvent:
    data = raw if raw is not None else base64.b64encode(json.dumps(payload).encode()).decode()
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/tower-sync-completed",
        },
        {
            "message": {
                "data": data,
                "attributes": {"brand_id": "b1"},
                "messageId": "123456789012345678",
                "publishTime": published.isoformat().replace("+00:00", "Z"),
            },
            "subscription": "projects/p/subscriptions/eventarc-x",
        },
    )


def test_decodes_payload_topic_and_attributes() -> None:
    msg, published = decode_pubsub_cloud_event(pubsub_event({"brand_id": "b1", "platform": "meta"}))
    assert msg.topic == "tower-sync-completed"
    assert msg.data == {"brand_id": "b1", "platform": "meta"}
    assert msg.attributes == {"brand_id": "b1"}
    assert msg.message_id == "123456789012345678"
    assert published == NOW


def test_handler_receives_message_and_its_exception_propagates_for_retry() -> None:
    seen: list[Message] = []

    def handler(m: Message) -> None:
        seen.append(m)
        raise RuntimeError("transient")

    with pytest.raises(RuntimeError):
        run_event_handler(handler, pubsub_event({"x": 1}), now=NOW)
    assert seen[0].data == {"x": 1}


def test_stale_events_are_dropped_not_retried() -> None:
    seen: list[Message] = []
    run_event_handler(seen.append, pubsub_event({"x": 1}, published=NOW - timedelta(days=2)), now=NOW)
    assert seen == []


@pytest.mark.parametrize("raw", ["not base64!!", base64.b64encode(b"[1,2]").decode()])
def test_malformed_events_are_rejected(raw: str) -> None:
    with pytest.raises(BadEvent):
        decode_pubsub_cloud_event(pubsub_event(None, raw=raw))
    seen: list[Message] = []
    run_event_handler(seen.append, pubsub_event(None, raw=raw), now=NOW)
    assert seen == []
