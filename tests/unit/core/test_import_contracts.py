"""The import contracts of .importlinter hold, and they name every module they should.

A layers contract only constrains the modules it lists: a new top-level module of ``tower`` (or a new
command of ``tower.cli``) left out of it could import anything. These tests make leaving it out fail.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOWER = ROOT / "shared" / "tower"


def _contract(name: str) -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config[f"importlinter:contract:{name}"]


def _layer_names(section: configparser.SectionProxy) -> set[str]:
    """Every module named in a contract's layers, optional ones (in parentheses) included."""
    return {name.strip("()") for name in re.split(r"[\s|:]+", section["layers"]) if name}


def _children(package: Path) -> set[str]:
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    packages = {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    return modules | packages


def test_every_top_level_module_of_tower_has_a_layer() -> None:
    named = _layer_names(_contract("layers"))
    missing = sorted(f"tower.{m}" for m in _children(TOWER) if f"tower.{m}" not in named)
    assert not missing, f"add these to a layer of .importlinter's layers contract: {missing}"


def test_every_cli_module_has_a_layer() -> None:
    named = _layer_names(_contract("cli"))
    missing = sorted(m for m in _children(TOWER / "cli") if m not in named)
    assert not missing, f"add these to .importlinter's cli contract: {missing}"


def test_the_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("import-linter is a dev dependency; `make` installs it")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "shared")}
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
