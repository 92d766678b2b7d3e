"""Start and stop the official Firestore and Pub/Sub emulators that ship with google-cloud-cli.

The contract suites (tests/contract) run the Firestore and Pub/Sub adapters against these emulators.
They come with the machine image (Debian packages ``google-cloud-cli-firestore-emulator`` and
``google-cloud-cli-pubsub-emulator``, plus Java 17), not from a package registry, so a missing piece
is reported loudly with what to install — never skipped silently.

``python tests/emulators.py --check`` prints what is present and exits 1 when something is missing
(``.ci/run`` can call it). The jars are started with ``java`` directly rather than through
``gcloud beta emulators ...``: it saves the gcloud start-up and lets us kill exactly the process we
started (its own process group).
"""

from __future__ import annotations

import atexit
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

FIRESTORE_DIR = "platform/cloud-firestore-emulator"
PUBSUB_DIR = "platform/pubsub-emulator"
READY_DEADLINE_SECONDS = 60.0
# C1-only JIT and the serial GC halve the emulators' start-up (~1.5 s instead of ~3 s on 2 cores);
# peak throughput does not matter for a test run.
JVM_FAST_START = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-Duser.language=en"]
INSTALL_HINT = (
    "install them with: apt-get install -y openjdk-17-jre-headless google-cloud-cli "
    "google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator "
    "(Google Cloud apt repository), or set TOWER_SKIP_EMULATORS=1 for a quick local run "
    "without the Firestore/Pub/Sub contract tests"
)


class EmulatorMissing(RuntimeError):
    """Java 17+ or an emulator component is not installed on this machine."""


def sdk_root() -> Path:
    """The google-cloud-cli installation root (the directory holding ``platform/``)."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise EmulatorMissing(f"gcloud (google-cloud-cli) is not on PATH; {INSTALL_HINT}")
    # /usr/bin/gcloud -> /usr/lib/google-cloud-sdk/bin/gcloud: the root is two levels up. This
    # avoids `gcloud info` (~1 s of Python start-up); fall back to it for unusual layouts.
    guess = Path(os.path.realpath(gcloud)).parent.parent
    if (guess / "platform").is_dir():
        return guess
    out = subprocess.run(
        [gcloud, "info", "--format=value(installation.sdk_root)"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    root = out.stdout.strip()
    if out.returncode != 0 or not root:
        raise EmulatorMissing(f"`gcloud info` failed: {out.stderr.strip()[:500]}")
    return Path(root)


def java_major_version() -> int:
    """The major version of ``java`` on PATH (raises EmulatorMissing when there is none)."""
    java = shutil.which("java")
    if java is None:
        raise EmulatorMissing(f"java is not on PATH (the emulators need Java 17+); {INSTALL_HINT}")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        raise EmulatorMissing(f"cannot read the Java version from: {(out.stderr or out.stdout)[:200]!r}")
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def firestore_jar() -> Path:
    jar = sdk_root() / FIRESTORE_DIR / "cloud-firestore-emulator.jar"
    if not jar.is_file():
        raise EmulatorMissing(f"Firestore emulator not found at {jar}; {INSTALL_HINT}")
    return jar


def pubsub_jar() -> Path:
    jars = sorted(glob.glob(str(sdk_root() / PUBSUB_DIR / "lib" / "cloud-pubsub-emulator-*.jar")))
    if not jars:
        raise EmulatorMissing(f"Pub/Sub emulator not found under {sdk_root() / PUBSUB_DIR}; {INSTALL_HINT}")
    return Path(jars[-1])


def check() -> list[str]:
    """Everything that is missing for the emulator contract tests (empty when all is present)."""
    problems = []
    try:
        version = java_major_version()
        if version < 17:
            problems.append(f"Java {version} found; the emulators need Java 17+")
    except EmulatorMissing as e:
        problems.append(str(e))
    for find in (firestore_jar, pubsub_jar):
        try:
            find()
        except EmulatorMissing as e:
            problems.append(str(e))
    return problems


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Emulator:
    """One running emulator process (in its own process group, so stop() ends all of it)."""

    name: str
    env_var: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    ready: bool = field(default=False)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the value of the emulator's environment variable."""
        return f"127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, deadline_seconds: float = READY_DEADLINE_SECONDS) -> Emulator:
        """Poll the emulator's HTTP root until it answers (both answer ``Ok``), up to a deadline."""
        if self.ready:
            return self
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} emulator exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"http://{self.host}/", timeout=1) as r:
                    if r.status == 200:
                        self.ready = True
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.05)  # readiness poll interval, bounded by the deadline above
        self.stop()
        raise RuntimeError(
            f"{self.name} emulator not ready after {deadline_seconds:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Terminate the emulator's process group (and kill it if it does not go in 10 s)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        try:
            self.log_path.unlink()
        except OSError:
            pass


def _spawn(name: str, env_var: str, argv_for_port: list[str], port: int) -> Emulator:
    java = shutil.which("java")
    if java is None:
        raise EmulatorMissing(f"java is not on PATH (the emulators need Java 17+); {INSTALL_HINT}")
    fd, log = tempfile.mkstemp(prefix=f"tower-{name}-emulator-", suffix=".log")
    with os.fdopen(fd, "wb") as log_file:
        # A log file rather than a pipe: nobody reads a pipe while tests run, and a full pipe would
        # block the emulator.
        proc = subprocess.Popen(
            [java, *JVM_FAST_START, *argv_for_port],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    emulator = Emulator(name=name, env_var=env_var, port=port, process=proc, log_path=Path(log))
    # Session teardown stops it; this also covers an interrupted run (stop() is idempotent).
    atexit.register(emulator.stop)
    return emulator


def start_firestore(project: str) -> Emulator:
    """Start the Firestore emulator on a free loopback port (returns at once; call wait_ready)."""
    port = free_port()
    argv = [
        "-cp", str(firestore_jar()), "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
        "--host", "127.0.0.1", "--port", str(port), "--project_id", project,
    ]
    return _spawn("firestore", "FIRESTORE_EMULATOR_HOST", argv, port)


def start_pubsub(project: str) -> Emulator:
    """Start the Pub/Sub emulator on a free loopback port (returns at once; call wait_ready)."""
    del project  # the Pub/Sub emulator serves any project id
    port = free_port()
    argv = ["-jar", str(pubsub_jar()), "--host=127.0.0.1", f"--port={port}"]
    return _spawn("pubsub", "PUBSUB_EMULATOR_HOST", argv, port)


def reset_firestore(emulator: Emulator, project: str, database: str = "(default)") -> None:
    """Delete every document of the emulator's database (the emulator's own reset endpoint)."""
    req = urllib.request.Request(
        f"http://{emulator.host}/emulator/v1/projects/{project}/databases/{database}/documents",
        method="DELETE",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def main(argv: list[str]) -> int:
    if argv[1:] != ["--check"]:
        print("usage: python tests/emulators.py --check", file=sys.stderr)
        return 2
    problems = check()
    if problems:
        for p in problems:
            print(f"emulators: {p}", file=sys.stderr)
        return 1
    print(f"emulators: Java {java_major_version()}, {firestore_jar()}, {pubsub_jar()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
