"""The settings registry: adapter URLs are validated, and the docs generated from it do not drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from tower.config import Settings, render_settings, settings_table

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("warehouse", "postgres://x/y"),
        ("store", "redis://x"),
        ("bus", "kafka://x"),
        ("tasks", "celery://x"),
        ("secrets", "vault://x"),
    ],
)
def test_unknown_adapter_scheme_is_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match="scheme must be one of"):
        Settings(**{field: value})


def test_adapter_urls_resolve_local_paths() -> None:
    s = Settings(warehouse="duckdb:///data/w.duckdb", store="local:////tmp/abs/store.sqlite")
    assert s.local_path(s.warehouse, "x") == Path("data/w.duckdb")
    assert s.local_path(s.store, "x") == Path("/tmp/abs/store.sqlite")
    assert Settings(bus="local").local_path("local", "bus.sqlite") == s.data_dir / "bus.sqlite"


def test_env_prefix_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWER_WAREHOUSE", "bigquery://proj/ds")
    assert Settings().warehouse == "bigquery://proj/ds"


def test_every_setting_has_help() -> None:
    missing = [r["env"] for r in settings_table() if not r["help"]]
    assert not missing


def test_secret_defaults_are_never_rendered() -> None:
    for r in settings_table():
        if r["secret"]:
            assert r["default"] == ""


def test_env_example_matches_registry() -> None:
    assert (ROOT / ".env.example").read_text() == render_settings("env"), "run `make settings-docs`"


def test_readme_settings_table_matches_registry() -> None:
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- settings:start -->\n(.*?)<!-- settings:end -->", readme, flags=re.DOTALL)
    assert m, "README lacks the settings markers"
    assert m.group(1) == render_settings("markdown"), "run `make settings-docs`"
