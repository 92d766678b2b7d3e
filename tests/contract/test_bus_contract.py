"""Bus contract: one suite, run on the SQLite bus and on Pub/Sub (official emulator).

Proven how: ``LocalBus`` directly, plus what only it promises (durability across a restart and a
crash, the backoff schedule, dead-letter listing and replay, leases). ``PubSubBus`` through
google-cloud-pubsub against the official Pub/Sub emulator from google-cloud-cli: the same
behaviours — fan-out, ack on return, redelivery on raise, dead-lettering to ``<topic>-dlq`` after
``max_attempts`` with Pub/Sub's own attributes, deliver-twice — happen in the emulator, not in our
code. Topic and subscription names are unique per test, so the emulator needs no reset.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from contract_emulators import PROJECT, emulated

from tower.ports import Bus, Message, NotFound, PortError

MAX_ATTEMPTS = 5  # Pub/Sub's minimum for a dead-letter policy


@pytest.fixture(params=["local", emulated("pubsub")])
def make_bus(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A factory of buses of the parametrized kind (tests choose deliver_twice)."""
    made: list[Any] = []
    if request.param == "pubsub":
        emu = request.getfixturevalue("pubsub_emulator")
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emu.host)

    def make(deliver_twice: bool = False) -> Any:
        if request.param == "local":
            from tower.adapters.local_bus import LocalBus

            bus: Any = LocalBus(
                tmp_path / "bus.sqlite", max_attempts=MAX_ATTEMPTS, backoff_seconds=0,
                deliver_twice=deliver_twice,
            )
        else:
            from tower.adapters.pubsub_bus import PubSubBus

            bus = PubSubBus(PROJECT, max_attempts=MAX_ATTEMPTS, deliver_twice=deliver_twice)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.close()


@pytest.fixture
def name() -> Callable[[str], str]:
    """Unique topic/subscription names per test (the emulator keeps them for the session)."""
    suffix = uuid.uuid4().hex[:8]
    return lambda base: f"{base}-{suffix}"


def recorder(log: list[Message], fail_first: int = 0, always_fail: bool = False) -> Callable[[Message], None]:
    def handle(m: Message) -> None:
        log.append(m)
        if always_fail or len(log) <= fail_first:
            raise RuntimeError(f"handler refuses attempt {m.attempt}")

    return handle


def test_is_a_bus(make_bus: Any) -> None:
    assert isinstance(make_bus(), Bus)


def test_publish_then_drain_delivers_data_attributes_and_id_once(make_bus: Any, name: Any) -> None:
    bus = make_bus()
    got: list[Message] = []
    bus.subscribe(name("build"), name("synced"), recorder(got))
    ids = [
        bus.publish(name("synced"), {"brand_id": "b1", "rows": 3, "ok": True}, {"source": "shopify"}),
        bus.publish(name("synced"), {"brand_id": "b2", "nested": {"a": [1, 2]}}),
    ]
    assert bus.drain() == 2
    assert bus.drain() == 0
    by_id = {m.message_id: m for m in got}
    assert sorted(by_id) == sorted(ids) and len(got) == 2  # Pub/Sub may reorder
    first = by_id[ids[0]]
    assert first.topic == name("synced")
    assert first.data == {"brand_id": "b1", "rows": 3, "ok": True}
    assert first.attributes == {"source": "shopify"}
    assert first.attempt == 1
    assert by_id[ids[1]].data == {"brand_id": "b2", "nested": {"a": [1, 2]}}
    assert by_id[ids[1]].attributes == {}


def test_every_subscription_of_a_topic_gets_its_own_copy(make_bus: Any, name: Any) -> None:
    bus = make_bus()
    a: list[Message] = []
    b: list[Message] = []
    other: list[Message] = []
    bus.subscribe(name("recommend"), name("built"), recorder(a))
    bus.subscribe(name("summarize"), name("built"), recorder(b))
    bus.subscribe(name("notify"), name("alerts"), recorder(other))
    bus.publish(name("built"), {"brand_id": "b1"})
    assert bus.drain() == 2
    assert [m.data for m in a] == [{"brand_id": "b1"}] and [m.data for m in b] == [{"brand_id": "b1"}]
    assert other == []


def test_messages_published_before_a_subscription_exists_are_not_delivered_to_it(
    make_bus: Any, name: Any
) -> None:
    bus = make_bus()
    early: list[Message] = []
    bus.subscribe(name("first"), name("topic"), recorder([]))
    bus.publish(name("topic"), {"n": 1})
    bus.subscribe(name("late"), name("topic"), recorder(early))
    bus.publish(name("topic"), {"n": 2})
    bus.drain()
    assert [m.data for m in early] == [{"n": 2}]


def test_a_raising_handler_gets_the_message_again_until_it_returns(make_bus: Any, name: Any) -> None:
    bus = make_bus()
    got: list[Message] = []
    bus.subscribe(name("sub"), name("topic"), recorder(got, fail_first=2))
    mid = bus.publish(name("topic"), {"k": "v"})
    assert bus.drain() == 1
    assert [m.attempt for m in got] == [1, 2, 3]
    assert {m.message_id for m in got} == {mid}
    assert bus.drain() == 0


def test_after_max_attempts_the_message_goes_to_the_dead_letter_topic(make_bus: Any, name: Any) -> None:
    bus = make_bus()
    got: list[Message] = []
    dead: list[Message] = []
    bus.subscribe(name("dlq-reader"), name("topic") + "-dlq", recorder(dead))
    bus.subscribe(name("sub"), name("topic"), recorder(got, always_fail=True))
    bus.publish(name("topic"), {"order": 7}, {"brand_id": "b1"})
    bus.drain()
    assert [m.attempt for m in got] == list(range(1, MAX_ATTEMPTS + 1))
    assert len(dead) == 1
    assert dead[0].data == {"order": 7}
    assert dead[0].attributes["brand_id"] == "b1"
    assert dead[0].attributes["CloudPubSubDeadLetterSourceSubscription"] == name("sub")
    assert dead[0].attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == str(MAX_ATTEMPTS)
    bus.drain()
    assert len(got) == MAX_ATTEMPTS  # parked: not delivered again


def test_deliver_twice_hands_every_message_over_twice(make_bus: Any, name: Any) -> None:
    bus = make_bus(deliver_twice=True)
    got: list[Message] = []
    seen: set[str] = set()
    totals = {"rows": 0}

    def idempotent(m: Message) -> None:
        got.append(m)
        if m.message_id in seen:  # the at-least-once pattern every handler follows
            return
        seen.add(m.message_id)
        totals["rows"] += m.data["rows"]

    bus.subscribe(name("sub"), name("topic"), idempotent)
    ids = {bus.publish(name("topic"), {"rows": n}) for n in (2, 3)}
    assert bus.drain() == 4
    assert sorted(m.message_id for m in got) == sorted([*ids, *ids])
    assert totals == {"rows": 5}
    assert bus.drain() == 0


def test_handlers_may_publish_and_one_drain_runs_the_whole_pipeline(make_bus: Any, name: Any) -> None:
    bus = make_bus()
    done: list[Message] = []
    bus.subscribe(
        name("build"), name("synced"),
        lambda m: bus.publish(name("built"), {"brand_id": m.data["brand_id"], "step": 2}),
    )
    bus.subscribe(name("recommend"), name("built"), recorder(done))
    bus.publish(name("synced"), {"brand_id": "b1"})
    assert bus.drain() == 2
    assert [m.data for m in done] == [{"brand_id": "b1", "step": 2}]


def test_drain_stops_at_max_messages_and_keeps_the_rest(make_bus: Any, name: Any) -> None:
    bus = make_bus()
    got: list[Message] = []
    bus.subscribe(name("sub"), name("topic"), recorder(got))
    for n in range(3):
        bus.publish(name("topic"), {"n": n})
    assert bus.drain(max_messages=2) == 2
    assert bus.drain() == 1
    assert sorted(m.data["n"] for m in got) == [0, 1, 2]


@pytest.mark.parametrize(
    ("topic", "data", "attributes", "match"),
    [
        ("topic-ok", {"at": object()}, None, "JSON"),
        ("topic-ok", {"x": float("nan")}, None, "JSON"),
        ("topic-ok", ["not", "a", "map"], None, "JSON object"),
        ("topic-ok", {"x": 1}, {"n": 1}, "attributes"),
        ("t1", {"x": 1}, None, "bad topic name"),
        ("goog-topic", {"x": 1}, None, "bad topic name"),
    ],
)
def test_bad_messages_are_refused_before_sending(
    make_bus: Any, topic: str, data: Any, attributes: Any, match: str
) -> None:
    with pytest.raises(PortError, match=match):
        make_bus().publish(topic, data, attributes)


# --- the SQLite bus only -------------------------------------------------------------------------


def _local(tmp_path: Path, **kw: Any) -> Any:
    from tower.adapters.local_bus import LocalBus

    kw.setdefault("backoff_seconds", 0)
    return LocalBus(tmp_path / "bus.sqlite", **kw)


def test_undelivered_messages_survive_a_restart(tmp_path: Path) -> None:
    first = _local(tmp_path)
    first.declare("build-models", "tower-sync-completed")
    mid = first.publish("tower-sync-completed", {"brand_id": "b1"})
    first.close()
    second = _local(tmp_path)
    got: list[Message] = []
    second.subscribe("build-models", "tower-sync-completed", recorder(got))
    assert second.drain() == 1
    assert [m.message_id for m in got] == [mid]


_CRASH = """
import os, sys
from tower.adapters.local_bus import LocalBus
bus = LocalBus(sys.argv[1], backoff_seconds=0)
def handler(message):
    os._exit(17)  # the process dies mid-handler: no ack, no nack
bus.subscribe("build-models", "tower-sync-completed", handler)
bus.publish("tower-sync-completed", {"brand_id": "b1"})
bus.drain()
"""


def test_a_message_whose_handler_crashed_the_process_is_delivered_again(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _CRASH, str(tmp_path / "bus.sqlite")], timeout=60, check=False)
    assert proc.returncode == 17
    bus = _local(tmp_path)
    assert bus.pending("build-models") == 1
    got: list[Message] = []
    bus.subscribe("build-models", "tower-sync-completed", recorder(got))
    assert bus.drain() == 1
    # The crashed delivery counted: this is the second attempt.
    assert [(m.data, m.attempt) for m in got] == [({"brand_id": "b1"}, 2)]


_POISON = """
import os, sys
from tower.adapters.local_bus import LocalBus
bus = LocalBus(sys.argv[1], max_attempts=3, backoff_seconds=0)
def handler(message):
    print(message.attempt, flush=True)
    os._exit(17)  # a poison message: its handler kills the process every time
bus.subscribe("build-models", "tower-sync-completed", handler)
if sys.argv[2] == "publish":
    bus.publish("tower-sync-completed", {"brand_id": "b1"}, {"brand_id": "b1"})
bus.drain()
"""


def test_a_message_whose_handler_kills_the_process_is_dead_lettered_after_max_attempts(tmp_path: Path) -> None:
    watcher = _local(tmp_path)
    watcher.declare("dlq-watch", "tower-sync-completed-dlq")
    watcher.close()
    codes, seen = [], []
    for run in range(6):  # bounded: a message that is never parked would crash every run
        proc = subprocess.run(
            [sys.executable, "-c", _POISON, str(tmp_path / "bus.sqlite"), "drain" if run else "publish"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        codes.append(proc.returncode)
        seen += proc.stdout.split()
        if proc.returncode != 17:
            break
    assert codes == [17, 17, 17, 0] and seen == ["1", "2", "3"]
    bus = _local(tmp_path, max_attempts=3)
    assert bus.pending("build-models") == 0
    [dead] = bus.dead_letters("build-models")
    assert (dead.message.data, dead.attempts) == ({"brand_id": "b1"}, 3)
    assert dead.error.startswith("HandlerCrashed:") and "died" in dead.error
    forwarded: list[Message] = []
    bus.subscribe("dlq-watch", "tower-sync-completed-dlq", recorder(forwarded))
    assert bus.drain() == 1
    [m] = forwarded
    assert m.data == {"brand_id": "b1"} and m.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "3"


class _Crash(BaseException):
    """What a handler dying mid-flight looks like in process: not an Exception, so no nack."""


def test_a_delivery_whose_lease_expired_counts_as_an_attempt(tmp_path: Path) -> None:
    now = [1_000.0]
    a = _local(tmp_path, max_attempts=2, lease_seconds=60, backoff_seconds=10, clock=lambda: now[0])
    b = _local(tmp_path, max_attempts=2, lease_seconds=60, backoff_seconds=10, clock=lambda: now[0])
    got: list[Message] = []

    def hang(m: Message) -> None:
        got.append(m)
        raise _Crash

    a.subscribe("sub-a", "topic-a", hang)
    b.subscribe("sub-a", "topic-a", hang)
    a.publish("topic-a", {"x": 1})
    with pytest.raises(_Crash):
        a.drain()
    now[0] += 59.9
    assert b.drain() == 0 and len(got) == 1  # still leased
    now[0] += 0.1
    assert b.drain() == 0 and len(got) == 1  # lease expired: first attempt failed, back off 10 s
    now[0] += 10
    with pytest.raises(_Crash):
        b.drain()
    now[0] += 60
    assert b.drain() == 0 and [m.attempt for m in got] == [1, 2]
    [dead] = b.dead_letters()
    assert dead.attempts == 2 and dead.error.startswith("LeaseExpired:")
    assert b.pending() == 0



def _slow_pair(tmp_path: Path, max_attempts: int) -> tuple[Any, Any, list[float]]:
    """Two buses on one file and one injected clock: a 60 s lease, then a 10 s backoff."""
    now = [1_000.0]
    kw: dict[str, Any] = {"max_attempts": max_attempts, "lease_seconds": 60, "backoff_seconds": 10,
                          "clock": lambda: now[0]}
    return _local(tmp_path, **kw), _local(tmp_path, **kw), now


def test_a_late_failure_does_not_undo_the_ack_of_the_redelivery(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, now = _slow_pair(tmp_path, max_attempts=3)
    got_b: list[Message] = []
    b.subscribe("sub-a", "topic-a", recorder(got_b))
    inner: list[int] = []

    def outlives_its_lease(m: Message) -> None:
        now[0] += 60  # the lease expires while this handler still runs
        inner.append(b.drain())  # another consumer recovers the message: pending after the backoff
        now[0] += 10
        inner.append(b.drain())  # and acks its redelivery
        raise RuntimeError("the slow handler fails at last")

    a.subscribe("sub-a", "topic-a", outlives_its_lease)
    a.publish("topic-a", {"x": 1})
    with caplog.at_level("WARNING", logger="tower.adapters.local_bus"):
        assert a.drain() == 0
    assert inner == [0, 1] and [m.attempt for m in got_b] == [2]
    # The redelivery's ack stands: the late failure neither requeues nor parks the message.
    assert b.pending() == 0 and b.drain(ignore_delay=True) == 0 and len(got_b) == 1
    assert b.dead_letters() == []
    assert [getattr(r, "state", None) for r in caplog.records if r.getMessage() == "bus late result dropped"] == ["done"]


def test_a_late_ack_after_the_lease_was_recovered_leaves_the_message_to_its_redelivery(tmp_path: Path) -> None:
    a, b, now = _slow_pair(tmp_path, max_attempts=3)
    got_b: list[Message] = []
    b.subscribe("sub-a", "topic-a", recorder(got_b))
    inner: list[int] = []

    def outlives_its_lease(m: Message) -> None:
        now[0] += 60
        inner.append(b.drain())  # recovers the expired lease: pending again, after the backoff

    a.subscribe("sub-a", "topic-a", outlives_its_lease)
    a.publish("topic-a", {"x": 1})
    assert a.drain() == 0  # the late ack is not counted: it settled nothing
    assert inner == [0] and b.pending() == 1
    now[0] += 10
    assert b.drain() == 1 and [m.attempt for m in got_b] == [2]
    assert b.pending() == 0


def test_a_late_failure_after_the_message_was_parked_does_not_park_it_again(tmp_path: Path) -> None:
    a, b, now = _slow_pair(tmp_path, max_attempts=1)
    b.declare("dlq-watch", "topic-a-dlq")
    b.subscribe("sub-a", "topic-a", recorder([]))

    def outlives_its_lease(m: Message) -> None:
        now[0] += 60
        b.drain()  # recovers the expired lease: its one attempt is used up, so it is parked
        raise RuntimeError("the slow handler fails at last")

    a.subscribe("sub-a", "topic-a", outlives_its_lease)
    a.publish("topic-a", {"x": 1})
    assert a.drain() == 0
    [dead] = b.dead_letters("sub-a")
    assert dead.attempts == 1 and dead.error.startswith("LeaseExpired:")
    forwarded: list[Message] = []
    b.subscribe("dlq-watch", "topic-a-dlq", recorder(forwarded))
    assert b.drain() == 1 and len(forwarded) == 1  # forwarded to the DLQ once, not twice


def test_a_bus_file_from_before_lease_tokens_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    _local(tmp_path).close()
    con = sqlite3.connect(tmp_path / "bus.sqlite")
    con.execute("ALTER TABLE deliveries DROP COLUMN lease_token")
    con.close()
    bus = _local(tmp_path)
    got: list[Message] = []
    bus.subscribe("sub-a", "topic-a", recorder(got))
    bus.publish("topic-a", {"x": 1})
    assert bus.drain() == 1 and len(got) == 1 and bus.pending() == 0


def test_retries_wait_for_an_exponential_backoff_on_an_injected_clock(tmp_path: Path) -> None:
    now = [1_000.0]
    bus = _local(tmp_path, backoff_seconds=10, clock=lambda: now[0])
    got: list[Message] = []
    bus.subscribe("sub-a", "topic-a", recorder(got, fail_first=2))
    bus.publish("topic-a", {"x": 1})
    assert bus.drain() == 0 and len(got) == 1  # failed once: next try at +10 s
    now[0] += 9.9
    assert bus.drain() == 0 and len(got) == 1
    now[0] += 0.1
    assert bus.drain() == 0 and len(got) == 2  # failed twice: next try 20 s later
    now[0] += 19.9
    assert bus.drain() == 0 and len(got) == 2
    assert bus.drain(ignore_delay=True) == 1 and len(got) == 3
    assert bus.pending() == 0


def test_dead_letters_are_listed_and_can_be_replayed(tmp_path: Path) -> None:
    bus = _local(tmp_path, max_attempts=2)
    got: list[Message] = []
    healthy = [False]

    def handler(m: Message) -> None:
        got.append(m)
        if not healthy[0]:
            raise ValueError("downstream is down")

    bus.subscribe("sub-a", "topic-a", handler)
    mid = bus.publish("topic-a", {"x": 1}, {"brand_id": "b1"})
    assert bus.drain() == 0
    [dead] = bus.dead_letters()
    assert (dead.message.message_id, dead.subscription, dead.attempts) == (mid, "sub-a", 2)
    assert dead.message.data == {"x": 1} and "downstream is down" in dead.error
    with pytest.raises(NotFound):
        bus.replay("no-such-id")
    healthy[0] = True
    assert bus.replay(mid) == 1
    assert bus.dead_letters() == []
    assert bus.drain() == 1
    assert [m.attempt for m in got] == [1, 2, 1]


def test_a_leased_message_is_not_delivered_by_another_bus_meanwhile(tmp_path: Path) -> None:
    a = _local(tmp_path)
    b = _local(tmp_path)
    inner: list[int] = []
    got_b: list[Message] = []
    b.subscribe("sub-a", "topic-a", recorder(got_b))
    a.subscribe("sub-a", "topic-a", lambda m: inner.append(b.drain()))
    a.publish("topic-a", {"x": 1})
    assert a.drain() == 1
    assert inner == [0] and got_b == []
    assert b.drain() == 0


def test_a_subscription_is_bound_to_one_topic(tmp_path: Path) -> None:
    bus = _local(tmp_path)
    bus.declare("sub-a", "topic-a")
    with pytest.raises(PortError, match="bound to topic"):
        bus.subscribe("sub-a", "topic-b", recorder([]))
