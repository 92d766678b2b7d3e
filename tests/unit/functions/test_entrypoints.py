"""main.py exports every entry point Terraform deploys, and importing them stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tower.entrypoints import ENTRY_POINTS

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


def imported_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_main_exports_every_entry_point() -> None:
    import main

    assert sorted(main.__all__) == sorted(ENTRY_POINTS)
    for name in ENTRY_POINTS:
        assert callable(getattr(main, name)), name


def test_importing_all_entry_points_imports_no_vendor_sdk() -> None:
    modules = imported_after("import main")
    loaded = [sdk for sdk in VENDOR_SDKS if any(m == sdk or m.startswith(sdk + ".") for m in modules)]
    assert loaded == [], f"imported at cold start: {loaded}"


@pytest.mark.parametrize("module", ["functions.sync", "functions.models", "functions.decisions"])
def test_each_function_module_is_light(module: str) -> None:
    modules = imported_after(f"import {module}")
    assert not [m for m in modules if m.split(".")[0] in ("anthropic", "facebook_business", "shopify")]
    assert "google.ads" not in modules and "google.cloud.bigquery" not in modules
