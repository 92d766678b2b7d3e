"""DocumentStore contract: one suite, run on the SQLite store and on Firestore (official emulator).

Proven how: ``LocalStore`` directly (plus multi-process tests only it needs); ``FirestoreStore``
through google-cloud-firestore against the official Firestore emulator from google-cloud-cli,
reset between tests. The expected query results below were taken from the emulator, so the local
store is held to Firestore's own rules (typed comparisons, cross-type ordering, ``!=`` and
missing fields).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import emulators
import pytest
from contract_emulators import PROJECT, emulated

from tower.ports import ChangeStamped, Conflict, DocQuery, DocumentStore, PortError, Where


@pytest.fixture(params=["local", emulated("firestore")])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    if request.param == "local":
        from tower.adapters.local_store import LocalStore

        s: Any = LocalStore(tmp_path / "store.sqlite")
    else:
        emu = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emu.host)
        emulators.reset_firestore(emu, PROJECT)
        from tower.adapters.firestore_store import FirestoreStore

        s = FirestoreStore(PROJECT)
    yield s
    s.close()


def ids(results: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [p.rsplit("/", 1)[1] for p, _ in results]


def test_is_a_document_store(store: Any) -> None:
    assert isinstance(store, DocumentStore)


def test_the_change_stamp_moves_with_every_kind_of_write_and_not_with_reads(store: Any) -> None:
    """What the API's reuse of key lookups and answers relies on (tower.api.ready)."""
    assert isinstance(store, ChangeStamped)
    seen = [store.change_stamp()]

    def moved() -> bool:
        seen.append(store.change_stamp())
        return seen[-1] != seen[-2]

    store.get("things/a")
    store.query(DocQuery("things"))
    assert not moved()
    store.set("things/a", {"n": 1})
    assert moved()
    store.merge("things/a", {"m": 2})
    assert moved()
    store.create("things/b", {"n": 3})
    assert moved()
    store.delete("things/b")
    assert moved()
    batch = store.batch()
    batch.set("things/c", {"n": 4})
    batch.commit()
    assert moved()
    store.transaction(lambda txn: txn.set("things/d", {"n": 5}))
    assert moved()


def test_the_local_change_stamp_moves_when_another_connection_commits(tmp_path: Path) -> None:
    """Another process (the CLI, a build) writing the embedded store is seen at once."""
    from tower.adapters.local_store import LocalStore

    here, there = LocalStore(tmp_path / "store.sqlite"), LocalStore(tmp_path / "store.sqlite")
    here.change_poll_seconds = 0  # read SQLite's data_version every time (20 ms apart by default)
    try:
        before = here.change_stamp()
        there.set("things/a", {"n": 1})
        assert here.change_stamp() != before
    finally:
        here.close()
        there.close()


def test_get_missing_is_none_and_set_round_trips_every_value_type(store: Any) -> None:
    assert store.get("brands/b1") is None
    ts = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
    doc = {
        "name": "Acme ✓", "n": 3, "x": 2.5, "ok": True, "none": None, "raw": b"\x00\xff",
        "at": ts, "naive_at": datetime(2026, 1, 2, 3, 4, 5),
        "tags": ["a", 1, None, {"k": "v"}], "nested": {"a": {"b": [1, 2]}, "empty": {}},
    }
    store.set("brands/b1", doc)
    got = store.get("brands/b1")
    assert got is not None
    assert got["at"] == ts and got["at"].utcoffset() == timedelta(0)
    # A naive datetime is read as UTC (Firestore's rule) and comes back aware.
    assert got["naive_at"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert {k: v for k, v in got.items() if k not in ("at", "naive_at")} == {
        k: v for k, v in doc.items() if k not in ("at", "naive_at")
    }
    assert type(got["n"]) is int and type(got["x"]) is float and got["ok"] is True


def test_set_replaces_the_whole_document(store: Any) -> None:
    store.set("brands/b1", {"a": 1, "b": {"c": 2}})
    store.set("brands/b1", {"b": {"d": 3}})
    assert store.get("brands/b1") == {"b": {"d": 3}}


def test_merge_deep_merges_maps_and_replaces_everything_else(store: Any) -> None:
    store.merge("brands/b2", {"a": 1})  # merge creates a missing document
    assert store.get("brands/b2") == {"a": 1}
    store.set("brands/b1", {"a": {"b": 1, "c": {"d": 2}}, "l": [1, 2], "keep": "x", "m": {"z": 1}})
    store.merge("brands/b1", {"a": {"c": {"e": 3}}, "l": [3], "new": None, "m": {}})
    assert store.get("brands/b1") == {
        "a": {"b": 1, "c": {"d": 2, "e": 3}},
        "l": [3],  # lists are replaced, not merged
        "keep": "x",
        "new": None,
        "m": {},  # an empty map replaces the field (checked against the emulator)
    }


def test_delete_removes_the_document_but_not_its_subcollections(store: Any) -> None:
    store.set("brands/b1", {"a": 1})
    store.set("brands/b1/alerts/a1", {"kind": "stockout"})
    store.delete("brands/b1")
    store.delete("brands/never-existed")  # deleting a missing document is not an error
    assert store.get("brands/b1") is None
    assert store.get("brands/b1/alerts/a1") == {"kind": "stockout"}


def test_create_only_when_absent(store: Any) -> None:
    assert store.create("locks/sync-b1", {"owner": "first"}) is True
    assert store.create("locks/sync-b1", {"owner": "second"}) is False
    assert store.get("locks/sync-b1") == {"owner": "first"}


@pytest.fixture
def things(store: Any) -> Any:
    docs = {
        "a": {"n": None, "i": 0, "tags": ["red"]},
        "b": {"n": 1, "i": 1, "tags": ["red", "green"], "m": {"z": 1}},
        "c": {"n": 2, "i": 2},
        "d": {"n": 1, "i": 3, "m": {"z": 2}},
        "e": {"n": [1, 2], "i": 4},
        "f": {"n": {"z": 1}, "i": 5},
        "g": {"n": 1.0, "i": 6},
        "h": {"n": "1", "i": 7, "tags": "red"},
        "k": {"n": True, "i": 8},
        "z": {"i": 9},
    }
    batch = store.batch()
    for doc_id, data in docs.items():
        batch.set(f"things/{doc_id}", data)
    batch.commit()
    return store


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ([Where("n", "==", 1)], ["b", "d", "g"]),  # 1 == 1.0; True and "1" are other types
        ([Where("n", "==", None)], ["a"]),
        ([Where("n", "!=", 1)], ["k", "c", "h", "e", "f"]),  # != skips null and missing; ordered by n
        ([Where("n", ">", 1)], ["c"]),  # range filters only match the operand's type
        ([Where("n", ">=", 1)], ["b", "d", "g", "c"]),
        ([Where("n", "<", 2)], ["b", "d", "g"]),
        ([Where("n", "<=", "1")], ["h"]),
        ([Where("n", "in", [2, "1", True])], ["c", "h", "k"]),
        ([Where("tags", "array_contains", "red")], ["a", "b"]),  # "red" as a plain string does not count
        ([Where("m.z", "==", 2)], ["d"]),  # dotted paths reach into maps
        ([Where("n", "==", 1), Where("i", ">", 1)], ["d", "g"]),
        ([Where("n", "==", [1, 2])], ["e"]),
    ],
)
def test_query_filters_follow_firestore(things: Any, where: list[Where], expected: list[str]) -> None:
    assert ids(things.query(DocQuery("things", where=where))) == expected


def test_query_orders_across_types_ties_on_id_and_skips_missing_fields(things: Any) -> None:
    asc = ids(things.query(DocQuery("things", order_by=[("n", "asc")])))
    assert asc == ["a", "k", "b", "d", "g", "c", "h", "e", "f"]  # null < bool < numbers < str < array < map
    desc = ids(things.query(DocQuery("things", order_by=[("n", "desc")])))
    assert desc == list(reversed(asc))
    limited = things.query(DocQuery("things", order_by=[("i", "desc")], limit=3))
    assert ids(limited) == ["z", "k", "h"]
    assert [d["i"] for _, d in limited] == [9, 8, 7]
    both = DocQuery("things", where=[Where("n", ">", 0)], order_by=[("i", "desc")])
    assert ids(things.query(both)) == ["g", "d", "c", "b"]
    assert ids(things.query(DocQuery("things"))) == list("abcdefghkz")  # no order: by id


def test_query_of_a_subcollection_returns_full_paths_of_that_collection_only(store: Any) -> None:
    store.set("brands/b1/alerts/x1", {"sev": 2})
    store.set("brands/b1/alerts/x2", {"sev": 1})
    store.set("brands/b2/alerts/x3", {"sev": 3})
    store.set("brands/b1/recommendations/r1", {"sev": 9})
    got = store.query(DocQuery("brands/b1/alerts", order_by=[("sev", "asc")]))
    assert got == [("brands/b1/alerts/x2", {"sev": 1}), ("brands/b1/alerts/x1", {"sev": 2})]
    assert store.query(DocQuery("brands/b9/alerts")) == []


def test_transaction_reads_then_writes_together(store: Any) -> None:
    store.set("counters/c", {"n": 1})

    def bump(txn: Any) -> int:
        n = txn.get("counters/c")["n"] + 1
        assert txn.get("counters/missing") is None
        txn.set("counters/c", {"n": n})
        txn.merge("counters/log", {"last": n})
        return n

    assert store.transaction(bump) == 2
    assert store.get("counters/c") == {"n": 2}
    assert store.get("counters/log") == {"last": 2}


def test_transaction_rolls_back_when_fn_raises(store: Any) -> None:
    store.set("counters/c", {"n": 1})

    def broken(txn: Any) -> None:
        txn.get("counters/c")
        txn.set("counters/c", {"n": 99})
        txn.delete("counters/c")
        raise KeyError("boom")

    with pytest.raises(KeyError):
        store.transaction(broken)
    assert store.get("counters/c") == {"n": 1}


def test_transaction_refuses_read_after_write(store: Any) -> None:
    store.set("counters/c", {"n": 1})

    def bad(txn: Any) -> None:
        txn.set("counters/c", {"n": 2})
        txn.get("counters/c")

    with pytest.raises(PortError, match="read after write"):
        store.transaction(bad)
    assert store.get("counters/c") == {"n": 1}


def test_transaction_create_of_an_existing_document_conflicts_and_writes_nothing(store: Any) -> None:
    store.set("locks/l1", {"owner": "first"})

    def claim(txn: Any) -> None:
        txn.set("locks/audit", {"claimed": True})
        txn.create("locks/l1", {"owner": "second"})

    with pytest.raises(Conflict):
        store.transaction(claim)
    assert store.get("locks/l1") == {"owner": "first"}
    assert store.get("locks/audit") is None


def test_concurrent_transactions_do_not_lose_updates(store: Any) -> None:
    # The Firestore emulator resolves each lock conflict by waiting ~2 s, so it gets a small load;
    # the local store (the one whose locking is ours) gets more threads and rounds.
    n_threads, rounds = (3, 5) if type(store).__name__ == "LocalStore" else (2, 1)
    store.set("counters/c", {"n": 0})
    errors: list[Exception] = []

    def worker() -> None:
        try:
            for _ in range(rounds):
                store.transaction(lambda t: t.set("counters/c", {"n": t.get("counters/c")["n"] + 1}))
        except Exception as e:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert store.get("counters/c") == {"n": n_threads * rounds}


def test_batch_writes_nothing_until_commit_then_everything(store: Any) -> None:
    store.set("brands/old", {"a": 1})
    store.set("brands/m", {"a": {"b": 1}})
    batch = store.batch()
    batch.set("brands/new", {"a": 2})
    batch.merge("brands/m", {"a": {"c": 2}})
    batch.delete("brands/old")
    assert store.get("brands/new") is None and store.get("brands/old") == {"a": 1}
    batch.commit()
    assert store.get("brands/new") == {"a": 2}
    assert store.get("brands/m") == {"a": {"b": 1, "c": 2}}
    assert store.get("brands/old") is None


@pytest.mark.parametrize("path", ["brands", "brands/b1/alerts", "", "brands//x", "/"])
def test_bad_document_paths_are_refused(store: Any, path: str) -> None:
    with pytest.raises(PortError, match="document path"):
        store.set(path, {"a": 1})
    with pytest.raises(PortError, match="document path"):
        store.get(path)


@pytest.mark.parametrize("value", [date(2026, 1, 1), Decimal("1.50"), {1: "int key"}, [[1, 2]], object()])
def test_values_firestore_cannot_store_are_refused_by_every_adapter(store: Any, value: Any) -> None:
    with pytest.raises(PortError):
        store.set("brands/b1", {"v": value})
    assert store.get("brands/b1") is None


@pytest.mark.parametrize(
    "q",
    [
        DocQuery("things", where=[Where("n", "like", 1)]),
        DocQuery("things", where=[Where("n", "in", [])]),
        DocQuery("things", where=[Where("n", "<", None)]),
        DocQuery("things", order_by=[("n", "up")]),
        DocQuery("brands/b1"),
    ],
)
def test_bad_queries_are_refused(store: Any, q: DocQuery) -> None:
    with pytest.raises(PortError):
        store.query(q)


# --- the SQLite store only: several processes on one file ------------------------------------------

_INCREMENT = """
import sys
from tower.adapters.local_store import LocalStore
s = LocalStore(sys.argv[1])
for _ in range(int(sys.argv[2])):
    s.transaction(lambda t: t.set("counters/c", {"n": t.get("counters/c")["n"] + 1}))
"""


def test_local_store_is_safe_for_several_processes(tmp_path: Path) -> None:
    from tower.adapters.local_store import LocalStore

    path = tmp_path / "shared.sqlite"
    s = LocalStore(path)
    s.set("counters/c", {"n": 0})
    procs = [
        subprocess.Popen([sys.executable, "-c", _INCREMENT, str(path), "10"]) for _ in range(3)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert s.get("counters/c") == {"n": 30}
    mode = s._con.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    s.close()
