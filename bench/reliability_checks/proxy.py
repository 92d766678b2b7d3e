"""A TCP relay on 127.0.0.1 that can hold chosen connections unanswered: real client timeouts.

The sandboxes' own faults answer (an error, a cut body, a reset); a timeout needs a server that says
nothing. The relay sits between the Shopify connector and its sandbox (the Admin API client opens one
connection per request, so connection *n* is request *n*); a connection whose number is scheduled is
read and then left without an answer for ``hold_seconds``, longer than the client's socket timeout,
and closed. Every other connection is relayed byte for byte.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit


class StallingRelay:
    """Relay ``127.0.0.1:<port>`` to ``upstream`` (an ``http://host:port`` origin)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._count = 0
        self._stall: set[int] = set()
        self.hold_seconds = 1.0
        self.stalled = 0
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="stalling-relay", daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def schedule(self, connections: Iterable[int], hold_seconds: float) -> None:
        """Count connections from 1 again; hold those numbered in ``connections`` unanswered."""
        with self._lock:
            self._count = 0
            self._stall = set(connections)
            self.hold_seconds = hold_seconds
            self.stalled = 0

    def stop(self) -> None:
        """Stop accepting (relays in flight end with their connections)."""
        self._closing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=2)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._count += 1
                stall = self._count in self._stall
                if stall:
                    self.stalled += 1
                hold = self.hold_seconds
            target = self._hold if stall else self._relay
            threading.Thread(target=target, args=(client, hold), daemon=True).start()

    def _hold(self, client: socket.socket, hold: float) -> None:
        with client:
            client.settimeout(hold)
            with contextlib.suppress(OSError):
                client.recv(65536)  # take the request, answer nothing
            self._closing.wait(hold)

    def _relay(self, client: socket.socket, _hold: float) -> None:
        try:
            upstream = socket.create_connection(self._upstream, timeout=10)
        except OSError:
            client.close()
            return
        pair = {client: upstream, upstream: client}
        try:
            while True:
                ready, _, _ = select.select(list(pair), [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
