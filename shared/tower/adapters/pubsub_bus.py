"""The bus on Cloud Pub/Sub (google-cloud-pubsub), imported only when ``TOWER_BUS=pubsub://PROJECT``.

In production the Cloud Functions are Pub/Sub push targets (Terraform wires them), so ``drain`` is
not the delivery path there; it exists so the same subscription wiring can be exercised by pull —
by the contract suite against the official emulator, and by operators replaying a backlog.
``drain`` pulls synchronously, acks when the handler returns and nacks when it raises, so Pub/Sub
(or the emulator) redelivers and, with a dead-letter policy, forwards to ``<topic>-dlq``.
``PUBSUB_EMULATOR_HOST`` makes both clients talk to the emulator.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping
from typing import Any

from tower.adapters.local_bus import DLQ_SUFFIX, check_name, encode_payload
from tower.ports import Handler, Message, PortError

log = logging.getLogger(__name__)

# Pub/Sub's bounds for a dead-letter policy's max_delivery_attempts.
_MIN_DLQ_ATTEMPTS, _MAX_DLQ_ATTEMPTS = 5, 100
_PULL_BATCH = 100


class PubSubBus:
    """Bus port on Pub/Sub topics and (pull) subscriptions of one project."""

    def __init__(
        self,
        project: str,
        *,
        max_attempts: int = 5,
        deliver_twice: bool = False,
        ack_deadline_seconds: int = 60,
        publisher: Any = None,
        subscriber: Any = None,
    ) -> None:
        if not project:
            raise PortError("pubsub bus needs a project: TOWER_BUS=pubsub://PROJECT")
        from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

        self.project = project
        self.max_attempts = max_attempts
        self.deliver_twice = deliver_twice
        self.ack_deadline_seconds = ack_deadline_seconds
        self._publisher = publisher or PublisherClient()
        self._subscriber = subscriber or SubscriberClient()
        self._handlers: dict[str, tuple[str, Handler, bool]] = {}  # sub -> (topic, handler, has DLQ)
        self._failures: dict[tuple[str, str], int] = {}
        self._acks: dict[tuple[str, str], int] = {}

    # -- resources ------------------------------------------------------------------------------
    def _topic_path(self, topic: str) -> str:
        return str(self._publisher.topic_path(self.project, check_name("topic", topic)))

    def ensure_topic(self, topic: str) -> bool:
        """Create the topic if absent; return whether it exists now (False: not allowed to create)."""
        from google.api_core import exceptions as gexc

        path = self._topic_path(topic)
        try:
            self._publisher.get_topic(topic=path)
            return True
        except gexc.NotFound:
            pass
        except gexc.PermissionDenied:
            # A runtime account without topics.get still publishes to Terraform's topics.
            return True
        try:
            self._publisher.create_topic(name=path)
        except gexc.AlreadyExists:
            pass
        except gexc.PermissionDenied:
            # Production topics come from Terraform; a runtime account may not create topics.
            return False
        return True

    # -- the port -------------------------------------------------------------------------------
    def publish(self, topic: str, data: Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> str:
        """Publish JSON data with string attributes; return Pub/Sub's message id."""
        from google.api_core import exceptions as gexc

        path = self._topic_path(topic)
        body, attrs = encode_payload(data, attributes)
        try:
            return str(self._publisher.publish(path, body, **attrs).result(timeout=60))
        except gexc.NotFound:
            if not self.ensure_topic(topic):
                raise PortError(f"topic {topic!r} does not exist in {self.project} (declare it in Terraform)")
            return str(self._publisher.publish(path, body, **attrs).result(timeout=60))
        except gexc.GoogleAPICallError as e:
            raise PortError(f"publish to {topic}: {e.message}") from e

    def subscribe(self, subscription: str, topic: str, handler: Handler) -> None:
        """Create the topic and the pull subscription if absent, then wire handler for ``drain``.

        The subscription gets a dead-letter policy to ``<topic>-dlq`` (created if absent, as
        Terraform declares one per topic) after ``max_attempts`` deliveries (Pub/Sub allows 5-100).
        """
        from google.api_core import exceptions as gexc

        check_name("subscription", subscription)
        if not self.ensure_topic(topic):
            raise PortError(f"topic {topic!r} does not exist in {self.project} (declare it in Terraform)")
        sub_path = self._subscriber.subscription_path(self.project, subscription)
        has_dlq = False
        try:
            existing = self._subscriber.get_subscription(subscription=sub_path)
            if existing.topic != self._topic_path(topic):
                raise PortError(f"subscription {subscription!r} is bound to {existing.topic}, not {topic!r}")
            has_dlq = bool(existing.dead_letter_policy.dead_letter_topic)
        except gexc.NotFound:
            request: dict[str, Any] = {
                "name": sub_path,
                "topic": self._topic_path(topic),
                "ack_deadline_seconds": self.ack_deadline_seconds,
            }
            if not topic.endswith(DLQ_SUFFIX) and self.ensure_topic(topic + DLQ_SUFFIX):
                attempts = min(max(self.max_attempts, _MIN_DLQ_ATTEMPTS), _MAX_DLQ_ATTEMPTS)
                request["dead_letter_policy"] = {
                    "dead_letter_topic": self._topic_path(topic + DLQ_SUFFIX),
                    "max_delivery_attempts": attempts,
                }
                has_dlq = True
            try:
                self._subscriber.create_subscription(request=request)
            except gexc.AlreadyExists:
                pass
        self._handlers[subscription] = (topic, handler, has_dlq)

    def _pull(self, sub_path: str, n: int) -> list[Any]:
        with warnings.catch_warnings():
            # return_immediately is deprecated for streaming consumers; drain is a poll that must
            # stop when nothing is waiting, which is exactly what the flag asks for.
            warnings.filterwarnings("ignore", "The return_immediately flag is deprecated", DeprecationWarning)
            resp = self._subscriber.pull(
                request={"subscription": sub_path, "max_messages": n, "return_immediately": True},
                timeout=30,
            )
        return list(resp.received_messages)

    def _nack(self, sub_path: str, ack_id: str) -> None:
        self._subscriber.modify_ack_deadline(
            request={"subscription": sub_path, "ack_ids": [ack_id], "ack_deadline_seconds": 0}
        )

    def drain(self, max_messages: int | None = None) -> int:
        """Pull and handle until no wired subscription has anything; return how many were acked.

        Without a dead-letter policy a message failed ``max_attempts`` times is left to its ack
        deadline rather than nacked again, so drain always ends.
        """
        acked = 0
        nacked_before = False
        while max_messages is None or acked < max_messages:
            progressed = False
            nacked = False
            for subscription, (topic, handler, has_dlq) in list(self._handlers.items()):
                sub_path = self._subscriber.subscription_path(self.project, subscription)
                want = _PULL_BATCH if max_messages is None else max(1, min(_PULL_BATCH, max_messages - acked))
                for rm in self._pull(sub_path, want):
                    if max_messages is not None and acked >= max_messages:
                        self._nack(sub_path, rm.ack_id)  # over the budget: hand it back untouched
                        continue
                    key = (subscription, rm.message.message_id)
                    attempt = rm.delivery_attempt or (self._failures.get(key, 0) + self._acks.get(key, 0) + 1)
                    msg = Message(
                        topic=topic,
                        data=json.loads(rm.message.data or b"{}"),
                        attributes=dict(rm.message.attributes),
                        message_id=rm.message.message_id,
                        attempt=attempt,
                    )
                    try:
                        handler(msg)
                    except Exception as e:  # noqa: BLE001 - any handler error asks for a redelivery
                        self._failures[key] = self._failures.get(key, 0) + 1
                        log.warning("bus handler failed", extra={
                            "message_id": msg.message_id, "subscription": subscription, "attempt": attempt,
                            "error": type(e).__name__,
                        })
                        if has_dlq or self._failures[key] < self.max_attempts:
                            self._nack(sub_path, rm.ack_id)
                            progressed = nacked = True
                        continue
                    acked += 1
                    progressed = True
                    self._acks[key] = self._acks.get(key, 0) + 1
                    if self.deliver_twice and self._acks[key] < 2:
                        self._nack(sub_path, rm.ack_id)  # have Pub/Sub deliver it once more
                    else:
                        self._subscriber.acknowledge(request={"subscription": sub_path, "ack_ids": [rm.ack_id]})
                        self._acks.pop(key, None)
                        self._failures.pop(key, None)
            if not progressed and not nacked_before:
                break
            # Pub/Sub moves a message to its dead-letter topic when it would redeliver it, i.e. on
            # the pull after the last nack: one more round lets the DLQ subscription see it.
            nacked_before = nacked
        return acked

    def close(self) -> None:
        self._publisher.stop()  # flushes any batched publish first
        self._subscriber.close()
