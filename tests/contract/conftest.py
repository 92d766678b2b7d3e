"""Fixtures of the contract suites: the Firestore and Pub/Sub emulators, one start per session.

The machinery lives in contract_emulators.py (a unique module name, so test modules import it
safely); see its docstring for the policy: lazy start, a loud failure when an emulator is missing,
``TOWER_SKIP_EMULATORS=1`` as the only way to skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract_emulators import EmulatorPool, emulators


@pytest.fixture(scope="session")
def emulator_pool(request: pytest.FixtureRequest) -> Iterator[EmulatorPool]:
    pool = EmulatorPool(request.session)
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def firestore_emulator(emulator_pool: EmulatorPool) -> emulators.Emulator:
    return emulator_pool.get("firestore")


@pytest.fixture(scope="session")
def pubsub_emulator(emulator_pool: EmulatorPool) -> emulators.Emulator:
    return emulator_pool.get("pubsub")
