"""Accounts connected to a development sandbox, remembered so the sandbox can be brought back later.

A sandbox (the development package's Shopify store, Meta, TikTok and Google Ads servers on
127.0.0.1) lives only as long as the process that started it: the demo, a test. The integrations it
connected outlive it, tokens and all. So when an account is connected, each installed sandbox
*provider* is asked whether the platform's origin is one of its sandboxes; if so the integration's
document records which provider, the origin and the world it serves (:func:`note_connection`).
Later, any process that is about to reach those platforms (``tower serve``, a sync, an Accept) asks
the provider to bring the sandbox back with the same world and the stored tokens, on the same origin
when it is free (:func:`bring_back`), and reaches it through its settings.

Providers are found by name through the ``tower.sandboxes`` entry point group (the development
package registers one), so the product never imports the development package; without one, a
sandbox connection cannot be reached and says so in one line (:class:`Problem`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol
from urllib.parse import urlparse

from tower.config import Settings
from tower.names import PLATFORMS, integration_secret_id
from tower.ports import DocumentStore, NotFound, Secrets, Warehouse
from tower.sync.outcomes import documents, record_sandbox

log = logging.getLogger(__name__)

GROUP = "tower.sandboxes"

# The setting that says where each platform is reached (Shopify: empty = the shop's own origin).
ORIGIN_SETTINGS: dict[str, str] = {
    "shopify": "shopify_api_origin",
    "meta": "meta_api_origin",
    "tiktok": "tiktok_api_origin",
    "google_ads": "google_ads_endpoint",
}
LABELS = {"shopify": "Shopify", "meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads"}


@dataclass(frozen=True)
class SandboxConnection:
    """One account connected to a sandbox: what its provider needs to serve it again.

    Attributes:
        world: What the sandbox said it serves when the account was connected (opaque here: the
            provider's own description, e.g. the synthetic world's parameters).
        token: The integration's token from the secret store (the restored sandbox must accept it).
    """

    brand_id: str
    platform: str
    account_id: str
    provider: str
    origin: str
    world: dict[str, Any]
    token: str = field(default="", repr=False)


@dataclass
class Restored:
    """What a provider brought back: settings that reach it, lines for a person, and how to stop it."""

    settings: Settings
    notes: list[str] = field(default_factory=list)
    stop: Callable[[], None] = lambda: None


class SandboxProvider(Protocol):
    """What the ``tower.sandboxes`` entry points name (an object with these two methods)."""

    def describe(self, platform: str, origin: str) -> dict[str, Any] | None:
        """What the sandbox at ``origin`` serves, or None when the origin is not one of this provider's."""

    def restore(self, connections: Sequence[SandboxConnection], settings: Settings) -> Restored:
        """Serve these connections again (or find them served already) and point ``settings`` at them."""


@dataclass(frozen=True)
class Problem:
    """A connection that cannot be reached, as one line: which platform and brand, where, what to do."""

    brand_id: str
    platform: str
    origin: str
    fix: str

    def __str__(self) -> str:
        return f"{LABELS.get(self.platform, self.platform)} of {self.brand_id} at {self.origin}: {self.fix}"


def providers() -> dict[str, SandboxProvider]:
    """The installed providers by entry point name (a stale one whose package is gone is skipped)."""
    found: dict[str, SandboxProvider] = {}
    for ep in entry_points(group=GROUP):
        try:
            found[ep.name] = ep.load()
        except ModuleNotFoundError as e:
            # Metadata left by an install whose package is not importable here: that provider is absent.
            if e.name and ep.module.split(".")[0] == e.name.split(".")[0]:
                continue
            raise
    return found


def origin_of(settings: Settings, platform: str, account_id: str = "") -> str:
    """Where the connectors reach ``platform`` with these settings (a shop's own origin by default)."""
    origin = str(getattr(settings, ORIGIN_SETTINGS[platform]))
    if platform == "shopify" and not origin:
        return f"https://{account_id}" if account_id else "https://<shop>.myshopify.com"
    return origin


def is_loopback(origin: str) -> bool:
    """Whether an origin (``scheme://host:port`` or ``host:port``) is on this machine."""
    host = urlparse(origin if "//" in origin else f"//{origin}").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def note_connection(settings: Settings, store: DocumentStore, brand_id: str, platform: str,
                    account_id: str) -> dict[str, Any] | None:
    """Record on the integration's document whether it was connected to a sandbox (and forget an old one).

    Only an origin on this machine is asked about: a real platform is never probed. Returns the
    sandbox record, or None when the account was connected to something else.
    """
    origin = origin_of(settings, platform, account_id)
    record = None
    if is_loopback(origin):
        for name, provider in providers().items():
            world = provider.describe(platform, origin)
            if world is not None:
                record = {"provider": name, "origin": origin, "world": world}
                break
    record_sandbox(store, brand_id, platform, account_id, record)
    return record


def note_all(settings: Settings, warehouse: Warehouse, store: DocumentStore) -> list[dict[str, Any]]:
    """:func:`note_connection` for every integration in the warehouse (those connected without the CLI:
    the demo's); returns the sandbox records made."""
    rows = warehouse.rows("SELECT brand_id, platform, account_id FROM integrations ORDER BY 1, 2, 3")
    records = [note_connection(settings, store, r["brand_id"], r["platform"], r["account_id"]) for r in rows]
    return [r for r in records if r]


def sandbox_connections(store: DocumentStore, secrets: Secrets, *, brand_ids: Iterable[str] | None = None,
                        platforms: Iterable[str] | None = None) -> list[SandboxConnection]:
    """The recorded sandbox connections (of these brands and platforms), each with its token.

    A connection whose token is gone from the secret store is left out: it could not sync anyway, and
    ``tower status`` says to reconnect it.
    """
    brands = set(brand_ids) if brand_ids is not None else None
    wanted = set(platforms) if platforms is not None else set(PLATFORMS)
    out = []
    for doc in documents(store):
        sandbox = doc.get("sandbox")
        if not sandbox or doc["platform"] not in wanted or (brands is not None and doc["brand_id"] not in brands):
            continue
        try:
            token = secrets.get(secret_id(doc["brand_id"], doc["platform"], doc["account_id"]))
        except NotFound:
            continue
        out.append(SandboxConnection(doc["brand_id"], doc["platform"], doc["account_id"], str(sandbox["provider"]),
                                     str(sandbox["origin"]), dict(sandbox.get("world") or {}), token))
    return out


def secret_id(brand_id: str, platform: str, account_id: str) -> str:
    """The secret holding an integration's token (as ``tower.sync.connect`` names it)."""
    return integration_secret_id(brand_id, "shopify") if platform == "shopify" else \
        integration_secret_id(brand_id, platform, account_id)


@dataclass
class BroughtBack:
    """The settings that reach every connection asked for, what was started, and what cannot be reached."""

    settings: Settings
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def adopt(self, restored: Restored) -> None:
        """Take on another provider's stand-ins: their settings and notes, stopped with the rest."""
        self.settings = restored.settings
        self.notes.extend(restored.notes)
        self._stops.append(restored.stop)

    def stop(self) -> None:
        """Stop the sandboxes this brought back (those found already running are left alone)."""
        while self._stops:
            self._stops.pop()()


def bring_back(settings: Settings, store: DocumentStore, secrets: Secrets, *,
               brand_ids: Iterable[str] | None = None, platforms: Iterable[str] | None = None) -> BroughtBack:
    """Make every recorded sandbox connection (of these brands and platforms) reachable again.

    Each provider serves its connections again, on their recorded origin when it is free, or finds
    them served already; the returned settings point the connectors there. A connection whose provider
    is not installed is a :class:`Problem`, as is a platform with sandbox and real connections at once
    (one process reaches one origin per platform): the real ones keep the settings' origin.
    """
    out = BroughtBack(settings)
    connections = sandbox_connections(store, secrets, brand_ids=brand_ids, platforms=platforms)
    if not connections:
        return out
    real = {d["platform"] for d in documents(store) if not d.get("sandbox")}
    installed = providers()
    by_provider: dict[str, list[SandboxConnection]] = defaultdict(list)
    for c in connections:
        if c.provider not in installed:
            out.problems.append(Problem(c.brand_id, c.platform, c.origin, (
                f"connected to a development sandbox, and no sandbox provider named {c.provider!r} is "
                "installed: install the development package (pip install -e '.[dev]'), or connect the real "
                f"account (tower connect {c.platform} --brand {c.brand_id} ...)")))
        elif c.platform in real:
            out.problems.append(Problem(c.brand_id, c.platform, c.origin, (
                f"connected to a sandbox while other brands' {LABELS[c.platform]} accounts are real; this process "
                f"reaches {origin_of(settings, c.platform)}: reconnect it to the real account "
                f"(tower connect {c.platform} --brand {c.brand_id} ...)")))
        else:
            by_provider[c.provider].append(c)
    for name, conns in by_provider.items():
        try:
            restored = installed[name].restore(conns, out.settings)
        except Exception as e:  # noqa: BLE001 - a provider's failure is the connections' problem, said in one line
            out.problems.extend(Problem(c.brand_id, c.platform, c.origin, (
                f"its sandbox could not be brought back ({type(e).__name__}: {e}); connect the account again "
                f"(tower connect {c.platform} --brand {c.brand_id} ...)")) for c in conns)
            continue
        out.settings = restored.settings
        out.notes.extend(restored.notes)
        out._stops.append(restored.stop)
    for note in out.notes:
        log.info("sandbox brought back", extra={"note": note})
    return out


def notification_standins(settings: Settings, secrets: Secrets) -> Restored | None:
    """Start the local stand-ins of the notifications (an SMTP capture, a Slack sandbox) when no SMTP
    server is configured and a provider offers them (``serve_notifications``); None otherwise.

    The returned settings reach them; ``stop`` ends them.
    """
    if settings.notify_smtp_host:
        return None
    for provider in providers().values():
        start = getattr(provider, "serve_notifications", None)
        if start is not None:
            restored: Restored = start(settings, secrets)
            return restored
    return None


def identity_standins(settings: Settings) -> Restored | None:
    """Start the official Firebase Auth emulator when sign-in is on the embedded default (a ``demo-*``
    Firebase project and no emulator configured) and a provider offers it (``serve_identity``); None
    otherwise. The returned settings reach it (``firebase_auth_emulator_host``); ``stop`` ends it."""
    if settings.firebase_auth_emulator_host or not settings.firebase_project_id.startswith("demo-"):
        return None
    for provider in providers().values():
        start = getattr(provider, "serve_identity", None)
        if start is not None:
            restored: Restored = start(settings)
            return restored
    return None
