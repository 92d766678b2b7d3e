"""R6: the API under its production server on loopback, a fixed request rate for a fixed time.

The server is the one Cloud Functions runs: ``functions-framework --target api --source main.py``
(gunicorn, gthread workers), bound to 127.0.0.1, on a copy of the demo's files. The load generator is
open-loop and bounded: request *i* is due at ``start + i / rate`` and a fixed pool of threads (each
with its own keep-alive session) sends them; a request sent late is still sent, and its lateness is
measured, so a server that cannot keep up shows as lag and latency, never as requests silently not
made. The mix is what a page and its users do: health checks, dashboards, alerts, recommendations,
channel drilldowns, the agency overview, the OpenAPI document and a few questions. An *error* is any
answer but 2xx, or no answer within ``TIMEOUT`` seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from reliability_checks.demo_state import ApiState

TIMEOUT = 10.0
THREADS = 48


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(state: ApiState) -> dict[str, str]:
    settings = state.settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_") and k != "ANTHROPIC_API_KEY"}
    for name in ("warehouse", "store", "bus", "tasks", "secrets", "data_dir"):
        env[f"TOWER_{name.upper()}"] = str(getattr(settings, name))
    env["TOWER_ANTHROPIC_API_KEY"] = ""
    return env


def _mix(state: ApiState) -> list[tuple[str, str, str, Any]]:
    """(method, path, key kind, body) — one entry per share of the mix (20 entries, 5% each)."""
    a, b = state.brand_ids[0], state.brand_ids[1]
    out: list[tuple[str, str, str, Any]] = [("GET", "/health", "", None)] * 2
    for brand, key in ((a, "agency"), (b, "other_agency")):
        out += [("GET", f"/api/brands/{brand}/dashboard", key, None)] * 3
        out += [("GET", f"/api/brands/{brand}/alerts", key, None)]
        out += [("GET", f"/api/brands/{brand}/recommendations", key, None)]
        out += [("GET", f"/api/brands/{brand}/drilldown/channel/meta", key, None)]
        out += [("GET", "/api/agency/overview", key, None)]
    out += [("GET", "/api/openapi.json", "", None)]
    out += [("POST", f"/api/brands/{a}/ask", "agency", {"question": "How did Meta do last week?"})]
    return out


def start_server(state: ApiState, repo: Path) -> tuple[subprocess.Popen[bytes], str]:
    """functions-framework serving ``api`` on 127.0.0.1; waits for /health."""
    import requests

    port = _free_port()
    exe = Path(sys.executable).with_name("functions-framework")
    server = subprocess.Popen([str(exe), "--target", "api", "--source", str(repo / "main.py"),
                               "--host", "127.0.0.1", "--port", str(port)], cwd=repo, env=_env(state),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"functions-framework exited with {server.returncode}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return server, url
        except requests.RequestException:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("functions-framework did not answer /health within 60 s")


def run(state: ApiState, repo: Path, *, rate: float, seconds: float) -> dict[str, Any]:
    """R6's figures."""
    import requests

    server, url = start_server(state, repo)
    mix = _mix(state)
    total = int(rate * seconds)
    lock = threading.Lock()
    next_index = [0]
    latencies: list[float] = []
    lateness: list[float] = []
    errors: dict[str, int] = {}

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                return
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            method, path, key, body = mix[i % len(mix)]
            headers = {"Authorization": f"Bearer {state.keys[key]}"} if key else {}
            sent = time.monotonic()
            try:
                r = session.request(method, url + path, headers=headers, json=body, timeout=TIMEOUT)
                outcome = None if 200 <= r.status_code < 300 else f"{r.status_code} {method} {path.split('/')[-1]}"
            except requests.RequestException as e:
                outcome = type(e).__name__
            done = time.monotonic()
            with lock:
                latencies.append(done - sent)
                lateness.append(max(0.0, sent - due))
                if outcome:
                    errors[outcome] = errors.get(outcome, 0) + 1

    try:
        start = time.monotonic() + 0.2
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    latencies.sort()
    lateness.sort()

    def pct(xs: list[float], p: float) -> float:
        return round(1000 * xs[min(len(xs) - 1, int(p * len(xs)))], 1) if xs else 0.0

    return {
        "r6_requests": len(latencies),
        "r6_errors": sum(errors.values()),
        "r6_target_rps": rate,
        "r6_achieved_rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "r6_seconds": round(elapsed, 1),
        "r6_latency_ms": {"p50": pct(latencies, 0.5), "p95": pct(latencies, 0.95), "p99": pct(latencies, 0.99),
                          "max": pct(latencies, 1.0)},
        "r6_send_lag_ms_p99": pct(lateness, 0.99),
        "r6_error_kinds": errors,
    }
