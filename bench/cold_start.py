"""Benchmark: the deployed function zip's size and the api function's cold start.

Cold start here is what Cloud Run pays before a new instance answers: a fresh Python process starts in
the unpacked function source (``infra/package_source.py`` builds it exactly as Terraform uploads it),
imports ``main``, builds the functions-framework app for the ``api`` target and answers ``GET
/health``. The time is taken from the parent, from spawning the process to reading the answer's line,
so interpreter start-up counts too. Each run is a new process over a new unpacked copy (no
``__pycache__`` carried from one run to the next, as on a new instance).

Baseline, in the same run: the bare interpreter (``python -c pass``), the floor no function beats.
The wall time follows whatever else the machine runs (two shared cores: the bare interpreter's figure
says how busy it was); ``cpu_seconds``, the CPU time the process used from start to exit (user +
system), moves much less with that load and is the figure to compare two trees by. The recorded
"before" and "after" of issue 13 are in ``bench/cold_start.baseline.json``.

Run: ``.venv/bin/python bench/cold_start.py [--runs 7]``; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "infra"))

from package_source import build  # infra/ is a folder of scripts, not a package

PROBE = """
import functions_framework, main
app = functions_framework.create_app("api", "main.py", "http")
r = app.test_client().get("/health")
print("status", r.status_code, flush=True)
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spawn(cwd: Path, code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawning ``python -c code`` in cwd to its first line of output, and the CPU seconds
    the process used until it exited (one child at a time, so the children's total grows by its own)."""
    cpu = _children_cpu()
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    seconds = time.perf_counter() - began
    _, err = proc.communicate(timeout=60)
    if code != "pass" and not line.startswith("status 200"):
        raise SystemExit(f"cold_start: the api did not answer 200: {line!r}\n{err[-2000:]}")
    return seconds, _children_cpu() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts to time (median reported)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tower-cold-") as tmp:
        out = Path(tmp) / "functions-source.zip"
        files = build(REPO, out)
        size = out.stat().st_size
        with zipfile.ZipFile(out) as zf:
            names = zf.namelist()
        packages = sorted({n.split("/")[0] for n in names if "/" in n})
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
        # The function's settings as on the embedded default, with its files in a scratch folder.
        env.update({"TOWER_DATA_DIR": str(data), "PYTHONDONTWRITEBYTECODE": "1",
                    "TOWER_WAREHOUSE": f"duckdb:///{data}/warehouse.duckdb",
                    "TOWER_STORE": f"local:///{data}/store.sqlite", "TOWER_BUS": f"local:///{data}/bus.sqlite",
                    "TOWER_TASKS": f"local:///{data}/tasks.sqlite", "TOWER_SECRETS": f"local:///{data}/secrets"})
        env.pop("PYTHONPATH", None)
        starts, floors, cpus = [], [], []
        for i in range(args.runs):
            src = Path(tmp) / f"run{i}"
            with zipfile.ZipFile(out) as zf:
                zf.extractall(src)
            floors.append(spawn(src, "pass", env)[0])
            seconds, cpu = spawn(src, PROBE, env)
            starts.append(seconds)
            cpus.append(cpu)

    result = {
        "bench": "cold_start", "zip_bytes": size, "zip_files": files, "packages": packages,
        "seconds": round(statistics.median(starts), 3), "seconds_max": round(max(starts), 3),
        "cpu_seconds": round(statistics.median(cpus), 3),
        "baseline_python_seconds": round(statistics.median(floors), 3), "runs": args.runs,
    }
    print(f"zip: {size / 1e6:.2f} MB, {files} files, top-level packages {', '.join(packages)}")
    print(f"api cold start (process start -> first /health answer): median {result['seconds']} s, "
          f"max {result['seconds_max']} s over {args.runs} runs; bare interpreter {result['baseline_python_seconds']} s; "
          f"CPU {result['cpu_seconds']} s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
