"""``tower serve`` end to end on a store connected by hand (issue 14): its scheduler fires the hourly sync on
start, the pumps run the syncs and the bus runs models, decisions and summaries; Ctrl-C stops it; what the
merchant then reads matches the world's manifest; work queued while it was stopped is done at the next start.

``tower serve`` runs as a child process (gunicorn forks its worker); the test reads the local queues and the
document store beside it (SQLite, shared) and the warehouse only once the host has stopped (DuckDB allows
one writing process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from real_store import (
    BRAND,
    Sandboxes,
    connect_by_hand,
    has_alert,
    needs_cover,
    start_sandboxes,
    subprocess_env,
    tower,
    tower_json,
)

from tower.adapters.local_bus import LocalBus
from tower.adapters.local_store import LocalStore
from tower.adapters.local_tasks import LocalTasks
from tower.config import get_settings
from tower.decisions.store import list_recommendations

pytestmark = pytest.mark.slow

TOWER = str(Path(sys.executable).with_name("tower"))
DEADLINE_SECONDS = 300.0


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    s = start_sandboxes()
    yield s
    s.shop.stop()
    s.ads.stop()


@pytest.fixture
def data_dir(tmp_path: Path, sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for k, v in sandboxes.env(tmp_path).items():
        monkeypatch.setenv(k, v)
    for k in ("TOWER_WAREHOUSE", "TOWER_STORE", "TOWER_BUS", "TOWER_TASKS", "TOWER_SECRETS"):
        monkeypatch.delenv(k, raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


class Served:
    """A ``tower serve`` child process: its URL once ready; ``stop()`` sends SIGINT and waits."""

    def __init__(self, data_dir: Path, env: dict[str, str], *args: str) -> None:
        self.log = (data_dir / f"serve-{time.monotonic_ns()}.log").open("w+")
        self.proc = subprocess.Popen([TOWER, "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True,
                                     env={**subprocess_env(env), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
        self.output: list[str] = []
        self.url = self._read_url()

    def _read_url(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            if "Control Tower serving at " in line:
                return line.split(" at ", 1)[1].split()[0]
        raise AssertionError(f"tower serve ended before serving:\n{''.join(self.output)}\n{self.stderr()}")

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def post(self, path: str, body: bytes) -> tuple[int, Any]:
        req = urllib.request.Request(self.url + path, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Ctrl-C (SIGINT) or SIGTERM, then its exit code (it must stop on its own)."""
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=90)
        self.output.append(out or "")
        return int(self.proc.returncode)


def wait_until(what: str, check: Callable[[], bool], served: Served) -> None:
    """Poll ``check`` until it holds (the host works in its own time); fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        if served.proc.poll() is not None:
            raise AssertionError(f"tower serve exited while waiting for {what}:\n{served.stderr()[-4000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {DEADLINE_SECONDS:.0f} s:\n{served.stderr()[-4000:]}")
        time.sleep(0.5)


def queues(data_dir: Path) -> tuple[LocalTasks, LocalBus, LocalStore]:
    return (LocalTasks(data_dir / "tasks.sqlite"), LocalBus(data_dir / "bus.sqlite"),
            LocalStore(data_dir / "store.sqlite"))


def test_serve_fires_the_schedule_runs_the_pipeline_stops_on_ctrl_c_and_resumes_queued_work(
        data_dir: Path, sandboxes: Sandboxes) -> None:
    connect_by_hand(sandboxes)
    env = sandboxes.env(data_dir)
    tasks, bus, store = queues(data_dir)

    served = Served(data_dir, env, "--schedule", "schedule_syncs")
    try:
        # the API, and a function target exactly as functions-framework answers it when deployed
        assert served.get("/health")[0] == 200
        code, body = served.post("/tower-sync-shopify", b"[]")
        assert code == 400 and "JSON object" in json.dumps(body)

        # never fired before: the scheduler fires the hourly sync at once, one task per platform
        wait_until("scheduled sync", lambda: bool(store.get("local_scheduler/schedule_syncs")), served)
        wait_until("pipeline run to the end", lambda: (
            tasks.pending() == 0 and bus.pending() == 0
            and bool(list_recommendations(store, BRAND))), served)
    finally:
        code = served.stop()
    assert code == 0, served.stderr()[-3000:]
    assert not bus.dead_letters() and not tasks.dead_tasks(), served.stderr()[-6000:]
    assert "stopped" in "".join(served.output)
    fired = store.get("local_scheduler/schedule_syncs")
    assert fired and fired["error"] is None
    hour = fired["fired_for"]
    done = {t for t in ("shopify", "meta", "tiktok", "google_ads")
            if f"sync-{BRAND}-{t}-{hour:%Y%m%d%H}" in _done_task_ids(data_dir)}
    assert done == {"shopify", "meta", "tiktok", "google_ads"}

    # what the merchant reads now (the host stopped, so the commands may open the warehouse)
    status = tower_json("status", "--brand", BRAND)
    assert status["problems"] == [], status["problems"]
    assert all(i["last_success_at"] and i["rows"] > 0 for i in status["integrations"])
    alerts = tower_json("alerts", "--brand", BRAND, "--cached")
    expected = [e for e in sandboxes.manifest["expected_findings"]["alerts"] if not needs_cover(e)]
    assert expected and all(has_alert(alerts, e) for e in expected), (expected, alerts)

    # work queued while nothing serves: a sync announced, its models not yet built (Meta re-reads its
    # trailing days, so the window holds complete days to build)
    before = datetime.now(UTC)
    code, out = tower("sync", "meta", "--brand", BRAND, "--no-build")
    assert code == 0, out
    assert bus.pending() >= 1

    served = Served(data_dir, env, "--no-schedule")
    try:
        wait_until("queued work resumed", lambda: bus.pending() == 0 and tasks.pending() == 0, served)
    finally:
        code = served.stop(signal.SIGTERM)  # as a service manager stops it
    assert code == 0, served.stderr()[-3000:]
    assert not bus.dead_letters() and not tasks.dead_tasks(), served.stderr()[-6000:]
    code, out = tower("sql", f"SELECT MAX(built_at) AS built_at FROM model_runs WHERE brand_id = '{BRAND}'", "--json")
    assert code == 0, out
    built = datetime.fromisoformat(json.loads(out.splitlines()[0])["built_at"])
    assert (built if built.tzinfo else built.replace(tzinfo=UTC)) > before


def _done_task_ids(data_dir: Path) -> set[str]:
    import sqlite3

    con = sqlite3.connect(data_dir / "tasks.sqlite")
    try:
        return {r[0] for r in con.execute("SELECT task_id FROM tasks WHERE state = 'done'")}
    finally:
        con.close()


def test_serve_refuses_cloud_queues_and_unknown_schedules(data_dir: Path) -> None:
    os.environ.pop("TOWER_TASKS", None)
    code, out = tower("serve", "--schedule", "nope")
    assert code == 2 and "not a scheduled entry point" in out
