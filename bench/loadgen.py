"""The HTTP load generator of ``bench/api.py`` and the reliability harness's R6: keep-alive connections,
closed- and open-loop, latency measured so that slow answers count.

* :func:`closed_loop`: ``concurrency`` clients, each sending its next request as soon as the last one
  answered (what "20 concurrent" means in the issue): latency is each request's, send to last byte.
* :func:`open_loop`: request *i* is due at ``start + i / rate``, whatever the server does. A fixed pool
  of threads, each on its own keep-alive connection, sends them; a request sent late (every thread
  busy waiting for a slow answer) is still sent, and its latency is counted **from when it was due**,
  so a server that cannot keep up shows as latency and a lower achieved rate, never as requests
  quietly not made (coordinated omission).

Both use ``http.client`` directly (one persistent connection per thread, no session machinery), so
the generator spends a fraction of a millisecond of CPU per request and stays far from being the
bottleneck on a small machine; each result reports the generator's own CPU share to show it.
An *error* is any answer but 2xx/304, or no answer within the timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Request:
    """One request of a mix: method, path (with its query), headers and an optional JSON body."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    def encoded(self) -> tuple[bytes | None, dict[str, str]]:
        """The body's bytes and the headers to send with them."""
        if self.body is None:
            return None, dict(self.headers)
        return json.dumps(self.body).encode(), {**self.headers, "Content-Type": "application/json"}


@dataclass
class Result:
    """What one run measured (latencies in seconds, sorted when read through the properties)."""

    latencies: list[float] = field(default_factory=list)
    lateness: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    cpu_s: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def pct_ms(self, p: float, values: Sequence[float] | None = None) -> float:
        """The ``p`` quantile (0–1, nearest rank) in milliseconds."""
        xs = sorted(self.latencies if values is None else values)
        if not xs:
            return 0.0
        return round(1000 * xs[min(len(xs) - 1, max(0, math.ceil(p * len(xs)) - 1))], 2)

    def summary(self) -> dict[str, Any]:
        """The run's figures as JSON."""
        return {"requests": self.requests, "errors": self.error_count, "error_kinds": dict(self.errors),
                "seconds": round(self.elapsed, 2), "achieved_rps": round(self.rate, 1),
                "p50_ms": self.pct_ms(0.50), "p95_ms": self.pct_ms(0.95), "p99_ms": self.pct_ms(0.99),
                "max_ms": self.pct_ms(1.0), "send_lag_p99_ms": self.pct_ms(0.99, self.lateness),
                "generator_cpu_share": round(self.cpu_s / self.elapsed, 2) if self.elapsed > 0 else 0.0}


class Client:
    """One keep-alive HTTP/1.1 connection to the server (reopened after a failure)."""

    def __init__(self, url: str, timeout: float = TIMEOUT_S) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.con: http.client.HTTPConnection | None = None

    def send(self, req: Request) -> str | None:
        """Send one request and read the whole answer; None when it is a success, else what went wrong."""
        body, headers = req.encoded()
        try:
            if self.con is None:
                self.con = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.con.request(req.method, req.path, body=body, headers=headers)
            resp = self.con.getresponse()
            resp.read()
            if resp.will_close:
                self.close()
            if 200 <= resp.status < 300 or resp.status == 304:
                return None
            return f"{resp.status} {req.method} {req.path.split('?')[0].rsplit('/', 1)[-1]}"
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return type(e).__name__

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def _run(threads: int, worker: Callable[[Client, Result, threading.Lock], None], url: str) -> Result:
    result = Result()
    lock = threading.Lock()
    clients = [Client(url) for _ in range(threads)]
    pool = [threading.Thread(target=worker, args=(c, result, lock), daemon=True) for c in clients]
    cpu0, t0 = time.process_time(), time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result.elapsed = time.monotonic() - t0
    result.cpu_s = time.process_time() - cpu0
    for c in clients:
        c.close()
    return result


def _record(result: Result, lock: threading.Lock, latency: float, late: float, outcome: str | None) -> None:
    with lock:
        result.latencies.append(latency)
        result.lateness.append(late)
        if outcome:
            result.errors[outcome] = result.errors.get(outcome, 0) + 1


def closed_loop(url: str, mix: Sequence[Request], *, concurrency: int, seconds: float,
                warmup: int = 0) -> Result:
    """``concurrency`` clients sending back to back for ``seconds`` (after ``warmup`` requests each)."""
    def worker(client: Client, result: Result, lock: threading.Lock) -> None:
        for i in range(warmup):
            client.send(mix[i % len(mix)])
        i = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            req = mix[i % len(mix)]
            i += 1
            sent = time.perf_counter()
            outcome = client.send(req)
            _record(result, lock, time.perf_counter() - sent, 0.0, outcome)

    return _run(concurrency, worker, url)


def open_loop(url: str, mix: Sequence[Request], *, rate: float, seconds: float, threads: int = 48,
              grace: float = 15.0) -> Result:
    """``rate`` requests a second for ``seconds``, on a fixed schedule (see the module's docstring).

    A server far behind would keep the run going for as long as its backlog takes: requests still
    unsent ``grace`` seconds after the schedule ended are not sent and count as errors
    (``not sent: server behind``).
    """
    total = int(rate * seconds)
    next_index = [0]
    start = time.perf_counter() + 0.2
    give_up = start + seconds + grace
    take = threading.Lock()

    def worker(client: Client, result: Result, lock: threading.Lock) -> None:
        while True:
            with take:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                return
            if time.perf_counter() > give_up:
                with lock:
                    result.errors["not sent: server behind"] = result.errors.get("not sent: server behind", 0) + 1
                continue
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            outcome = client.send(mix[i % len(mix)])
            done = time.perf_counter()
            _record(result, lock, done - due, max(0.0, sent - due), outcome)

    return _run(threads, worker, url)


def wait_until_up(url: str, path: str = "/health", *, seconds: float = 90.0,
                  alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``path`` until it answers 200 (raises RuntimeError after ``seconds`` or when not ``alive``)."""
    deadline = time.monotonic() + seconds
    client = Client(url, timeout=2.0)
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server exited before answering")
        if client.send(Request("GET", path)) is None:
            client.close()
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url}{path} did not answer within {seconds:g} s")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(argv: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server process in a session of its own (so :func:`stop_server` reaches its workers too),
    its output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop a server started by :func:`start_server`: SIGTERM to its process group (gunicorn finishes what
    is under way), SIGKILL to the group after 30 s, so no worker outlives the measurement."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
