"""The lock the deployed functions install from: the runtime's dependencies, for their platform, as tested.

``requirements-functions.lock`` (shipped as the zip's requirements.txt by infra/package_source.py) is
compiled from pyproject.toml without the dev extra, for x86_64 Linux and CPython 3.11 (what Cloud
Functions' python311 runtime builds on), and constrained to requirements.lock, so a function runs the
very versions the tests ran, and none of the tools that only the tests and linters use.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FUNCTIONS_LOCK = REPO / "requirements-functions.lock"
DEV_LOCK = REPO / "requirements.lock"

# Tools that must never reach a function, whatever pulls them in.
NEVER_SHIPPED = {"pytest", "pytest-xdist", "ruff", "mypy", "schemathesis", "python-hcl2", "sqlfluff",
                 "import-linter", "hypothesis", "openapi-spec-validator", "checkov"}

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    return {_normalise(n): v for n, v in _PIN.findall(path.read_text())}


def _vias(path: Path) -> dict[str, set[str]]:
    """Package -> what uv says required it (``# via`` lines under its pin)."""
    out: dict[str, set[str]] = {}
    current = ""
    for line in path.read_text().splitlines():
        if m := _PIN.match(line):
            current = _normalise(m.group(1))
            out[current] = set()
        elif line.startswith("    #") and current:
            via = line.strip("# ").removeprefix("via").strip()
            if via:
                out[current].add(via)
    return out


def _requirement_names(specs: list[str]) -> set[str]:
    return {_normalise(re.split(r"[\s<>=!~\[;]", s, maxsplit=1)[0]) for s in specs}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_the_functions_lock_is_compiled_without_the_dev_extra_for_the_functions_platform() -> None:
    header = FUNCTIONS_LOCK.read_text().splitlines()[:3]
    command = next(line for line in header if "uv pip compile" in line)
    assert "--extra" not in command and "--all-extras" not in command
    for flag in ("--python-platform x86_64-manylinux_2_28", "--python-version 3.11", "--generate-hashes",
                 "-c requirements.lock", "-o requirements-functions.lock"):
        assert flag in command, flag


def test_no_development_package_is_shipped() -> None:
    pins, vias = _pins(FUNCTIONS_LOCK), _vias(FUNCTIONS_LOCK)
    assert sorted(NEVER_SHIPPED & set(pins)) == []
    # A dev extra package may only be there because the runtime itself needs it (numpy: pandas, db-dtypes).
    dev = _requirement_names(_pyproject()["project"]["optional-dependencies"]["dev"])
    needed_by_runtime = {
        name for name in dev & set(pins)
        if vias[name] - {"-c requirements.lock", "control-tower (pyproject.toml)"}
    }
    assert sorted(dev & set(pins)) == sorted(needed_by_runtime)


def test_every_runtime_dependency_is_pinned_at_the_version_the_tests_ran() -> None:
    pins, tested = _pins(FUNCTIONS_LOCK), _pins(DEV_LOCK)
    runtime = _requirement_names(_pyproject()["project"]["dependencies"])
    assert sorted(runtime - set(pins)) == []
    assert {n: (v, tested.get(n)) for n, v in pins.items() if tested.get(n) != v} == {}


def test_every_pin_carries_hashes() -> None:
    text = FUNCTIONS_LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    unhashed = [b.split()[0] for b in blocks if "==" in b.split("\n", 1)[0] and "--hash=sha256:" not in b]
    assert unhashed == []
