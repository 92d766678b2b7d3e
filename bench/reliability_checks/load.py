"""R6: the API under its production server on loopback, a fixed request rate for a fixed time.

The server is the one Cloud Functions runs: ``functions-framework --target api --source main.py``
(gunicorn, gthread workers), bound to 127.0.0.1, on a copy of the demo's files. The load generator is
``bench/loadgen.py``'s open loop (shared with ``bench/api.py``): request *i* is due at
``start + i / rate``, a fixed pool of threads each on its own keep-alive connection sends them, and
a request's latency counts from when it was due, so a server that cannot keep up shows as latency and
a lower achieved rate, never as requests silently not made. The mix is what a page and its users do:
health checks, dashboards, alerts, recommendations, channel drilldowns, the agency overview, the
OpenAPI document and a few questions. An *error* is any answer but 2xx, or no answer within
``loadgen.TIMEOUT_S`` seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import loadgen

from reliability_checks.demo_state import ApiState

THREADS = 48


def _env(state: ApiState) -> dict[str, str]:
    settings = state.settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_") and k != "ANTHROPIC_API_KEY"}
    for name in ("warehouse", "store", "bus", "tasks", "secrets", "data_dir"):
        env[f"TOWER_{name.upper()}"] = str(getattr(settings, name))
    env["TOWER_ANTHROPIC_API_KEY"] = ""
    return env


def page_mix(state: ApiState) -> list[loadgen.Request]:
    """One entry per share of the mix (20 entries, 5% each)."""
    a, b = state.brand_ids[0], state.brand_ids[1]

    def req(method: str, path: str, key: str, body: Any = None) -> loadgen.Request:
        return loadgen.Request(method, path, {"Authorization": f"Bearer {state.keys[key]}"} if key else {}, body)

    out = [req("GET", "/health", "")] * 2
    for brand, key in ((a, "agency"), (b, "other_agency")):
        out += [req("GET", f"/api/brands/{brand}/dashboard", key)] * 3
        out += [req("GET", f"/api/brands/{brand}/alerts", key)]
        out += [req("GET", f"/api/brands/{brand}/recommendations", key)]
        out += [req("GET", f"/api/brands/{brand}/drilldown/channel/meta", key)]
        out += [req("GET", "/api/agency/overview", key)]
    out += [req("GET", "/api/openapi.json", "")]
    out += [req("POST", f"/api/brands/{a}/ask", "agency", {"question": "How did Meta do last week?"})]
    return out


def start_server(state: ApiState, repo: Path) -> tuple[subprocess.Popen[bytes], str]:
    """functions-framework serving ``api`` on 127.0.0.1; waits for /health."""
    port = loadgen.free_port()
    exe = Path(sys.executable).with_name("functions-framework")
    server = loadgen.start_server([str(exe), "--target", "api", "--source", str(repo / "main.py"),
                                   "--host", "127.0.0.1", "--port", str(port)], cwd=repo, env=_env(state),
                                  log=state.root / "functions-framework.log")
    url = f"http://127.0.0.1:{port}"
    try:
        loadgen.wait_until_up(url, seconds=60, alive=lambda: server.poll() is None)
    except BaseException:
        loadgen.stop_server(server)
        raise
    return server, url


def run(state: ApiState, repo: Path, *, rate: float, seconds: float) -> dict[str, Any]:
    """R6's figures."""
    server, url = start_server(state, repo)
    try:
        result = loadgen.open_loop(url, page_mix(state), rate=rate, seconds=seconds, threads=THREADS)
    finally:
        loadgen.stop_server(server)
    s = result.summary()
    return {
        "r6_requests": s["requests"],
        "r6_errors": s["errors"],
        "r6_target_rps": rate,
        "r6_achieved_rps": s["achieved_rps"],
        "r6_seconds": s["seconds"],
        "r6_latency_ms": {"p50": s["p50_ms"], "p95": s["p95_ms"], "p99": s["p99_ms"], "max": s["max_ms"]},
        "r6_send_lag_ms_p99": s["send_lag_p99_ms"],
        "r6_generator_cpu_share": s["generator_cpu_share"],
        "r6_error_kinds": s["error_kinds"],
    }
