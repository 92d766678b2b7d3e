"""What the embedded adapters' files share: private folders and files, and a disk-full error that says so.

The local store, bus, task queue, secrets and the DuckDB warehouse hold a merchant's orders, hashed
customer ids and sealed platform tokens, so only the user running Control Tower may read them: every
folder created for them is 0700 and every file 0600. The folder is what keeps others out (a file an
engine creates later, such as DuckDB's write-ahead log, gets the process umask); tightening the files
also closes the ones an earlier version left readable. A folder that already exists keeps its mode:
it may be shared on purpose (a home directory, /tmp) and is not ours to change.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path

from tower.ports import DiskFull

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: str | Path) -> Path:
    """Create a folder and its missing parents, each with mode 0700; return it.

    Folders that already exist are left as they are.
    """
    path = Path(path)
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another process created it first (with this same code)
            continue
        os.chmod(d, PRIVATE_DIR)  # mkdir's mode passes through the umask: state it exactly
    return path


def tighten(path: str | Path) -> None:
    """Mode 0600 for a regular file of ours that group or others may read (symlinks are left alone)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(path, PRIVATE_FILE)


def private_file(path: str | Path) -> None:
    """Create an empty file with mode 0600 when absent (SQLite takes an empty file as a new database).

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so they follow. A file
    that exists is tightened to 0600.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        tighten(path)
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the umask could only have narrowed it, but say exactly what we mean
    finally:
        os.close(fd)


def is_disk_full(error: BaseException) -> bool:
    """Whether an engine's error means the disk is full.

    SQLite reports it as SQLITE_FULL ("database or disk is full": we never cap a database's size,
    so it is the disk), DuckDB as an I/O error carrying the system's ENOSPC text, Python as ENOSPC.
    """
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(error, sqlite3.Error) and code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
        return True
    text = str(error)
    return "No space left on device" in text or "database or disk is full" in text


def disk_full(path: str | Path, action: str = "written") -> DiskFull:
    """The error to raise instead of an engine's disk-full error: what the cause is, and where."""
    file = Path(path).absolute()
    return DiskFull(
        f"the disk is full: no space left on the disk holding {file.parent}, so {file.name} could not be "
        f"{action}; free some space on that disk and try again"
    )
