"""TaskQueue contract: one suite, run on the local SQLite queue and on the Cloud Tasks adapter.

Proven how: ``LocalTasks`` directly (plus restart, backoff, dead-task replay and leases).
``CloudTasksQueue`` through the real google-cloud-tasks client and its real gRPC transport against
an in-memory Cloud Tasks on 127.0.0.1 (tests/contract/grpc_fakes.py), which parses CreateTask with
the package's own message classes, enforces task-name dedup with ALREADY_EXISTS, and dispatches each
task as Cloud Tasks does — an HTTP POST to ``{target}/{handler}`` with the ``X-CloudTasks-*``
headers — to a loopback HTTP server whose requests go through ``CloudTasksQueue.handle_http``.
A request-level test pins the CreateTask request (parent, name, URL, body, OIDC token, schedule).
The public Cloud Tasks emulators are too buggy to rely on (see ../shared/guide/APIS.md).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_bigquery import QuietHandler
from grpc_fakes import FakeCloudTasks
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tower import names
from tower.ports import NotFound, PortError, Task, TaskQueue

PROJECT, LOCATION = "tower-test", "europe-west1"
MAX_ATTEMPTS = 3
SERVICE_ACCOUNT = "tasks-invoker@tower-test.iam.gserviceaccount.com"


class Harness:
    """A queue plus the way to make its due tasks run (local drain, or Cloud Tasks' dispatch)."""

    def __init__(self, queue: Any, run: Callable[[bool], int]) -> None:
        self.queue = queue
        self._run = run

    def run_due(self, ignore_delay: bool = False) -> int:
        return self._run(ignore_delay)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback HTTP server standing in for the task-handler functions (routes set per test)."""
    routes: dict[str, Any] = {}

    @Request.application  # type: ignore[misc]
    def app(request: Request) -> Response:
        queue = routes["queue"]
        # Each deployed function knows its own entry point; here the path's function name gives it back.
        handler = request.path.rsplit("/", 1)[-1].removeprefix(names.FUNCTION_PREFIX).replace("-", "_")
        try:
            queue.handle_http(handler, dict(request.headers), request.get_data())
        except Exception as e:  # noqa: BLE001 - a raising handler means retry: answer 500 like a function
            return Response(f"{type(e).__name__}: {e}", status=500)
        return Response("ok")

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/fn", routes
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def fake_tasks() -> Iterator[FakeCloudTasks]:
    fake = FakeCloudTasks(PROJECT, LOCATION, max_attempts=MAX_ATTEMPTS).start()
    yield fake
    fake.stop()


@pytest.fixture(params=["local", "cloudtasks"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "local":
        from tower.adapters.local_tasks import LocalTasks

        q: Any = LocalTasks(tmp_path / "tasks.sqlite", max_attempts=MAX_ATTEMPTS, backoff_seconds=0)
        yield Harness(q, lambda ignore_delay: q.drain(ignore_delay=ignore_delay))
    else:
        from tower.adapters.cloud_tasks import CloudTasksQueue

        fake = request.getfixturevalue("fake_tasks")
        url, routes = request.getfixturevalue("receiver")
        q = CloudTasksQueue(PROJECT, LOCATION, url, SERVICE_ACCOUNT, client=fake.client())
        routes["queue"] = q
        yield Harness(q, lambda ignore_delay: fake.dispatch(ignore_delay=ignore_delay))
    q.close()


def recorder(log: list[Task], fail_first: int = 0, always_fail: bool = False) -> Callable[[Task], None]:
    def run(task: Task) -> None:
        log.append(task)
        if always_fail or len(log) <= fail_first:
            raise RuntimeError(f"refusing attempt {task.attempt}")

    return run


def test_is_a_task_queue(harness: Harness) -> None:
    assert isinstance(harness.queue, TaskQueue)


def test_an_enqueued_task_runs_once_with_its_payload(harness: Harness) -> None:
    got: list[Task] = []
    harness.queue.register("apply_budget_change", recorder(got))
    tid = harness.queue.enqueue(
        "tower-budget-changes", "apply_budget_change", {"change_id": "c1", "amount": "12.50", "ids": [1, 2]},
        task_id="change-c1",
    )
    assert tid == "change-c1"
    assert harness.run_due() == 1
    assert harness.run_due() == 0
    [task] = got
    assert task.queue == "tower-budget-changes" and task.handler == "apply_budget_change"
    assert task.payload == {"change_id": "c1", "amount": "12.50", "ids": [1, 2]}
    assert (task.task_id, task.attempt) == ("change-c1", 1)


def test_a_task_id_already_used_is_not_enqueued_again(harness: Harness) -> None:
    got: list[Task] = []
    harness.queue.register("sync_shop", recorder(got))
    assert harness.queue.enqueue("tower-sync", "sync_shop", {"n": 1}, task_id="sync-b1-2026-11-22") == (
        "sync-b1-2026-11-22"
    )
    assert harness.queue.enqueue("tower-sync", "sync_shop", {"n": 2}, task_id="sync-b1-2026-11-22") == (
        "sync-b1-2026-11-22"
    )
    assert harness.run_due() == 1
    # Even after it ran, the name stays taken (Cloud Tasks reserves it for about an hour).
    harness.queue.enqueue("tower-sync", "sync_shop", {"n": 3}, task_id="sync-b1-2026-11-22")
    assert harness.run_due() == 0
    assert [t.payload for t in got] == [{"n": 1}]


def test_tasks_without_an_id_get_distinct_ids(harness: Harness) -> None:
    got: list[Task] = []
    harness.queue.register("sync_shop", recorder(got))
    a = harness.queue.enqueue("tower-sync", "sync_shop", {"n": 1})
    b = harness.queue.enqueue("tower-sync", "sync_shop", {"n": 1})
    assert a and b and a != b
    assert harness.run_due() == 2
    assert sorted(t.task_id for t in got) == sorted([a, b])


def test_a_delayed_task_waits_for_its_time(harness: Harness) -> None:
    got: list[Task] = []
    harness.queue.register("poll_report", recorder(got))
    harness.queue.enqueue("tower-sync", "poll_report", {"report": "r1"}, delay_seconds=3600)
    assert harness.run_due() == 0 and got == []
    assert harness.run_due(ignore_delay=True) == 1
    assert [t.payload for t in got] == [{"report": "r1"}]


def test_a_failing_task_is_retried_with_a_growing_attempt(harness: Harness) -> None:
    got: list[Task] = []
    harness.queue.register("sync_shop", recorder(got, fail_first=2))
    harness.queue.enqueue("tower-sync", "sync_shop", {"n": 1}, task_id="t-retry")
    assert harness.run_due() == 1
    assert [t.attempt for t in got] == [1, 2, 3]
    assert {t.task_id for t in got} == {"t-retry"}


def test_a_task_stops_after_max_attempts(harness: Harness) -> None:
    got: list[Task] = []
    harness.queue.register("sync_shop", recorder(got, always_fail=True))
    harness.queue.enqueue("tower-sync", "sync_shop", {"n": 1}, task_id="t-doomed")
    assert harness.run_due() == 0
    assert harness.run_due(ignore_delay=True) == 0
    assert [t.attempt for t in got] == list(range(1, MAX_ATTEMPTS + 1))


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("tower_sync", "sync_shop", {}), {}, "queue name"),
        (("tower-sync", "sync-shop", {}), {}, "handler name"),
        (("tower-sync", "sync_shop", {}), {"task_id": "has:colon"}, "task id"),
        (("tower-sync", "sync_shop", {"at": object()}), {}, "JSON"),
        (("tower-sync", "sync_shop", ["list"]), {}, "JSON object"),
        (("tower-sync", "sync_shop", {}), {"delay_seconds": -1}, "delay"),
    ],
)
def test_bad_tasks_are_refused(harness: Harness, args: tuple[Any, ...], kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(PortError, match=match):
        harness.queue.enqueue(*args, **kwargs)


def test_task_id_for_makes_valid_deterministic_ids() -> None:
    from tower.adapters.local_tasks import check_task, task_id_for

    assert task_id_for("budget", "b1", "rec-7") == "budget-b1-rec-7"
    odd = task_id_for("budget", "gid://shopify/Order/1")
    assert odd == task_id_for("budget", "gid://shopify/Order/1")
    assert odd != task_id_for("budget", "gid-//shopify/Order/1")
    check_task("tower-sync", "sync_shop", odd)


# --- Cloud Tasks: what goes over the wire ----------------------------------------------------------


def test_cloud_tasks_create_task_request(fake_tasks: FakeCloudTasks) -> None:
    from google.cloud import tasks_v2

    from tower.adapters.cloud_tasks import CloudTasksQueue

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    q = CloudTasksQueue(PROJECT, LOCATION, "https://europe-west1-tower-test.cloudfunctions.net/", SERVICE_ACCOUNT,
                        client=fake_tasks.client(), clock=lambda: now)
    q.enqueue("tower-budget-changes", "apply_budget_change", {"change_id": "c1"}, task_id="change-c1",
              delay_seconds=90)
    [req] = fake_tasks.requests
    parent = f"projects/{PROJECT}/locations/{LOCATION}/queues/tower-budget-changes"
    assert req.parent == parent
    task = req.task
    assert task.name == f"{parent}/tasks/change-c1"
    assert task.schedule_time == now + timedelta(seconds=90)
    http = task.http_request
    # The deployed function's name (tower-apply-budget-change), not the entry point's: the entry point
    # alone answers 404 on cloudfunctions.net.
    url = "https://europe-west1-tower-test.cloudfunctions.net/tower-apply-budget-change"
    assert http.url == url
    assert http.http_method == tasks_v2.HttpMethod.POST
    assert http.headers["Content-Type"] == "application/json"
    assert http.body == b'{"change_id":"c1"}'
    assert http.oidc_token.service_account_email == SERVICE_ACCOUNT
    assert http.oidc_token.audience == url
    # Without a delay no schedule_time is sent (Cloud Tasks runs it now); without an id, no name.
    q.enqueue("tower-sync", "sync_shop", {})
    assert "schedule_time" not in fake_tasks.requests[1].task and not fake_tasks.requests[1].task.name
    q.close()


def test_cloud_tasks_handle_http_needs_a_registered_handler(fake_tasks: FakeCloudTasks) -> None:
    from tower.adapters.cloud_tasks import CloudTasksQueue, task_from_http

    q = CloudTasksQueue(PROJECT, LOCATION, "https://example.test", client=fake_tasks.client())
    with pytest.raises(PortError, match="no task handler"):
        q.handle_http("sync_shop", {}, b"{}")
    headers = {"x-cloudtasks-queuename": "tower-sync", "X-CloudTasks-TaskName": "t1",
               "X-CloudTasks-TaskRetryCount": "2"}
    assert task_from_http("sync_shop", headers, b'{"a": 1}') == Task("tower-sync", "sync_shop", {"a": 1}, "t1", 3)
    with pytest.raises(PortError, match="not JSON"):
        task_from_http("sync_shop", headers, b"not json")
    q.close()


# --- the SQLite queue only -------------------------------------------------------------------------


def _local(tmp_path: Path, **kw: Any) -> Any:
    from tower.adapters.local_tasks import LocalTasks

    kw.setdefault("backoff_seconds", 0)
    return LocalTasks(tmp_path / "tasks.sqlite", **kw)


def test_local_tasks_survive_a_restart(tmp_path: Path) -> None:
    first = _local(tmp_path)
    first.enqueue("tower-sync", "sync_shop", {"brand_id": "b1"}, task_id="t1")
    first.close()
    second = _local(tmp_path)
    got: list[Task] = []
    second.register("sync_shop", recorder(got))
    assert second.drain() == 1 and [t.task_id for t in got] == ["t1"]


_POISON = """
import os, sys
from tower.adapters.local_tasks import LocalTasks
q = LocalTasks(sys.argv[1], max_attempts=3, backoff_seconds=0)
def run(task):
    print(task.attempt, flush=True)
    os._exit(17)  # a poison task: its handler kills the process every time
q.register("sync_shop", run)
q.enqueue("tower-sync", "sync_shop", {"brand_id": "b1"}, task_id="t1")  # the same id: enqueued once
q.drain()
"""


def test_local_a_task_whose_handler_kills_the_process_is_parked_after_max_attempts(tmp_path: Path) -> None:
    codes, seen = [], []
    for _ in range(6):  # bounded: a task that is never parked would crash every run
        proc = subprocess.run([sys.executable, "-c", _POISON, str(tmp_path / "tasks.sqlite")],
                              capture_output=True, text=True, timeout=60, check=False)
        codes.append(proc.returncode)
        seen += proc.stdout.split()
        if proc.returncode != 17:
            break
    assert codes == [17, 17, 17, 0] and seen == ["1", "2", "3"]
    q = _local(tmp_path, max_attempts=3)
    assert q.pending() == 0
    [dead] = q.dead_tasks()
    assert (dead.task.task_id, dead.task.attempt) == ("t1", 3)
    assert dead.error.startswith("HandlerCrashed:") and "died" in dead.error


class _Crash(BaseException):
    """What a handler dying mid-flight looks like in process: not an Exception, so no retry."""


def test_local_a_task_whose_lease_expired_counts_as_an_attempt(tmp_path: Path) -> None:
    now = [0.0]
    a = _local(tmp_path, max_attempts=2, lease_seconds=60, backoff_seconds=10, clock=lambda: now[0])
    b = _local(tmp_path, max_attempts=2, lease_seconds=60, backoff_seconds=10, clock=lambda: now[0])
    got: list[Task] = []

    def hang(t: Task) -> None:
        got.append(t)
        raise _Crash

    a.register("sync_shop", hang)
    b.register("sync_shop", hang)
    a.enqueue("tower-sync", "sync_shop", {}, task_id="t1")
    with pytest.raises(_Crash):
        a.drain()
    now[0] = 59.9
    assert b.drain() == 0 and len(got) == 1  # still leased
    now[0] = 60.0
    assert b.drain() == 0 and len(got) == 1  # lease expired: first attempt failed, back off 10 s
    now[0] = 70.0
    with pytest.raises(_Crash):
        b.drain()
    now[0] = 130.0
    assert b.drain() == 0 and [t.attempt for t in got] == [1, 2]
    [dead] = b.dead_tasks()
    assert dead.task.attempt == 2 and dead.error.startswith("LeaseExpired:")
    assert b.pending() == 0



def _slow_pair(tmp_path: Path, max_attempts: int) -> tuple[Any, Any, list[float]]:
    """Two queues on one file and one injected clock: a 60 s lease, then a 10 s backoff."""
    now = [0.0]
    kw: dict[str, Any] = {"max_attempts": max_attempts, "lease_seconds": 60, "backoff_seconds": 10,
                          "clock": lambda: now[0]}
    return _local(tmp_path, **kw), _local(tmp_path, **kw), now


def test_local_a_late_failure_does_not_undo_the_run_that_finished_the_task(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, now = _slow_pair(tmp_path, max_attempts=3)
    got_b: list[Task] = []
    b.register("sync_shop", recorder(got_b))
    inner: list[int] = []

    def outlives_its_lease(t: Task) -> None:
        now[0] += 60  # the lease expires while this handler still runs
        inner.append(b.drain())  # another queue recovers the task: pending after the backoff
        now[0] += 10
        inner.append(b.drain())  # and runs it to the end
        raise RuntimeError("the slow handler fails at last")

    a.register("sync_shop", outlives_its_lease)
    a.enqueue("tower-sync", "sync_shop", {}, task_id="t1")
    with caplog.at_level("WARNING", logger="tower.adapters.local_tasks"):
        assert a.drain() == 0
    assert inner == [0, 1] and [t.attempt for t in got_b] == [2]
    # The second run's success stands: the late failure neither schedules a retry nor parks the task.
    assert b.pending() == 0 and b.drain(ignore_delay=True) == 0 and len(got_b) == 1
    assert b.dead_tasks() == []
    assert [getattr(r, "state", None) for r in caplog.records if r.getMessage() == "task late result dropped"] == ["done"]


def test_local_a_late_success_after_the_lease_was_recovered_leaves_the_task_to_its_retry(tmp_path: Path) -> None:
    a, b, now = _slow_pair(tmp_path, max_attempts=3)
    got_b: list[Task] = []
    b.register("sync_shop", recorder(got_b))
    inner: list[int] = []

    def outlives_its_lease(t: Task) -> None:
        now[0] += 60
        inner.append(b.drain())  # recovers the expired lease: pending again, after the backoff

    a.register("sync_shop", outlives_its_lease)
    a.enqueue("tower-sync", "sync_shop", {}, task_id="t1")
    assert a.drain() == 0  # the late success is not counted: it recorded nothing
    assert inner == [0] and b.pending() == 1
    now[0] += 10
    assert b.drain() == 1 and [t.attempt for t in got_b] == [2]
    assert b.pending() == 0


def test_local_a_late_success_does_not_unpark_a_parked_task(tmp_path: Path) -> None:
    a, b, now = _slow_pair(tmp_path, max_attempts=1)
    b.register("sync_shop", recorder([]))

    def outlives_its_lease(t: Task) -> None:
        now[0] += 60
        b.drain()  # recovers the expired lease: its one attempt is used up, so it is parked

    a.register("sync_shop", outlives_its_lease)
    a.enqueue("tower-sync", "sync_shop", {}, task_id="t1")
    assert a.drain() == 0
    [dead] = b.dead_tasks()
    assert dead.task.task_id == "t1" and dead.error.startswith("LeaseExpired:")
    assert b.pending() == 0


def test_local_a_tasks_file_from_before_lease_tokens_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    _local(tmp_path).close()
    con = sqlite3.connect(tmp_path / "tasks.sqlite")
    con.execute("ALTER TABLE tasks DROP COLUMN lease_token")
    con.close()
    q = _local(tmp_path)
    got: list[Task] = []
    q.register("sync_shop", recorder(got))
    q.enqueue("tower-sync", "sync_shop", {})
    assert q.drain() == 1 and len(got) == 1 and q.pending() == 0


def test_local_retries_back_off_exponentially_on_an_injected_clock(tmp_path: Path) -> None:
    now = [0.0]
    q = _local(tmp_path, backoff_seconds=5, clock=lambda: now[0])
    got: list[Task] = []
    q.register("sync_shop", recorder(got, fail_first=2))
    q.enqueue("tower-sync", "sync_shop", {})
    q.drain()
    now[0] = 4.9
    assert q.drain() == 0 and len(got) == 1
    now[0] = 5.0
    assert q.drain() == 0 and len(got) == 2  # second failure: next try 10 s later
    now[0] = 14.9
    assert q.drain() == 0 and len(got) == 2
    now[0] = 15.0
    assert q.drain() == 1 and len(got) == 3


def test_local_dead_tasks_are_listed_and_replayed(tmp_path: Path) -> None:
    q = _local(tmp_path, max_attempts=1)
    healthy = [False]
    got: list[Task] = []

    def run(t: Task) -> None:
        got.append(t)
        if not healthy[0]:
            raise ValueError("platform down")

    q.register("sync_shop", run)
    q.enqueue("tower-sync", "sync_shop", {"n": 1}, task_id="t1")
    assert q.drain() == 0
    [dead] = q.dead_tasks()
    assert dead.task.task_id == "t1" and "platform down" in dead.error
    with pytest.raises(NotFound):
        q.replay("tower-sync", "nope")
    healthy[0] = True
    q.replay("tower-sync", "t1")
    assert q.drain() == 1 and q.dead_tasks() == [] and q.pending() == 0


def test_local_tasks_of_unregistered_handlers_wait(tmp_path: Path) -> None:
    q = _local(tmp_path)
    q.enqueue("tower-sync", "other_fn", {})
    q.register("sync_shop", recorder([]))
    assert q.drain() == 0 and q.pending() == 1


def test_local_a_running_task_is_not_run_by_another_queue_meanwhile(tmp_path: Path) -> None:
    a, b = _local(tmp_path), _local(tmp_path)
    inner: list[int] = []
    b.register("sync_shop", recorder([]))
    a.register("sync_shop", lambda t: inner.append(b.drain()))
    a.enqueue("tower-sync", "sync_shop", {})
    assert a.drain() == 1 and inner == [0]
