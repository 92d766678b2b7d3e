"""A demo run, recorded: what ``tower demo --no-serve`` does, with everything it writes kept for R7, and
the API state R3–R6 start from (copies of its files, with the keys the authorisation matrix needs).

The demo runs in this process through ``tower_dev.demo.run_demo``, its console captured, and its logs
written the way the product writes them (``tower.logs.configure_logging``: masked JSON lines on
stderr, here at INFO, the level ``main.py`` gives the deployed functions, which is more than the
``tower`` command's WARNING) into a buffer.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reliability_checks.world import local_settings
from tower.runtime import Runtime, set_default_runtime

#: The second agency of the authorisation matrix (the demo's own agency keeps the first brand).
OTHER_AGENCY = "agency_rival"


@dataclass
class DemoRun:
    """What a demo run left: its data folder (closed), its world, console and log text, and the secret
    values it stored (platform tokens, customer-hash salts)."""

    root: Path
    world: Any
    console_text: str
    log_text: str
    brand_ids: list[str]
    secret_values: list[str]


def run_demo_recorded(root: Path, *, brands: int, days: int, orders_per_day: int, seed: int) -> DemoRun:
    """Run the demo into ``root`` and keep what it wrote."""
    from rich.console import Console

    from tower import names
    from tower.logs import configure_logging
    from tower_dev.demo import run_demo

    settings = local_settings(root)
    console_buffer = io.StringIO()
    log_buffer = io.StringIO()
    root_logger = logging.getLogger()
    level = root_logger.level
    # the demo prints through its console and, for the findings' tables, through the CLI's own (stdout)
    with contextlib.redirect_stderr(log_buffer), contextlib.redirect_stdout(console_buffer):
        handler = configure_logging(logging.INFO, force=True)
        try:
            result = run_demo(settings, brands=brands, days=days, orders_per_day=orders_per_day, seed=seed,
                              serve=False, console=Console(file=console_buffer, width=160))
        finally:
            if handler is not None:
                root_logger.removeHandler(handler)
            root_logger.setLevel(level)
    runtime: Runtime = result["runtime"]
    try:
        brand_ids = [str(bw.brand["brand_id"]) for bw in result["world"].brands]
        values = []
        for row in runtime.warehouse.rows("SELECT secret_ref FROM integrations"):
            with contextlib.suppress(Exception):
                values.append(runtime.secrets.get(row["secret_ref"]))
        for b in brand_ids:
            with contextlib.suppress(Exception):
                values.append(runtime.secrets.get(names.customer_salt_secret_id(b)))
    finally:
        runtime.close()
        set_default_runtime(None)
    return DemoRun(root, result["world"], console_buffer.getvalue(), log_buffer.getvalue(), brand_ids,
                   [v for v in values if v])


@dataclass
class ApiState:
    """A copy of the demo's files with two agencies and every kind of key.

    ``keys``: ``brand`` (the first brand), ``other_brand`` (the second), ``agency`` (the demo agency,
    reduced to the first brand), ``other_agency`` (a second agency with the second brand), ``operator``
    (the deployment's operator, when the product has that scope), ``revoked`` (issued, then revoked);
    where keys have roles, ``viewer`` (the first brand's merchant_viewer) and ``member`` (an
    agency_member of the demo agency).
    """

    root: Path
    brand_ids: list[str]
    keys: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)
    revocation: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, **overrides: Any) -> Any:
        """Settings on this copy (pointed at the ad sandboxes once :func:`reconnect_ads` ran)."""
        return local_settings(self.root, **{**self.overrides, **overrides})


def api_state(demo: DemoRun, target: Path) -> ApiState:
    """Copy the demo's files to ``target`` and issue the keys (see :class:`ApiState`)."""
    from tower.api import auth
    from tower_dev.demo import DEMO_AGENCY_ID

    shutil.copytree(demo.root, target)
    first, second = demo.brand_ids[0], demo.brand_ids[1]
    runtime = Runtime(local_settings(target))
    try:
        store = runtime.store
        doc = store.get(f"agencies/{DEMO_AGENCY_ID}") or {}
        store.set(f"agencies/{DEMO_AGENCY_ID}", {**doc, "brand_ids": [first]})
        store.set(f"agencies/{OTHER_AGENCY}", {"name": "Rival Growth", "brand_ids": [second]})
        now = datetime.now(UTC)
        keys = {
            "brand": auth.create_api_key(store, brand_ids=[first], name="brand-team", now=now),
            "other_brand": auth.create_api_key(store, brand_ids=[second], name="other-brand-team", now=now),
            "agency": auth.create_api_key(store, agency_id=DEMO_AGENCY_ID, name="agency", now=now),
            "other_agency": auth.create_api_key(store, agency_id=OTHER_AGENCY, name="rival-agency", now=now),
            "revoked": auth.create_api_key(store, brand_ids=[first], name="revoked-key", now=now),
        }
        try:  # the deployment's operator (agencies and their brands, no brand's data), where keys have one
            keys["operator"] = auth.create_api_key(store, operator=True, name="operator", now=now)
        except TypeError:
            pass
        try:  # the read-only and the member roles, where keys have roles
            keys["viewer"] = auth.create_api_key(store, brand_ids=[first], name="viewer", now=now,
                                                 role="merchant_viewer")
            keys["member"] = auth.create_api_key(store, agency_id=DEMO_AGENCY_ID, name="member", now=now,
                                                 role="agency_member")
        except TypeError:
            pass
        how = _revoke(store, keys["revoked"])
        names = {r["brand_id"]: r["brand_name"] for r in runtime.warehouse.rows("SELECT brand_id, brand_name FROM brands")}
    finally:
        runtime.close()
    return ApiState(target, demo.brand_ids, keys, names, how)


def _revoke(store: Any, key: str) -> str:
    """Revoke a key the product's way when it has one; say how it was done."""
    from tower.api import auth

    revoke = getattr(auth, "revoke_api_key", None)
    if callable(revoke):
        try:
            revoke(store, key)
            return "tower.api.auth.revoke_api_key"
        except TypeError:
            pass
    # no revocation in the product yet: a revoked key is one whose record is gone
    store.delete(f"{auth.COLLECTION}/{auth.hash_key(key)}")
    return "api_keys record deleted (the product has no revoke_api_key yet)"


def reconnect_ads(state: ApiState, world: Any) -> Any:
    """Serve the world's ad accounts again and connect them on the copy (the demo's sandboxes stopped
    with it, and their tokens with them): Accept, Undo and dry runs then talk to live platforms."""
    from tower_dev.sandboxes.ad_sandbox import connect_world_accounts, start_world_ad_sandboxes

    ads = start_world_ad_sandboxes(world, host="127.0.0.1")
    state.overrides.update(ads.settings_overrides())
    runtime = Runtime(state.settings())
    try:
        connect_world_accounts(runtime, ads, world)
    except BaseException:
        ads.stop()
        raise
    finally:
        runtime.close()
    return ads


def copy_state(state: ApiState, target: Path) -> ApiState:
    """A copy of an API state of its own (each requirement writes: keys used, cards dismissed, logs)."""
    shutil.copytree(state.root, target)
    return ApiState(target, state.brand_ids, state.keys, state.names, state.revocation, dict(state.overrides))
