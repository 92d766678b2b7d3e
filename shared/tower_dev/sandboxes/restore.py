"""The development package's sandbox provider (the ``tower.sandboxes`` entry point ``dev``).

:mod:`tower.sandboxes` asks it two things:

* ``describe(platform, origin)``: whether a sandbox of this package runs there and which world it
  serves (it asks the sandbox itself: :mod:`tower_dev.sandboxes.identity`), recorded when an
  account is connected;
* ``restore(connections, settings)``: serve those connections again. A platform whose recorded origin
  still answers with the same world (the demo or a ``tower serve`` still running) is used as it is;
  otherwise the world is generated again from its parameters (deterministic: the same shops, orders,
  campaigns and numbers), and one sandbox per platform serves the connected shops and accounts,
  accepting the tokens they were connected with, on the recorded port when it is free.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from tower.config import Settings
from tower.connectors.shopify.schema import load_schema, schema_path
from tower.sandboxes import LABELS, ORIGIN_SETTINGS, Restored, SandboxConnection
from tower_dev.sandboxes.ad_sandbox import SandboxAccount, accounts_from_brand_world
from tower_dev.sandboxes.identity import probe
from tower_dev.sandboxes.shopify_store.server import API_VERSION, DEFAULT_SCOPES, ShopifySandbox, start
from tower_dev.sandboxes.shopify_store.state import ShopState
from tower_dev.world import WorldParams, generate_world

log = logging.getLogger(__name__)

_worlds: dict[str, Any] = {}
_worlds_lock = threading.Lock()

# What a rebuilt sandbox's connectors need besides its origin: a developer token for Google's
# (which checks one is sent), and no real-world waits between polls of a report or bulk export.
SANDBOX_SETTINGS: dict[str, Any] = {"meta_async_poll_seconds": 0.05, "shopify_bulk_poll_seconds": 0.05}
SANDBOX_DEVELOPER_TOKEN = "sandbox-developer-token"


def _world(params: dict[str, Any]) -> Any:
    """The world of these parameters, generated once per process."""
    key = json.dumps(params, sort_keys=True)
    with _worlds_lock:
        if key not in _worlds:
            values = dict(params)
            values["end_date"] = date.fromisoformat(str(values["end_date"]))
            _worlds[key] = generate_world(WorldParams(**values))
        return _worlds[key]


def _port(origin: str) -> int:
    """The port of ``http://host:port`` or ``host:port`` (0 when it names none)."""
    tail = origin.rsplit(":", 1)[-1].strip("/")
    return int(tail) if tail.isdigit() else 0


def _bind(start_on: Callable[[int], Any], port: int) -> Any:
    """Start on the recorded port; when something else holds it, on a free one."""
    try:
        return start_on(port)
    except OSError:
        log.info("recorded sandbox port taken; serving on a free one", extra={"port": port})
        return start_on(0)


def _shopify(conns: Sequence[SandboxConnection], host: str) -> tuple[str, Callable[[], None]]:
    first = conns[0].world
    options = first.get("options") or {}
    sandbox = ShopifySandbox(load_schema(schema_path(API_VERSION)))
    sandbox.identity = first
    for c in conns:
        world = _world(c.world["params"])
        bw = next((b for b in world.brands if b.brand["shop_domain"] == c.account_id), None)
        if bw is None:
            raise LookupError(f"world seed {world.params.seed} has no shop {c.account_id}")
        sandbox.add_shop(ShopState.from_brand_world(bw, clock=sandbox.clock.now), token=c.token,
                         scopes=options.get("scopes") or DEFAULT_SCOPES,
                         bucket_maximum=float(options.get("bucket_maximum") or 2000),
                         restore_rate=float(options.get("restore_rate") or 100))
    handle = _bind(lambda port: start(sandbox, host, port), _port(conns[0].origin))
    return handle.origin, handle.stop


def _ad_accounts(platform: str, conns: Sequence[SandboxConnection]) -> list[SandboxAccount]:
    wanted = {c.account_id for c in conns}
    accounts: dict[str, SandboxAccount] = {}
    for c in conns:
        world = _world(c.world["params"])
        for bw in world.brands:
            if bw.ad_accounts.get(platform, {}).get("account_id") in wanted:
                for a in accounts_from_brand_world(bw):
                    if a.platform == platform and a.account_id in wanted:
                        accounts[a.account_id] = a
    missing = wanted - set(accounts)
    if missing:
        raise LookupError(f"the world has no {LABELS[platform]} account {', '.join(sorted(missing))}")
    return list(accounts.values())


def _ads(platform: str, conns: Sequence[SandboxConnection], settings: Settings
         ) -> tuple[str, Callable[[], None], dict[str, str]]:
    """The platform's sandbox serving these connections again: (origin, stop, the OAuth settings for it)."""
    from tower_dev.sandboxes.ad_sandbox import register_oauth_app
    from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox
    from tower_dev.sandboxes.meta_graph.server import MetaSandbox
    from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox

    kind = {"meta": MetaSandbox, "tiktok": TikTokSandbox, "google_ads": GoogleAdsSandbox}[platform]
    accounts = _ad_accounts(platform, conns)
    sandbox = _bind(lambda port: kind(accounts, host=settings.host, port=port), _port(conns[0].origin))
    sandbox.identity = conns[0].world
    for c in conns:
        sandbox.registry.accept_token(c.token, c.account_id)
    # Connecting more accounts by OAuth works against the rebuilt sandbox too.
    oauth = register_oauth_app(settings, platform, sandbox)
    oauth |= sandbox.oauth_settings() if platform == "google_ads" else \
        {"meta_dialog_origin": sandbox.origin} if platform == "meta" else {}
    return (sandbox.endpoint if platform == "google_ads" else sandbox.origin), sandbox.stop, oauth


class DevSandboxes:
    """The provider: describes this package's sandboxes and rebuilds them for recorded connections."""

    def describe(self, platform: str, origin: str) -> dict[str, Any] | None:
        """The world the sandbox at ``origin`` serves (None: not a sandbox of this package, or no world)."""
        world = probe(platform, origin)
        return world if world and world.get("params") else None

    def restore(self, connections: Sequence[SandboxConnection], settings: Settings) -> Restored:
        """Serve every connection again (or find it served) and point ``settings`` at the sandboxes."""
        by_platform: dict[str, list[SandboxConnection]] = defaultdict(list)
        for c in connections:
            by_platform[c.platform].append(c)
        updates: dict[str, Any] = {}
        notes: list[str] = []
        stops: list[Callable[[], None]] = []
        for platform, conns in by_platform.items():
            brands = ", ".join(sorted({c.brand_id for c in conns}))
            seed = conns[0].world.get("params", {}).get("seed")
            origins = {c.origin for c in conns}
            worlds = {json.dumps(c.world, sort_keys=True) for c in conns}
            if len(origins) == 1 and len(worlds) == 1 and probe(platform, conns[0].origin) == conns[0].world:
                origin = conns[0].origin
                notes.append(f"{LABELS[platform]} sandbox running at {origin} (world seed {seed}) for {brands}")
            else:
                if platform == "shopify":
                    origin, stop = _shopify(conns, settings.host)
                else:
                    origin, stop, oauth = _ads(platform, conns, settings)
                    updates.update(oauth)
                stops.append(stop)
                notes.append(f"{LABELS[platform]} sandbox brought back at {origin} (world seed {seed}) for {brands}")
            updates[ORIGIN_SETTINGS[platform]] = origin
        if "google_ads" in by_platform and not settings.google_ads_developer_token:
            updates["google_ads_developer_token"] = SANDBOX_DEVELOPER_TOKEN
        updates.update({k: min(getattr(settings, k), v) for k, v in SANDBOX_SETTINGS.items()})

        def stop_all() -> None:
            for stop in stops:
                stop()

        return Restored(settings.model_copy(update=updates), notes, stop_all)

    def serve_identity(self, settings: Settings) -> Restored:
        """The Firebase Auth emulator for sign-in by ID token (:func:`tower.sandboxes.identity_standins`)."""
        from tower_dev.sandboxes.firebase_auth import AuthEmulator, EmulatorMissing, installed

        if not installed():
            note = (f"Firebase Auth emulator not installed (npm ci in {FIREBASE_DIR}): "
                    "sign-in by API key and Shopify session token only")
            return Restored(settings, [note])
        try:
            emulator = AuthEmulator(settings.firebase_project_id).start()
        except (EmulatorMissing, RuntimeError) as e:
            return Restored(settings, [f"Firebase Auth emulator did not start ({e}); sign-in by ID token unavailable"])
        return Restored(settings.model_copy(update={"firebase_auth_emulator_host": emulator.host_port}),
                        [f"Firebase Auth emulator at {emulator.origin} (project {settings.firebase_project_id})"],
                        emulator.stop)


FIREBASE_DIR = "shared/tower_dev/sandboxes/firebase_auth"
provider = DevSandboxes()
