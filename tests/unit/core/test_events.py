"""CloudEvent decoding: the same handler runs for a Pub/Sub CloudEvent as for a local bus Message."""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


# --- an unusable local secrets key: one log line and a retry, not a traceback twenty frames deep -----


def _broken_secrets(tmp_path: Path) -> Path:
    """A secret store directory whose key file group members can read (refused, like ssh does)."""
    from tower.adapters.local_secrets import KEY_FILE, LocalSecrets

    directory = tmp_path / "secrets"
    store = LocalSecrets(directory)
    store.put("anthropic-api-key", "sk-test-value")
    store.close()
    (directory / KEY_FILE).chmod(0o640)
    return directory


def _reads_a_secret(directory: Path) -> Callable[[Message], None]:
    from tower.adapters.local_secrets import LocalSecrets

    def handler(m: Message) -> None:
        LocalSecrets(directory).get("anthropic-api-key")

    return handler


def _assert_one_log_line(caplog: pytest.LogCaptureFixture, directory: Path) -> None:
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].name == "tower.events"
    line = errors[0].getMessage()
    assert "\n" not in line and getattr(errors[0], "error_code", None) == "secrets_unavailable"
    assert str(directory / "secrets.key") in line and "chmod 600" in line
    assert getattr(errors[0], "message_id", None) == "123456789012345678"
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged anywhere


def test_a_broken_secrets_key_is_one_log_line_and_a_503_that_still_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    from tower.events import SecretsUnavailable

    directory = _broken_secrets(tmp_path)
    with caplog.at_level("INFO"), pytest.raises(SecretsUnavailable) as raised:
        run_event_handler(_reads_a_secret(directory), pubsub_event({"x": 1}), now=NOW)
    assert raised.value.code == 503
    # Neither chained to the key error nor carrying the handler's frames.
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert [f.name for f in traceback.extract_tb(raised.value.__traceback__)][-1] == "run_event_handler"
    _assert_one_log_line(caplog, directory)


_ENTRY = '''
import os

import functions_framework

from tower.adapters.local_secrets import LocalSecrets
from tower.events import run_event_handler


@functions_framework.cloud_event
def needs_a_secret(cloud_event):
    secrets = os.environ["TEST_SECRETS_DIR"]
    run_event_handler(lambda m: LocalSecrets(secrets).get("anthropic-api-key"), cloud_event)
'''


def test_through_functions_framework_the_event_is_answered_503_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    import functions_framework
    from cloudevents.conversion import to_structured

    directory = _broken_secrets(tmp_path)
    source = tmp_path / "entry.py"
    source.write_text(_ENTRY)
    monkeypatch.setenv("TEST_SECRETS_DIR", str(directory))
    client = functions_framework.create_app(target="needs_a_secret", source=str(source)).test_client()
    headers, body = to_structured(pubsub_event({"x": 1}, published=datetime.now(UTC)))

    with caplog.at_level("INFO"):
        r = client.post("/", headers=headers, data=body)

    assert r.status_code == 503  # a failure: Pub/Sub (through Eventarc) delivers the event again
    _assert_one_log_line(caplog, directory)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err + r.get_data(as_text=True)
