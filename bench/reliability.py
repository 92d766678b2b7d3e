"""Reliability harness (issue 12): R1–R7 over the whole product, ending with one JSON line of figures.

* **R1** seeded fault runs across the four connectors (rate limits, 5xx, timeouts, cut connections, cut
  pagination, SIGKILL of the sync process) end in the warehouse of a fault-free run: ``r1_runs``,
  ``r1_lost``, ``r1_duplicated`` (and keys added, unequal and unfinished runs).
* **R2** every bus and task handler delivered twice, in order and shuffled, ends in the state of one
  clean run: ``r2_mismatches``.
* **R3** webhook deliveries with a bad HMAC, and replays, are rejected or deduplicated (OAuth callbacks
  too once they exist): ``r3_accepted_bad``.
* **R4** schemathesis against the OpenAPI document with an agency key: ``r4_cases``,
  ``r4_server_errors``, ``r4_schema_violations``.
* **R5** every route × {no key, brand key, other brand's key, agency key, other agency's key, revoked
  key}, and a Q&A escape corpus: ``r5_leaks``, ``r5_qa_escapes`` (row counts and checksums unchanged).
* **R6** the API under functions-framework's gunicorn on 127.0.0.1 at a fixed rate: ``r6_errors``.
* **R7** checkov over main.tf and infra/, and a scan of everything a demo run writes for tokens, raw
  customer ids, e-mails and full ZIPs: ``r7_findings``.

    .venv/bin/python bench/reliability.py            # the full run (R1 200 runs, R4 1,000 cases, R6 60 s)
    .venv/bin/python bench/reliability.py --quick    # a small share of each (make test runs it)
    .venv/bin/python bench/reliability.py --only R1,R3 --r1-runs 50
    .venv/bin/python bench/reliability.py --record   # a full run, appended to the baseline file

Progress goes to stderr; the last line on stdout is the JSON object, with ``goals`` saying which
headline figure is at its goal. Figures of full runs are kept in ``bench/reliability.baseline.json``.
checkov lives in its own virtualenv (``make tools``: its pins conflict with the lock's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).with_name("reliability.baseline.json")
SECTIONS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7")

FULL = {"r1_runs": 200, "r2_in_order": 2, "r2_shuffled": 4, "r4_cases": 1000, "r6_rate": 200.0, "r6_seconds": 60.0,
        "qa_stride": 1, "demo": {"brands": 2, "days": 30, "orders_per_day": 10},
        "r2_world": {"days": 21, "orders_per_day": 6, "campaigns": 4}}
QUICK = {"r1_runs": 2, "r2_in_order": 1, "r2_shuffled": 1, "r4_cases": 100, "r6_rate": 200.0, "r6_seconds": 2.0,
         "qa_stride": 10, "demo": {"brands": 2, "days": 14, "orders_per_day": 4},
         "r2_world": {"days": 14, "orders_per_day": 4, "campaigns": 4}}


def say(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def goals(f: dict[str, Any], *, full: bool) -> dict[str, bool]:
    """Each headline figure against its goal (sizes only count in a full run)."""
    out: dict[str, bool] = {}
    for section in ("r1", "r2", "r3", "r4", "r5", "r6", "r7"):
        if f"{section}_error" in f:
            out[section] = False
    if "r1_runs" in f:
        out["r1"] = (f["r1_runs"] >= 200 or not full) and f["r1_lost"] == 0 and f["r1_duplicated"] == 0 \
            and f["r1_extra"] == 0 and f["r1_unequal_runs"] == 0
    if "r2_mismatches" in f:
        out["r2"] = f["r2_mismatches"] == 0 and f["r2_runs"] > 0
    if "r3_accepted_bad" in f:
        out["r3"] = f["r3_accepted_bad"] == 0
    if "r4_cases" in f:
        out["r4"] = (f["r4_cases"] >= 1000 or not full) and f["r4_server_errors"] == 0 \
            and f["r4_schema_violations"] == 0
    if "r5_leaks" in f:
        out["r5"] = f["r5_leaks"] == 0 and f.get("r5_qa_escapes") == 0 and f.get("r5_tables_changed") == 0 \
            and (f.get("r5_qa_attacks", 0) >= 50 or not full)
    if "r6_errors" in f:
        out["r6"] = f["r6_errors"] == 0 and (not full or (f["r6_target_rps"] >= 200 and f["r6_seconds"] >= 60))
        # the generator is bounded: a server that cannot keep up makes it send late, not fail; held means
        # the requests went out at (nearly) the rate asked
        out["r6_rate_held"] = f["r6_achieved_rps"] >= 0.95 * f["r6_target_rps"]
    if "r7_findings" in f:
        out["r7"] = f["r7_findings"] == 0
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen sections; return every figure."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reliability_checks import exposure, faults, redelivery, webhooks, world

    size = dict(QUICK if args.quick else FULL)
    for name in ("r1_runs", "r4_cases", "r6_rate", "r6_seconds"):
        if getattr(args, name) is not None:
            size[name] = getattr(args, name)
    only = {s.strip().upper() for s in args.only.split(",")} if args.only else set(SECTIONS)
    figures: dict[str, Any] = {}
    timings: dict[str, float] = {}

    def timed(section: str, fn: Any, *a: Any, **kw: Any) -> None:
        started = time.monotonic()
        say(f"{section}: running")
        try:
            out = fn(*a, **kw)
        except Exception as e:  # noqa: BLE001 - one section failing must not hide the others' figures
            say(traceback.format_exc())
            out = {f"{section.split()[0].lower()}_error": f"{type(e).__name__}: {str(e)[:500]}"}
        timings[section] = round(time.monotonic() - started, 1)
        figures.update(out)
        say(f"{section}: done in {timings[section]} s: "
            + json.dumps({k: v for k, v in out.items() if not isinstance(v, list | dict)}))

    checkov_job = None
    if "R7" in only:
        checkov_job = _Background(exposure.checkov, REPO, REPO / ".venv-tools")
    small = world.small_world(args.seed, brands=1, days=14, orders_per_day=4)
    if "R1" in only:
        timed("R1", faults.run, small, runs=int(size["r1_runs"]), seed=args.seed, log=say)
    if "R2" in only:
        w2 = world.small_world(args.seed, brands=1, **size["r2_world"])
        timed("R2", redelivery.run, w2, in_order=int(size["r2_in_order"]),
              shuffled=[args.seed * 100 + i for i in range(int(size["r2_shuffled"]))])
    if "R3" in only:
        timed("R3", webhooks.run, small)
    if only & {"R4", "R5", "R6", "R7"}:
        with tempfile.TemporaryDirectory(prefix="tower-reliability-") as tmp:
            _on_the_demo(Path(tmp), only, size, args.seed, figures, timings, timed)
    if checkov_job is not None:
        started = time.monotonic()
        figures.update(checkov_job.result())
        timings["R7 checkov (waited)"] = round(time.monotonic() - started, 1)
        failed = figures.get("r7_checkov_failed")
        skips = figures.get("r7_checkov_unexplained_skips")
        if failed is None or skips is None or "r7_scan_findings" not in figures:
            figures["r7_findings"] = None
        else:
            figures["r7_findings"] = failed + skips + figures["r7_scan_findings"]
        say(f"R7: checkov {failed} failed, {skips} skips without a reason; "
            f"scan {figures.get('r7_scan_findings')} findings")
    figures["section_seconds"] = timings
    return figures


def _on_the_demo(root: Path, only: set[str], size: dict[str, Any], seed: int, figures: dict[str, Any],
                 timings: dict[str, float], timed: Any) -> None:
    """R4–R7, on copies of one recorded demo run (its failure is each of their figures)."""
    from reliability_checks import authz, demo_state, exposure, load, schema_fuzz

    started = time.monotonic()
    say("demo: running (the state R4–R7 read)")
    try:
        demo = demo_state.run_demo_recorded(root / "demo", seed=seed, **size["demo"])
        state = demo_state.api_state(demo, root / "api")
        ads = demo_state.reconnect_ads(state, demo.world)
    except Exception as e:  # noqa: BLE001 - R1-R3's figures still count
        say(traceback.format_exc())
        for section in sorted(only & {"R4", "R5", "R6", "R7"}):
            figures[f"{section.lower()}_error"] = f"the demo run failed: {type(e).__name__}: {str(e)[:500]}"
        return
    finally:
        timings["demo"] = round(time.monotonic() - started, 1)
    try:
        if "R4" in only:
            timed("R4", schema_fuzz.run, demo_state.copy_state(state, root / "r4"), cases=int(size["r4_cases"]),
                  seed=seed)
        if "R5" in only:
            timed("R5", authz.matrix, demo_state.copy_state(state, root / "r5"))
            timed("R5 Q&A", authz.qa_corpus, demo_state.copy_state(state, root / "r5q"),
                  stride=int(size["qa_stride"]))
        if "R6" in only:
            timed("R6", load.run, demo_state.copy_state(state, root / "r6"), REPO, rate=float(size["r6_rate"]),
                  seconds=float(size["r6_seconds"]))
        if "R7" in only:
            timed("R7 scan", exposure.scan, demo, demo_state.copy_state(state, root / "r7"))
    finally:
        ads.stop()


class _Background:
    """A function run on a thread while the sections run (checkov is a child process: it takes the other
    core, not this one's interpreter lock)."""

    def __init__(self, fn: Any, *args: Any) -> None:
        import threading

        self._out: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True)
        self._thread.start()

    def _run(self, fn: Any, *args: Any) -> None:
        try:
            self._out = fn(*args)
        except Exception as e:  # noqa: BLE001 - reported as the figure, not raised past the other sections
            self._out = {"r7_checkov": f"failed: {type(e).__name__}: {e}", "r7_checkov_failed": None,
                         "r7_checkov_unexplained_skips": None}

    def result(self) -> dict[str, Any]:
        self._thread.join()
        return self._out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small share of each requirement (seconds)")
    parser.add_argument("--only", default="", help="comma-separated sections, e.g. R1,R3")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--r1-runs", type=int, default=None, dest="r1_runs")
    parser.add_argument("--r4-cases", type=int, default=None, dest="r4_cases")
    parser.add_argument("--r6-rate", type=float, default=None, dest="r6_rate")
    parser.add_argument("--r6-seconds", type=float, default=None, dest="r6_seconds")
    parser.add_argument("--record", action="store_true", help=f"append a full run's figures to {BASELINE.name}")
    args = parser.parse_args(argv)
    if args.record and (args.quick or args.only):
        parser.error("--record keeps full runs of every section only (no --quick, no --only)")
    unknown = {s.strip().upper() for s in args.only.split(",") if s.strip()} - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    started = time.monotonic()
    figures = run(args)
    at = goals(figures, full=not args.quick)
    out = {"bench": "reliability", "mode": "quick" if args.quick else "full", "seed": args.seed,
           "date": datetime.now(UTC).date().isoformat(), "seconds": round(time.monotonic() - started, 1),
           "load_average": round(os.getloadavg()[0], 1), "goals": at, "at_goal": all(at.values()), **figures}
    if args.record:
        record(out)
    print(json.dumps(out, default=str))
    return 0


def record(figures: dict[str, Any]) -> None:
    """Append a full run to the baseline file (created with its header on first use)."""
    doc: dict[str, Any] = json.loads(BASELINE.read_text()) if BASELINE.exists() else {
        "command": ".venv/bin/python bench/reliability.py --record",
        "params": {k: v for k, v in FULL.items()},
        "machine": f"{os.cpu_count()} vCPUs shared with other sessions, Python {sys.version.split()[0]}",
        "runs": [],
    }
    doc["measured"] = figures["date"]
    doc["runs"].append(figures)
    BASELINE.write_text(json.dumps(doc, indent=2, default=str) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
