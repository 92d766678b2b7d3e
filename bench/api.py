"""API speed (issue 16): the default dashboard from the models' cache document, a chosen range from the
warehouse's read path, and the page's mix at 200 requests a second; today's path beside it as baseline.

Both servers are the production one, ``tower serve`` (gunicorn, one gthread worker of 8 threads: the
host of :mod:`tower.host.server`; the api function deployed runs on gunicorn too, under
functions-framework), on 127.0.0.1, on copies of one recorded demo run (seed 29, not the demo's
default), with the schedule off so nothing but the load runs. The load generator is
:mod:`fastload` (asyncio, keep-alive connections, requests encoded once) in a process of its own,
pinned to the last CPU, and the server to the other CPUs (``--pin both``, the default: a client and a
server never share a CPU in production, and the deployed api function has one CPU of its own,
``cpu = "1"`` in main.tf; ``--pin generator`` lets the server run on the generator's CPU too, which
on two CPUs measures their contention as much as the server: on 2026-12-06, quiet, cached p95 10.9 ms
that way against 4.2 ms apart; ``--pin none`` pins nothing), so the generator never shares the
bench's interpreter lock and its CPU is measured apart: each run reports its CPU share:

* ``cached``: 20 clients back to back on the default dashboard (two brands, two keys) for
  ``--seconds``, each sending its next request when the last one answered: ``cached_p95_ms``,
  ``cached_p99_ms``. This is a saturation test: with 20 requests always in flight, latency is
  20 ÷ the server's throughput (Little's law), so p95 ≤ 10 ms needs ≥ 2,000 answers a second;
* ``cached_function``: the same through the api function's own entry (``/tower-api/…``:
  functions-framework's app, then :func:`tower.api.function.handle_request`), the path a deployed
  request takes: ``function_cached_p95_ms`` (reported, not a goal of the issue);
* ``cached_conditional``: the same, each request carrying the ETag its dashboard had when the run began
  as ``If-None-Match``, as the page polls (``web/src/api/client.ts``): mostly 304s, and every
  renewal of a kept answer happens on such a request (``cached_conditional_p95_ms``, reported);
* ``cached_paced``: the same requests at ``--rate`` a second, open loop, on 20 connections, latency
  counted from each request's due time: what 20 connected clients see at the production rate
  (``cached_paced_p95_ms``, ``cached_paced_p99_ms``);
* ``range``: custom ranges (``start``/``end``/``compare`` of 7 to 30 days: the dashboard, the series
  and a drilldown) at ``--range-rate`` a second on 20 connections, open loop: ``range_p95_ms``;
* ``rate``: the page's mix (R6's: health, dashboards, alerts, cards, drilldowns, the agency overview,
  the OpenAPI document, a question) open-loop at ``--rate`` for ``--rate-seconds`` on 48 connections,
  latency counted from each request's due time: ``errors_at_200rps`` and ``achieved_rps``.

The baseline is the same measurements against the tree of ``--baseline-ref`` (the commit before the
cache, extracted with ``git archive`` into a temporary folder): every dashboard there runs its DuckDB
queries behind the warehouse's lock. Figures of a loaded machine read slow: each tree's
``load_average`` (at its start and end) is printed beside them; compare a tree with the baseline
measured in the same run, and record (``--record``) only a quiet machine's run.

    .venv/bin/python bench/api.py                # full: 20 s per closed-loop run, 60 s at 200 rps, with the baseline
    .venv/bin/python bench/api.py --quick        # a few seconds each
    .venv/bin/python bench/api.py --record       # a full run, written to bench/api.baseline.json

The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import loadgen

REPO = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).with_name("api.baseline.json")
BASELINE_REF = "99bdec8"
"""The last commit whose dashboard ran its warehouse queries on every request (today's path)."""

GOALS = {"cached_p95_ms": 10.0, "cached_p99_ms": 30.0, "range_p95_ms": 150.0, "errors_at_200rps": 0}
SEED = 29
DEMO = {"brands": 3, "days": 45, "orders_per_day": 30}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_env(state: Any, tree: Path) -> dict[str, str]:
    """The environment of a server on ``state``'s files, importing the library of ``tree``."""
    settings = state.settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_") and k != "ANTHROPIC_API_KEY"}
    for name in ("warehouse", "store", "bus", "tasks", "secrets", "data_dir"):
        env[f"TOWER_{name.upper()}"] = str(getattr(settings, name))
    for name, value in state.overrides.items():
        env[f"TOWER_{name.upper()}"] = str(value)
    env["TOWER_ANTHROPIC_API_KEY"] = ""
    env["PYTHONPATH"] = str(tree / "shared")
    return env


def placement(pin: str) -> tuple[str | None, int | None]:
    """Where the server and the generator run (``taskset`` list of the server's CPUs, the generator's CPU).

    With two CPUs or more, ``generator`` pins the generator to the last CPU this process may use and
    lets the server run anywhere; ``both`` also keeps the server off that CPU (clean on a quiet
    machine; on a busy one it leaves the server a share of one CPU); ``none`` pins nothing.
    """
    if pin == "none" or not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    server = ",".join(str(c) for c in cpus[:-1]) if pin == "both" and shutil.which("taskset") else None
    return server, cpus[-1]


def start_serve(state: Any, tree: Path, cpus: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``tower serve --no-schedule`` of ``tree`` on 127.0.0.1 (gunicorn), on ``cpus`` when given (a
    ``taskset`` list: its worker inherits it); returns it once /health answers."""
    port = loadgen.free_port()
    log = state.root / "serve.log"
    argv = [sys.executable, "-m", "tower.cli", "serve", "--no-schedule", "--host", "127.0.0.1", "--port", str(port)]
    if cpus is not None:
        argv = ["taskset", "-c", cpus, *argv]
    server = loadgen.start_server(argv, cwd=tree, env=server_env(state, tree), log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        loadgen.wait_until_up(url, alive=lambda: server.poll() is None)
    except BaseException:
        loadgen.stop_server(server)
        say(log.read_text(errors="replace")[-3000:])
        raise
    return server, url


def export_tree(ref: str, target: Path) -> Path:
    """The library and ``main.py`` of commit ``ref``, extracted to ``target``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "shared", "main.py",
                              "functions"], check=True, capture_output=True).stdout
    target.mkdir(parents=True)
    tar_path = target / "tree.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(target, filter="data")
    tar_path.unlink()
    return target


def mixes(state: Any, today: str) -> dict[str, list[loadgen.Request]]:
    """The requests of each measurement (see the module's docstring)."""
    from datetime import date, timedelta

    from reliability_checks.load import page_mix

    from tower.names import function_name

    a, b = state.brand_ids[0], state.brand_ids[1]
    auth = {a: {"Authorization": f"Bearer {state.keys['agency']}"},
            b: {"Authorization": f"Bearer {state.keys['other_agency']}"}}
    cached = [loadgen.Request("GET", f"/api/brands/{brand}/dashboard", auth[brand]) for brand in (a, b)]
    end = date.fromisoformat(today) - timedelta(days=1)  # today in UTC may be tomorrow in a store's zone
    ranges = []
    for i, days in enumerate((7, 14, 21, 30)):
        last = end - timedelta(days=i)
        query = f"start={(last - timedelta(days=days)).isoformat()}&end={last.isoformat()}&compare=previous_period"
        for brand in (a, b):
            ranges.append(loadgen.Request("GET", f"/api/brands/{brand}/dashboard?{query}", auth[brand]))
            ranges.append(loadgen.Request("GET", f"/api/brands/{brand}/series?{query}", auth[brand]))
            ranges.append(loadgen.Request("GET", f"/api/brands/{brand}/drilldown/channel/meta?{query}", auth[brand]))
    # the same dashboards through the api function's own entry (functions-framework, then the
    # function's handler), which tower serve mounts at the deployed function's name
    function = [loadgen.Request("GET", f"/{function_name('api')}{r.path}", r.headers) for r in cached]
    return {"cached": cached, "cached_function": function, "range": ranges, "rate": page_mix(state)}


def conditional(url: str, reqs: list[loadgen.Request]) -> list[loadgen.Request]:
    """``reqs`` as the page polls them: each with ``If-None-Match``, the ETag its answer has now."""
    import urllib.request

    out = []
    for r in reqs:
        with urllib.request.urlopen(urllib.request.Request(url + r.path, headers=r.headers), timeout=30) as answer:
            out.append(loadgen.Request(r.method, r.path, {**r.headers, "If-None-Match": answer.headers["ETag"]}))
    return out


def generate(url: str, mix: list[loadgen.Request], *, mode: str, seconds: float, concurrency: int,
             rate: float = 0.0, cpu: int | None = None, warmup: int = 2) -> dict[str, Any]:
    """One run of :mod:`fastload` in a process of its own (pinned to ``cpu`` when given); its figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([{"method": r.method, "path": r.path, "headers": r.headers, "body": r.body} for r in mix], f)
    try:
        argv = [sys.executable, str(Path(__file__).with_name("fastload.py")), "--url", url, "--mix", f.name,
                "--mode", mode, "--seconds", str(seconds), "--concurrency", str(concurrency),
                "--rate", str(rate), "--warmup", str(warmup)]
        if cpu is not None:
            argv += ["--cpu", str(cpu)]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def measure(url: str, mix: dict[str, list[loadgen.Request]], *, seconds: float, rate: float,
            rate_seconds: float, concurrency: int, range_rate: float, cpu: int | None) -> dict[str, Any]:
    """The measurements against one running server (see the module's docstring)."""
    out: dict[str, Any] = {}
    say(f"  cached: {concurrency} clients back to back for {seconds:g} s")
    out["load_average_start"] = round(os.getloadavg()[0], 2)
    out["cached"] = generate(url, mix["cached"], mode="closed", concurrency=concurrency, seconds=seconds, cpu=cpu)
    say(f"  cached, through the api function's entry: {concurrency} clients back to back for {seconds:g} s")
    out["cached_function"] = generate(url, mix["cached_function"], mode="closed", concurrency=concurrency,
                                      seconds=seconds, cpu=cpu)
    say(f"  cached, conditional (If-None-Match, as the page polls): {concurrency} clients back to back for {seconds:g} s")
    out["cached_conditional"] = generate(url, conditional(url, mix["cached"]), mode="closed", concurrency=concurrency,
                                         seconds=seconds, cpu=cpu)
    say(f"  cached, paced: {rate:g} requests/s on {concurrency} connections for {seconds:g} s")
    out["cached_paced"] = generate(url, mix["cached"], mode="open", rate=rate, seconds=seconds,
                                   concurrency=concurrency, cpu=cpu)
    say(f"  range: {range_rate:g} requests/s on {concurrency} connections for {seconds:g} s")
    out["range"] = generate(url, mix["range"], mode="open", rate=range_rate, seconds=seconds,
                            concurrency=concurrency, cpu=cpu)
    if rate_seconds > 0:
        say(f"  rate: the page's mix at {rate:g} requests/s for {rate_seconds:g} s")
        out["rate"] = generate(url, mix["rate"], mode="open", rate=rate, seconds=rate_seconds, concurrency=48,
                               cpu=cpu)
    out["load_average_end"] = round(os.getloadavg()[0], 2)
    return out


def measure_tree(state: Any, tree: Path, mix: dict[str, list[loadgen.Request]], *, pin: str,
                 **how: Any) -> dict[str, Any]:
    """Serve ``tree`` on ``state`` and measure it (CPUs placed by ``pin``: :func:`placement`)."""
    server_cpus, generator_cpu = placement(pin)
    server, url = start_serve(state, tree, server_cpus)
    try:
        return {**measure(url, mix, cpu=generator_cpu, **how), "server_cpus": server_cpus,
                "generator_cpu": generator_cpu}
    finally:
        loadgen.stop_server(server)


def recorded_state(root: Path, keep: Path | None) -> Any:
    """The API state of a recorded demo run: ``keep``'s when it holds one, else recorded (into ``keep``
    when given, so the next run skips the few minutes the demo takes)."""
    from reliability_checks import demo_state

    saved = keep / "state.json" if keep else None
    if saved is not None and saved.exists():
        doc = json.loads(saved.read_text())
        return demo_state.ApiState(Path(doc["root"]), doc["brand_ids"], doc["keys"], doc["names"])
    say("demo: running (the state both servers read)")
    home = keep or root
    demo = demo_state.run_demo_recorded(home / "demo", seed=SEED, **DEMO)
    state = demo_state.api_state(demo, home / "state")
    if saved is not None:
        saved.write_text(json.dumps({"root": str(state.root), "brand_ids": state.brand_ids, "keys": state.keys,
                                     "names": state.names}))
    return state


def run(*, baseline_ref: str | None, root: Path, keep: Path | None = None, **how: Any) -> dict[str, Any]:
    """Record a demo, then measure this tree's server and the baseline's on copies of it."""
    from reliability_checks import demo_state

    state = recorded_state(root, keep)
    today = datetime.now(UTC).date().isoformat()
    mix = mixes(state, today)
    figures: dict[str, Any] = {}
    say(f"this tree ({REPO})")
    figures["new"] = measure_tree(demo_state.copy_state(state, root / "new"), REPO, mix, **how)
    if baseline_ref:
        say(f"baseline: the tree of {baseline_ref}")
        tree = export_tree(baseline_ref, root / "baseline-tree")
        figures["baseline"] = measure_tree(demo_state.copy_state(state, root / "old"), tree, mix, **how)
    return figures


def headline(figures: dict[str, Any], *, concurrency: int, rate: float, rate_seconds: float) -> dict[str, Any]:
    """The one JSON line: the goals' figures, the baseline's, and whether each goal is met."""
    new, old = figures["new"], figures.get("baseline")

    def of(f: dict[str, Any]) -> dict[str, Any]:
        return {"cached_p95_ms": f["cached"]["p95_ms"], "cached_p99_ms": f["cached"]["p99_ms"],
                "cached_rps": f["cached"]["achieved_rps"],
                "function_cached_p95_ms": f["cached_function"]["p95_ms"],
                "function_cached_p99_ms": f["cached_function"]["p99_ms"],
                "function_cached_rps": f["cached_function"]["achieved_rps"],
                "function_cached_errors": f["cached_function"]["errors"],
                "cached_conditional_p95_ms": f["cached_conditional"]["p95_ms"],
                "cached_conditional_p99_ms": f["cached_conditional"]["p99_ms"],
                "cached_conditional_rps": f["cached_conditional"]["achieved_rps"],
                "cached_paced_p95_ms": f["cached_paced"]["p95_ms"], "cached_paced_p99_ms": f["cached_paced"]["p99_ms"],
                "range_p95_ms": f["range"]["p95_ms"],
                "errors_at_200rps": f["rate"]["errors"] if "rate" in f else None,
                "achieved_rps": f["rate"]["achieved_rps"] if "rate" in f else None,
                "load_average_run": [f["load_average_start"], f["load_average_end"]]}

    line: dict[str, Any] = of(new)
    if old is not None:
        line.update({f"baseline_{k}": v for k, v in of(old).items()})
    full = rate >= 200 and rate_seconds >= 60
    met = {"cached_p95_ms": line["cached_p95_ms"] <= GOALS["cached_p95_ms"],
           "cached_p99_ms": line["cached_p99_ms"] <= GOALS["cached_p99_ms"],
           "cached_paced_p95_ms": line["cached_paced_p95_ms"] <= GOALS["cached_p95_ms"],
           "cached_paced_p99_ms": line["cached_paced_p99_ms"] <= GOALS["cached_p99_ms"],
           "range_p95_ms": line["range_p95_ms"] <= GOALS["range_p95_ms"],
           "errors_at_200rps": full and line["errors_at_200rps"] == 0 and (line["achieved_rps"] or 0) >= 0.95 * rate}
    line["goals_met"] = met
    line["all_goals_met"] = all(met.values())
    line.update({"concurrency": concurrency, "rate": rate, "rate_seconds": rate_seconds,
                 "load_average": round(os.getloadavg()[0], 2), "cpus": loadgen.cpu_count(), "detail": figures})
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds per measurement")
    parser.add_argument("--seconds", type=float, default=None, help="each closed-loop run (default 20)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--range-rate", type=float, default=20.0, help="custom ranges a second")
    parser.add_argument("--rate-seconds", type=float, default=None, help="the open-loop run (default 60)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="the baseline's commit ('' for none)")
    parser.add_argument("--record", action="store_true", help=f"write the line to {BASELINE.name}")
    parser.add_argument("--pin", choices=("generator", "both", "none"), default="both",
                        help="CPU placement (two CPUs or more): the generator on the last CPU and the server on the "
                        "others (both, the default), the generator only (generator), or nothing pinned (none)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="a folder keeping the recorded demo between runs (reused when it holds one)")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (3.0 if args.quick else 20.0)
    rate_seconds = args.rate_seconds if args.rate_seconds is not None else (3.0 if args.quick else 60.0)
    root = Path(tempfile.mkdtemp(prefix="tower-bench-api-"))
    try:
        figures = run(seconds=seconds, rate=args.rate, rate_seconds=rate_seconds, concurrency=args.concurrency,
                      range_rate=args.range_rate, baseline_ref=args.baseline_ref or None, root=root, keep=args.keep,
                      pin=args.pin)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    line = headline(figures, concurrency=args.concurrency, rate=args.rate, rate_seconds=rate_seconds)
    line["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if args.record:
        BASELINE.write_text(json.dumps(line, indent=2) + "\n")
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    t0 = time.monotonic()
    code = main()
    say(f"done in {time.monotonic() - t0:.0f} s")
    sys.exit(code)
