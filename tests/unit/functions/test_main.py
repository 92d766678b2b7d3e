"""main.py exports one function per wiring entry point, each made by its trigger kind, and importing them stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import functions_framework
import pytest
from functions_framework import _function_registry

from tower.wiring import ENTRY_POINTS, of_kind

ROOT = Path(__file__).resolve().parents[3]

# SDKs a cold start must not pay for unless the function uses them (each costs 0.3-1.3 s).
VENDOR_SDKS = (
    "anthropic",
    "google.cloud.bigquery",
    "google.cloud.firestore",
    "google.cloud.pubsub",
    "google.cloud.tasks",
    "google.cloud.secretmanager",
    "google.ads",
    "facebook_business",
    "shopify",
    "duckdb",
    "graphql",
)

# How functions-framework must call each trigger kind: Pub/Sub pushes CloudEvents, the rest POST.
SIGNATURE = {"http": "http", "queue": "http", "schedule": "http", "topic": "cloudevent"}


def imported_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_main_exports_every_entry_point() -> None:
    import main

    assert main.__all__ == list(ENTRY_POINTS)
    for name in ENTRY_POINTS:
        assert callable(getattr(main, name)), name
        assert getattr(main, name).__name__ == name


@pytest.mark.parametrize(("module", "kinds"), [
    ("functions.web", ("http",)), ("functions.tasks", ("queue", "schedule")), ("functions.events", ("topic",)),
])
def test_each_function_module_makes_the_entry_points_of_its_trigger_kinds(module: str, kinds: tuple[str, ...]) -> None:
    import importlib

    mod = importlib.import_module(module)
    # What functions-framework's decorators return: a wrapper (``__wrapped__``) made in this module.
    made = {name for name, value in vars(mod).items()
            if getattr(value, "__module__", "") == module and hasattr(value, "__wrapped__")}
    assert made == {e.name for e in of_kind(*kinds)}  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_functions_framework_loads_each_target_with_its_trigger_signature(name: str) -> None:
    app = functions_framework.create_app(target=name, source=str(ROOT / "main.py"))
    assert app is not None
    assert _function_registry.REGISTRY_MAP[name] == SIGNATURE[ENTRY_POINTS[name].kind]


def test_importing_all_entry_points_imports_no_vendor_sdk() -> None:
    modules = imported_after("import main")
    loaded = [sdk for sdk in VENDOR_SDKS if any(m == sdk or m.startswith(sdk + ".") for m in modules)]
    assert loaded == [], f"imported at cold start: {loaded}"


def test_importing_all_entry_points_loads_no_heavy_stage() -> None:
    # The loaders (pyarrow), the model runner (sqlglot), the warehouse (duckdb), the rules, the AI and the
    # API's routes load when a function first needs them (pipeline.py says why for each).
    modules = imported_after("import main")
    stages = ("tower.sync.shopify", "tower.sync.ads", "tower.sync.webhooks", "tower.sync.fx",
              "tower.analytics.runner", "tower.decisions.recommend", "tower.ai", "tower.api.app",
              "pyarrow", "sqlglot", "duckdb")
    assert [m for m in modules if m.startswith(stages)] == []


@pytest.mark.parametrize("module", ["functions.web", "functions.tasks", "functions.events"])
def test_each_function_module_is_light(module: str) -> None:
    modules = imported_after(f"import {module}")
    assert not [m for m in modules if m.split(".")[0] in ("anthropic", "facebook_business", "shopify")]
    assert "google.ads" not in modules and "google.cloud.bigquery" not in modules
