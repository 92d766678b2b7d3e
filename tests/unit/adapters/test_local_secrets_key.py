"""A broken local secrets key at the ``tower`` command: exit 2 and one line saying what to do, no traceback."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tower.adapters.local_secrets import KEY_FILE, LocalSecrets
from tower.cli import app
from tower.config import get_settings


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The local secrets directory the CLI is configured with, holding one stored secret."""
    monkeypatch.setenv("TOWER_WAREHOUSE", f"duckdb:///{tmp_path}/wh.duckdb")
    monkeypatch.setenv("TOWER_STORE", f"local:///{tmp_path}/store.sqlite")
    monkeypatch.setenv("TOWER_SECRETS", f"local:///{tmp_path}/secrets")
    get_settings.cache_clear()
    s = LocalSecrets(tmp_path / "secrets")
    s.put("integration-acme-shopify", "shpat_stored")
    s.close()
    yield tmp_path / "secrets"
    get_settings.cache_clear()


def _connect() -> Any:
    """A command that opens the secret store (to store the token)."""
    return CliRunner().invoke(app, ["connect", "shopify", "--brand", "acme", "--shop", "acme.myshopify.com",
                                    "--token", "shpat_new"])


def _delete(key: Path) -> None:
    key.unlink()


def _garbage(key: Path) -> None:
    key.write_bytes(b"this is not a key\n")


def _short(key: Path) -> None:
    key.write_bytes(base64.urlsafe_b64encode(os.urandom(16)) + b"\n")


def _group_readable(key: Path) -> None:
    os.chmod(key, 0o640)


@pytest.mark.parametrize("break_key,says", [
    (_delete, ["is missing", "1 encrypted secret version(s)", "no new key was created", "Restore secrets.key",
               "to start over"]),
    (_garbage, ["is corrupt", "restore it from a backup"]),
    (_short, ["is corrupt"]),
    (_group_readable, ["mode 640", "chmod 600"]),
], ids=["deleted", "garbage", "short", "group-readable"])
def test_a_broken_key_exits_2_with_one_line(secrets_dir: Path, break_key: Callable[[Path], None],
                                           says: list[str]) -> None:
    key = secrets_dir / KEY_FILE
    break_key(key)
    after = key.read_bytes() if key.exists() else None
    r = _connect()
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit) and "Traceback" not in r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    [line] = lines
    assert line.startswith("error: ") and str(key) in line
    for phrase in says:
        assert phrase in line
    assert (key.read_bytes() if key.exists() else None) == after, "the key file was left as it was"
