"""The official Firebase Auth emulator (``firebase-tools`` from npm), run for the tests and ``tower serve``.

``package.json`` and its committed ``package-lock.json`` pin ``firebase-tools``; ``npm ci`` in this
folder installs it (``.ci/run`` does, the Makefile's ``firebase-emulator`` target too). The emulator
needs Node.js only (no Java, unlike Firestore's). :class:`AuthEmulator` starts it on free ports, in a
scratch folder of its own (its ``firebase.json``, and a ``HOME`` so nothing is written to the user's),
waits until it answers, and stops it; :func:`sign_up` and :func:`sign_in` create users and get their
ID tokens through its REST API, as the Firebase JS SDK on the page does.

Its ID tokens are unsigned (``alg: none``): :mod:`tower.identity.firebase` trusts them only from a
loopback emulator and confirms each with the emulator itself.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

HERE = Path(__file__).resolve().parent
FIREBASE_BIN = HERE / "node_modules" / ".bin" / "firebase"
START_SECONDS = 60.0


class EmulatorMissing(RuntimeError):
    """firebase-tools is not installed here (run ``npm ci`` in this folder)."""


def installed() -> bool:
    """Whether ``npm ci`` has installed firebase-tools beside this module."""
    return FIREBASE_BIN.exists() and shutil.which("node") is not None


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class AuthEmulator:
    """A running Auth emulator: ``host_port`` (what ``TOWER_FIREBASE_AUTH_EMULATOR_HOST`` takes), ``stop()``."""

    project_id: str
    host: str = "127.0.0.1"
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = None
    _dir: str = ""
    _log: Any = field(default=None, repr=False)

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://{self.host_port}"

    def start(self) -> Self:
        """Start it and wait until it answers.

        Raises:
            EmulatorMissing: firebase-tools or node is not installed.
            RuntimeError: it exited or did not answer within a minute (its log's tail says why).
        """
        if not installed():
            raise EmulatorMissing(f"the Firebase Auth emulator is not installed: run `npm ci` in {HERE}")
        self.port = self.port or _free_port(self.host)
        self._dir = tempfile.mkdtemp(prefix="tower-firebase-auth-")
        # every port the emulator suite would take is a free one, so emulators of parallel tests never collide
        config = {"emulators": {"auth": {"host": self.host, "port": self.port},
                                "hub": {"host": self.host, "port": _free_port(self.host)},
                                "logging": {"host": self.host, "port": _free_port(self.host)},
                                "ui": {"enabled": False}}}
        Path(self._dir, "firebase.json").write_text(json.dumps(config))
        env = {**os.environ, "HOME": self._dir, "NO_UPDATE_NOTIFIER": "1", "FIREBASE_CLI_DISABLE_UPDATE_CHECK": "1",
               "CI": "1"}
        self._log = open(Path(self._dir, "emulator.log"), "wb")  # noqa: SIM115 - closed by stop()
        self._proc = subprocess.Popen(
            [str(FIREBASE_BIN), "emulators:start", "--only", "auth", "--project", self.project_id],
            cwd=self._dir, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if self._answers():
                return self
            time.sleep(0.2)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"the Firebase Auth emulator did not start: {tail}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.origin}/emulator/v1/projects/{self.project_id}/config",
                                        timeout=1) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self) -> str:
        try:
            return Path(self._dir, "emulator.log").read_text(errors="replace")[-800:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop it (the whole process group: firebase-tools runs the emulator in a child) and remove its folder."""
        if self._proc is not None and self._proc.poll() is None:
            import signal

            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=5)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the REST API the page's Firebase SDK uses ------------------------------------------------
    def _call(self, path: str, body: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if admin:
            headers["Authorization"] = "Bearer owner"
        req = urllib.request.Request(f"{self.origin}/identitytoolkit.googleapis.com/v1/{path}",
                                     data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            answer: dict[str, Any] = json.loads(r.read())
            return answer

    def sign_up(self, email: str, password: str) -> dict[str, Any]:
        """A new e-mail/password user: ``{"localId", "idToken", ...}``."""
        return self._call("accounts:signUp?key=emulator", {"email": email, "password": password,
                                                           "returnSecureToken": True})

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        """A fresh ID token of an existing user."""
        return self._call("accounts:signInWithPassword?key=emulator",
                          {"email": email, "password": password, "returnSecureToken": True})

    def delete_user(self, uid: str) -> None:
        """Delete the user (their tokens then belong to nobody)."""
        self._call(f"projects/{self.project_id}/accounts:delete", {"localId": uid}, admin=True)
