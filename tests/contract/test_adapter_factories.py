"""The settings' URLs choose each adapter, and the local ones never import a Google SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tower.adapters import open_bus, open_secrets, open_store, open_tasks
from tower.config import ConfigError, Settings


def local_settings(tmp_path: Path) -> Settings:
    return Settings(
        store=f"local:///{tmp_path}/store.sqlite", bus=f"local:///{tmp_path}/bus.sqlite",
        tasks=f"local:///{tmp_path}/tasks.sqlite", secrets=f"local:///{tmp_path}/secrets",
        bus_backoff_seconds=0, bus_max_attempts=2,
    )


def test_local_urls_open_the_embedded_adapters_at_their_paths(tmp_path: Path) -> None:
    from tower.adapters.local_bus import LocalBus
    from tower.adapters.local_secrets import LocalSecrets
    from tower.adapters.local_store import LocalStore
    from tower.adapters.local_tasks import LocalTasks

    s = local_settings(tmp_path)
    store, bus, tasks, secrets = open_store(s), open_bus(s), open_tasks(s), open_secrets(s)
    assert isinstance(store, LocalStore) and store.path == f"{tmp_path}/store.sqlite"
    assert isinstance(bus, LocalBus) and bus.path == f"{tmp_path}/bus.sqlite" and bus.max_attempts == 2
    assert isinstance(tasks, LocalTasks) and tasks.path == f"{tmp_path}/tasks.sqlite" and tasks.max_attempts == 2
    assert isinstance(secrets, LocalSecrets) and secrets.directory == tmp_path / "secrets"
    for adapter in (store, bus, tasks, secrets):
        adapter.close()


def test_bare_local_uses_the_data_dir(tmp_path: Path) -> None:
    s = Settings(bus="local", tasks="local", data_dir=tmp_path)
    bus, tasks = open_bus(s), open_tasks(s)
    assert bus.path == str(tmp_path / "bus.sqlite") and tasks.path == str(tmp_path / "tasks.sqlite")
    bus.close()
    tasks.close()


def test_gcp_urls_open_the_gcp_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    from tower.adapters.firestore_store import FirestoreStore
    from tower.adapters.pubsub_bus import PubSubBus

    # The emulator variables give the clients anonymous credentials; nothing connects here.
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")
    store = open_store(Settings(store="firestore://my-project/tower-db"))
    assert isinstance(store, FirestoreStore)
    assert store._client.project == "my-project" and store._client._database == "tower-db"
    bus = open_bus(Settings(bus="pubsub://my-project", bus_max_attempts=7))
    assert isinstance(bus, PubSubBus) and bus.project == "my-project" and bus.max_attempts == 7


def test_cloud_tasks_needs_its_target_url() -> None:
    with pytest.raises(ConfigError, match="TOWER_TASKS_TARGET_URL"):
        open_tasks(Settings(tasks="cloudtasks://my-project/europe-west1"))


_PROBE = """
import json, sys
from tower.adapters import open_bus, open_secrets, open_store, open_tasks
from tower.config import Settings
d = sys.argv[1]
s = Settings(store=f"local:///{d}/s.sqlite", bus=f"local:///{d}/b.sqlite", tasks=f"local:///{d}/t.sqlite",
             secrets=f"local:///{d}/secrets")
for open_ in (open_store, open_bus, open_tasks, open_secrets):
    open_(s).close()
# "google" and "google.cloud" are empty namespace packages a .pth file imports at start-up.
print(json.dumps(sorted(m for m in sys.modules
                        if m.startswith(("google.", "grpc")) and m != "google.cloud")))
"""


def test_local_adapters_import_no_google_sdk(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path)], capture_output=True, text=True,
                         check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
