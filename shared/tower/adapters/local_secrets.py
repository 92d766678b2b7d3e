"""The embedded secret store: versioned secrets in SQLite, encrypted at rest with AES-256-GCM.

The key lives beside the data in ``secrets.key``, created with mode 0600 (an existing key file that
group or others can read is refused, like ssh does). A key is only created while no secret is stored:
a new key could not open the old ciphertext, so a missing key file beside stored secrets is refused
with the way out (restore the file, or remove the directory to start over). Each value is sealed with a fresh nonce and
bound to its secret id and version as associated data, so a ciphertext copied onto another secret
or version does not decrypt. Versions follow Secret Manager: ``put`` adds version N+1 (enabled),
``rotate`` adds one and disables the older ones, ``latest`` is the newest version and fails when
that version is disabled.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any

from tower.adapters.sqlite_file import SqliteBacked
from tower.ports import NotFound, PortError
from tower.redact import remember

KEY_FILE = "secrets.key"
DB_FILE = "secrets.sqlite"
_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # Secret Manager's rule for secret ids
_NONCE_BYTES = 12


def check_secret_id(secret_id: str) -> str:
    if not isinstance(secret_id, str) or not _SECRET_ID.match(secret_id):
        raise PortError(f"bad secret id {secret_id!r}: 1-255 of [A-Za-z0-9_-]")
    return secret_id


def check_version(version: str) -> str:
    if version != "latest" and not (isinstance(version, str) and version.isdigit() and int(version) > 0):
        raise PortError(f"bad secret version {version!r}: 'latest' or a positive number")
    return version


class SecretsKeyError(PortError):
    """The key file of the local secret store is missing, unreadable, corrupt or too open.

    The message is one line naming the file, what is wrong and what to do, so the CLI can print it
    as it is (exit 2) instead of a traceback, and an entry point can log it as one line
    (:func:`log_unavailable`) and answer 503 ``secrets_unavailable``.
    """


SECRETS_UNAVAILABLE = "secrets_unavailable"
"""The error code the API and the function entry points answer with for a :class:`SecretsKeyError`."""

UNAVAILABLE_MESSAGE = (
    "the secret store is unavailable: its key file is missing, unreadable, corrupt or too open; "
    "the server log names the file and the way to fix it"
)
"""What a caller is told; the key file's path and the fix are for the operator, in the log."""


def log_unavailable(error: SecretsKeyError, logger: logging.Logger, **context: Any) -> None:
    """Log ``error`` as one line at ERROR, without a traceback: ``error_code`` is ``secrets_unavailable``.

    The message already names the key file, what is wrong and what to do; the stack of whichever
    handler first opened the store would add twenty frames and nothing an operator can act on.
    """
    logger.error(str(error), extra={"error_code": SECRETS_UNAVAILABLE, **context})


def _stored_versions(db: Path) -> int:
    """How many sealed values the store's database holds (0 when it has none, or no such table yet)."""
    if not db.exists():
        return 0
    # Read-only: the check must not create the database nor its tables.
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'versions'").fetchone():
            return 0
        return int(con.execute("SELECT count(*) FROM versions").fetchone()[0])
    finally:
        con.close()


def _create_key(path: Path) -> None:
    """Write a fresh 32-byte key to path with mode 0600, atomically (a concurrent creator's key wins)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.fchmod(fd, 0o600)  # explicit: the mode must not depend on the umask
        os.write(fd, base64.urlsafe_b64encode(os.urandom(32)) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic: the first process to get here wins, the others read its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _load_or_create_key(path: Path, db: Path) -> bytes:
    """The 32-byte key in path, created with mode 0600 when absent and db holds no secret.

    Raises:
        SecretsKeyError: the key is missing while db holds secrets, or it is unreadable, readable by
            group or others, or not a base64 32-byte key.
    """
    if not path.exists():
        stored = _stored_versions(db)
        if stored:
            # A new key would be written silently and every stored secret would stop decrypting.
            raise SecretsKeyError(
                f"the secrets key {path} is missing but {db} holds {stored} encrypted secret "
                f"version(s) sealed with it; no new key was created. Restore {path.name} from a backup "
                f"into {path.parent} (mode 600), or remove {path.parent} to start over without the "
                "stored secrets (then reconnect the platforms)"
            )
        _create_key(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretsKeyError(
                f"the secrets key {path} has mode {mode:o}: it must not be readable by group or others "
                f"(chmod 600 {path})"
            )
        raw = path.read_bytes()
    except OSError as e:
        raise SecretsKeyError(f"the secrets key {path} cannot be read: {e.strerror or e}") from e
    try:
        key = base64.b64decode(raw.strip(), altchars=b"-_", validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SecretsKeyError(
            f"the secrets key {path} is corrupt (not a base64 32-byte key); restore it from a backup, "
            f"or remove {path.parent} to start over without the stored secrets"
        )
    return key


class LocalSecrets(SqliteBacked):
    """Secrets port on a directory: ``secrets.sqlite`` (ciphertext) and ``secrets.key`` (0600)."""

    def __init__(self, directory: str | Path, *, busy_timeout_ms: int = 30_000) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._aead = AESGCM(_load_or_create_key(self.directory / KEY_FILE, self.directory / DB_FILE))
        self._open_sqlite(
            self.directory / DB_FILE, busy_timeout_ms,
            "CREATE TABLE IF NOT EXISTS secrets (secret_id TEXT PRIMARY KEY, created_at REAL NOT NULL);"
            "CREATE TABLE IF NOT EXISTS versions ("
            " secret_id TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL,"
            " ciphertext BLOB NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (secret_id, version));",
        )

    @staticmethod
    def _aad(secret_id: str, version: int) -> bytes:
        return f"{secret_id}/{version}".encode()

    def _add(self, con: sqlite3.Connection, secret_id: str, value: str) -> int:
        if not isinstance(value, str):
            raise PortError(f"secret value must be a str, got {type(value).__name__}")
        remember(value)  # masked in logs and errors from now on
        now = time.time()
        con.execute("INSERT OR IGNORE INTO secrets (secret_id, created_at) VALUES (?, ?)", (secret_id, now))
        version = int(con.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM versions WHERE secret_id = ?", (secret_id,)
        ).fetchone()[0])
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, value.encode("utf-8"), self._aad(secret_id, version))
        con.execute(
            "INSERT INTO versions (secret_id, version, state, ciphertext, created_at) VALUES (?,?,?,?,?)",
            (secret_id, version, "ENABLED", sealed, now),
        )
        return version

    def put(self, secret_id: str, value: str) -> str:
        """Create the secret if needed and add an enabled version holding value; return its number."""
        check_secret_id(secret_id)
        with self._immediate() as con:
            return str(self._add(con, secret_id, value))

    def rotate(self, secret_id: str, value: str) -> str:
        """Add a version with value and disable every older one, atomically."""
        check_secret_id(secret_id)
        with self._immediate() as con:
            version = self._add(con, secret_id, value)
            con.execute(
                "UPDATE versions SET state = 'DISABLED' WHERE secret_id = ? AND version < ? AND state = 'ENABLED'",
                (secret_id, version),
            )
        return str(version)

    def get(self, secret_id: str, version: str = "latest") -> str:
        """The value of a version ('latest' = the newest); NotFound when absent or disabled."""
        from cryptography.exceptions import InvalidTag

        check_secret_id(secret_id)
        check_version(version)
        with self._lock:
            if version == "latest":
                row = self._con.execute(
                    "SELECT version, state, ciphertext FROM versions WHERE secret_id = ? "
                    "ORDER BY version DESC LIMIT 1",
                    (secret_id,),
                ).fetchone()
            else:
                row = self._con.execute(
                    "SELECT version, state, ciphertext FROM versions WHERE secret_id = ? AND version = ?",
                    (secret_id, int(version)),
                ).fetchone()
        if row is None:
            raise NotFound(f"secret {secret_id!r} version {version} does not exist")
        number, state, sealed = row
        if state != "ENABLED":
            raise NotFound(f"secret {secret_id!r} version {number} is {state.lower()}")
        try:
            plain = self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], self._aad(secret_id, number))
        except InvalidTag as e:
            raise PortError(f"secret {secret_id!r} version {number} does not decrypt with this key") from e
        return remember(plain.decode("utf-8"))  # masked in logs and errors from now on

    def versions(self, secret_id: str) -> list[tuple[str, str]]:
        """(version, state) of every version, newest first (as Secret Manager lists them)."""
        check_secret_id(secret_id)
        with self._lock:
            rows = self._con.execute(
                "SELECT version, state FROM versions WHERE secret_id = ? ORDER BY version DESC", (secret_id,)
            ).fetchall()
        return [(str(v), s) for v, s in rows]

    def delete(self, secret_id: str) -> None:
        """Delete the secret and every version (deleting a missing secret is not an error)."""
        check_secret_id(secret_id)
        with self._immediate() as con:
            con.execute("DELETE FROM versions WHERE secret_id = ?", (secret_id,))
            con.execute("DELETE FROM secrets WHERE secret_id = ?", (secret_id,))

    def exists(self, secret_id: str) -> bool:
        check_secret_id(secret_id)
        with self._lock:
            return self._con.execute("SELECT 1 FROM secrets WHERE secret_id = ?", (secret_id,)).fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._con.close()
