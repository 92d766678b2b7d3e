"""The sync process R1 kills: syncs every platform of the given brands to completion.

Run by ``faults.Harness`` as ``python sync_worker.py CONFIG_JSON`` (``bench/`` on ``PYTHONPATH``).

Where it dies is drawn by the parent as a point in the sync's own progress, not on the wall clock (a
loaded machine would move a timed kill before the first write or after the last): with
``kill_at_write`` = *k*, the process sends itself SIGKILL ``kill_delay`` seconds after its *k*-th
warehouse write begins (a MERGE, a window replace, an UPDATE or an INSERT), so it dies inside that write
or just after it, with no chance to clean up. A child that is not killed prints the outcome per brand
and platform, and how many writes it made, as one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

WRITES = ("merge", "replace_window", "execute", "insert")


def arm(warehouse: Any, kill_at: int, delay: float) -> list[int]:
    """Count the warehouse's writes; SIGKILL this process ``delay`` s after write ``kill_at`` begins."""
    count = [0]

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            if count[0] == kill_at:
                threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
            return method(*args, **kwargs)

        return call

    for name in WRITES:
        if hasattr(warehouse, name):
            setattr(warehouse, name, counted(getattr(warehouse, name)))
    return count


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    import tower.connectors.google_ads.streams  # imported before "ready", see the module docstring
    import tower.connectors.meta.streams
    import tower.connectors.tiktok.streams
    import tower.sync.ads
    import tower.sync.shopify  # noqa: F401
    from reliability_checks.faults import sync_everything
    from reliability_checks.world import local_settings
    from tower.runtime import Runtime

    runtime = Runtime(local_settings(Path(config["root"]), None, **config["overrides"]))
    try:
        writes = arm(runtime.warehouse, int(config.get("kill_at_write") or 0), float(config.get("kill_delay") or 0))
        runtime.secrets  # noqa: B018 - opened before the sync, as a warm function has them
        runtime.store  # noqa: B018
        print("ready", flush=True)
        out = sync_everything(runtime, config["brand_ids"], now=datetime.fromisoformat(config["now"]),
                              today=date.fromisoformat(config["today"]), seed=int(config["seed"]))
    finally:
        runtime.close()
    print(json.dumps({"outcome": out, "writes": writes[0]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
