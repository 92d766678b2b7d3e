"""``tower serve``: the API, the page and every function target in one local process, under gunicorn.

The WSGI application joins, with werkzeug's ``DispatcherMiddleware``:

* ``/``: the API and the page (:func:`tower.api.app.create_app`);
* ``/tower-<entry point>`` (the deployed function's name, :func:`tower.names.function_name`): each
  entry point of :mod:`tower.wiring`, made by functions-framework from ``main.py`` exactly as Cloud Run
  makes it (its request decoding, CloudEvent handling and answers), so Shopify's webhooks, a Cloud
  Tasks-shaped call or a Pub/Sub push reach the same code they reach when deployed.

gunicorn (the server functions-framework runs on Cloud Run) serves it with one worker process and
several threads: the embedded warehouse allows one writing process, and the worker owns the runtime.
The worker also runs the pumps (:mod:`tower.host.pumps`) and the scheduler
(:mod:`tower.host.scheduler`), started when it loads the app and stopped when it exits; Ctrl-C
(SIGINT) or SIGTERM stops the master, which stops the worker. The sandboxes an integration was
connected to are brought back in the master before the worker starts (:mod:`tower.sandboxes`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from tower.api.app import create_app
from tower.config import Settings, parse_adapter_url
from tower.host.pumps import Pumps
from tower.host.scheduler import LocalScheduler
from tower.runtime import Runtime, set_default_runtime
from tower.wiring import ENTRY_POINTS, EntryPoint, of_kind, wire_local

log = logging.getLogger(__name__)


class ServeError(ValueError):
    """The host cannot start as asked (the message says why and what to do)."""


def functions_source(explicit: str | Path | None = None) -> Path | None:
    """The ``main.py`` the functions are deployed from: the one given, else beside the library (the
    repository's root, or the function zip's); None when there is none (a library installed alone)."""
    if explicit:
        path = Path(explicit).resolve()
        if not path.is_file():
            raise ServeError(f"--functions-source {explicit}: no such file")
        return path
    package = Path(__file__).resolve().parents[1]  # tower/ (a namespace package: no tower.__file__)
    for candidate in (package.parents[1] / "main.py", package.parent / "main.py"):
        if candidate.is_file():
            return candidate
    return None


def check_local(settings: Settings) -> None:
    """Refuse cloud task queue or bus adapters: nothing here may drain Cloud Tasks or Pub/Sub.

    Raises:
        ServeError: Naming the setting.
    """
    for name, setting, kinds in (("TOWER_TASKS", settings.tasks, ("local", "cloudtasks")),
                                 ("TOWER_BUS", settings.bus, ("local", "pubsub"))):
        if parse_adapter_url(setting, kinds, name).scheme != "local":
            raise ServeError(f"{name} is {setting}: tower serve runs the embedded default's queues; on GCP the "
                             "deployed functions are the host (unset it, or set it to local)")


def function_apps(source: Path) -> dict[str, Any]:
    """``/tower-<name>`` -> the functions-framework app of each entry point, made from ``source``."""
    import functions_framework  # the vendor framework, imported by the host only

    apps = {}
    for entry in ENTRY_POINTS.values():
        apps[f"/{entry.function_name}"] = _at_its_own_url(
            functions_framework.create_app(target=entry.name, source=str(source)))
    return apps


def _at_its_own_url(app: Callable[..., Any]) -> Callable[..., Any]:
    """``app`` answering at its mount point itself (``/tower-x``, not only ``/tower-x/``), as a deployed
    function answers at its URL; the dispatcher leaves an empty path there, which Flask would redirect."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not environ.get("PATH_INFO"):
            environ["PATH_INFO"] = "/"
        return app(environ, start_response)

    return wsgi


@dataclass
class Host:
    """What the worker runs: the runtime, its pumps and scheduler, and the WSGI app."""

    runtime: Runtime
    app: Callable[..., Any]
    pumps: Pumps
    scheduler: LocalScheduler | None
    mounted: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop the scheduler, then the pumps (each after the item under way), then close the ports."""
        if self.scheduler is not None:
            self.scheduler.stop()
        if not self.pumps.stop():
            log.warning("a handler was still running at stop; its item stays queued for the next start")
        self.runtime.close()
        set_default_runtime(None)


def build_host(settings: Settings, *, source: Path | None, schedule: Sequence[EntryPoint] | None,
               idle_seconds: float = 0.5) -> Host:
    """Open the runtime, wire it as on GCP, start the pumps and scheduler, and build the app."""
    runtime = Runtime(settings)
    runtime.warehouse.init_schema()
    set_default_runtime(runtime)  # the functions-framework targets use the process's runtime
    wire_local(runtime)
    mounts = function_apps(source) if source is not None else {}
    app = DispatcherMiddleware(create_app(runtime), mounts)
    pumps = Pumps(runtime, idle_seconds=idle_seconds)
    pumps.start()
    scheduler = LocalScheduler(runtime, schedule) if schedule is None or schedule else None
    if scheduler is not None:
        scheduler.start()
    return Host(runtime, app, pumps, scheduler, sorted(mounts))


class GunicornHost(BaseApplication):  # gunicorn ships no type hints: the base is Any to mypy
    """gunicorn's programmatic application: one worker, threads, the host built inside the worker.

    Args:
        settings: The settings the runtime opens (pointing at any sandbox brought back).
        bind: ``host:port``.
        source: ``main.py`` (None: the API and the page only).
        schedule: The scheduled entries to fire (None: all; empty: none).
        threads: Request threads of the worker.
        ready: Told the URL once the socket is bound (before the worker has loaded).
    """

    def __init__(self, settings: Settings, bind: str, *, source: Path | None,
                 schedule: Sequence[EntryPoint] | None, threads: int = 8,
                 ready: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.bind = bind
        self.source = source
        self.schedule = schedule
        self.threads = threads
        self.ready = ready
        self.host: Host | None = None
        super().__init__()

    def load_config(self) -> None:
        host = self

        def when_ready(server: Any) -> None:
            if host.ready is not None:
                name = server.LISTENERS[0].sock.getsockname()
                host.ready(f"http://{name[0]}:{name[1]}")

        def worker_exit(_server: Any, _worker: Any) -> None:
            if host.host is not None:
                host.host.stop()

        for key, value in {
            "bind": [self.bind], "workers": 1, "worker_class": "gthread", "threads": self.threads,
            # A request never takes long; the pumps run outside requests, so no request timeout is needed
            # for them, and the worker's heartbeat comes from its main loop.
            "timeout": 120, "graceful_timeout": 30, "accesslog": None, "errorlog": "-", "loglevel": "warning",
            "proc_name": "tower-serve", "when_ready": when_ready, "worker_exit": worker_exit,
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Called in the worker: build the host there (the runtime must not cross the fork)."""
        self.host = build_host(self.settings, source=self.source, schedule=self.schedule)
        return self.host.app


def serve(settings: Settings, *, host: str, port: int, source: Path | None,
          schedule: Sequence[EntryPoint] | None, ready: Callable[[str], None] | None = None,
          threads: int = 8) -> None:
    """Serve until SIGINT or SIGTERM (blocks). gunicorn ends the process when it stops.

    Seven parameters: the settings, then keywords: where to listen (host, port), what to serve (the
    functions' source, the schedule), and the readiness callback and worker threads with their defaults.

    Raises:
        ServeError: Cloud queue adapters, or a schedule entry that does not exist.
    """
    check_local(settings)
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    GunicornHost(settings, bind, source=source, schedule=schedule, threads=threads, ready=ready).run()


def schedule_entries(names: Sequence[str] | None) -> list[EntryPoint] | None:
    """The schedule entries named (None: all of them).

    Raises:
        ServeError: A name that is no schedule entry.
    """
    if names is None:
        return None
    known = {e.name: e for e in of_kind("schedule")}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ServeError(f"--schedule {', '.join(unknown)}: not a scheduled entry point; "
                         f"scheduled: {', '.join(known)}")
    return [known[n] for n in names]
