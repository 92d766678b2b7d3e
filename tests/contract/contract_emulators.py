"""The official GCP emulators for the contract suites: lazy start, parameters, failure policy.

The Firestore and Pub/Sub emulators (from google-cloud-cli, see tests/emulators.py) start once per
test session, lazily — only when a test that needs one runs — and both at once when both will be
needed, since each takes a second or two to boot. Tests that use them are marked
``@pytest.mark.emulator`` and grouped with ``xdist_group`` so that ``pytest -n 2 --dist loadgroup``
runs them on one worker (one emulator start per session, not one per worker).

An emulator that is not installed FAILS the tests that need it, with what to install. Only
``TOWER_SKIP_EMULATORS=1`` (explicit, for quick local runs) turns that into a skip.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/emulators.py

import emulators

PROJECT = "tower-test"
SKIP_EMULATORS = os.environ.get("TOWER_SKIP_EMULATORS", "").strip().lower() in ("1", "true", "yes")
EMULATOR_GROUP = "gcp-emulators"
EMULATOR_MARKS = (pytest.mark.emulator, pytest.mark.xdist_group(EMULATOR_GROUP))
_STARTERS = {"firestore": emulators.start_firestore, "pubsub": emulators.start_pubsub}


def emulated(kind: str) -> Any:
    """A parameter for an adapter that runs against an emulator (``firestore`` or ``pubsub``)."""
    return pytest.param(kind, marks=EMULATOR_MARKS, id=kind)


class EmulatorPool:
    """Starts emulators on first use (both at once when the session will use both)."""

    def __init__(self, session: pytest.Session) -> None:
        self._session = session
        self._running: dict[str, emulators.Emulator] = {}

    def _wanted(self) -> set[str]:
        wanted = set()
        for item in self._session.items:
            callspec = getattr(item, "callspec", None)
            if callspec is not None:
                wanted |= {str(v) for v in callspec.params.values()} & set(_STARTERS)
        return wanted

    def get(self, kind: str) -> emulators.Emulator:
        if SKIP_EMULATORS:
            pytest.skip(f"TOWER_SKIP_EMULATORS=1: the {kind} emulator contract tests were not run")
        try:
            for name in sorted(self._wanted() | {kind}):
                if name not in self._running:
                    self._running[name] = _STARTERS[name](PROJECT)  # start now, wait below
            return self._running[kind].wait_ready()
        except emulators.EmulatorMissing as e:
            pytest.fail(f"{kind} emulator unavailable: {e}", pytrace=False)
        except RuntimeError as e:
            pytest.fail(f"{kind} emulator did not start: {e}", pytrace=False)

    def stop(self) -> None:
        for emu in self._running.values():
            emu.stop()
        self._running.clear()
