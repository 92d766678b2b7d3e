"""The emulator fixtures fail loudly, naming what to install, when an emulator cannot run."""

from __future__ import annotations

from pathlib import Path

import contract_emulators
import emulators
import pytest


def test_a_missing_gcloud_fails_the_test_with_what_to_install(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(contract_emulators, "SKIP_EMULATORS", False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcloud, no java
    pool = contract_emulators.EmulatorPool(request.session)
    with pytest.raises(pytest.fail.Exception, match="google-cloud-cli-firestore-emulator"):
        pool.get("firestore")
    pool.stop()


def test_check_reports_every_missing_piece(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    problems = emulators.check()
    assert len(problems) == 3
    assert any("java" in p for p in problems) and all("apt-get install" in p for p in problems)


def test_only_the_explicit_variable_turns_the_failure_into_a_skip(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract_emulators, "SKIP_EMULATORS", True)
    with pytest.raises(pytest.skip.Exception, match="TOWER_SKIP_EMULATORS=1"):
        contract_emulators.EmulatorPool(request.session).get("pubsub")
