"""Scratch space of the bulk backfill: under the data dir, private, and gone after a crash.

A bulk block on disk is raw export JSONL: customer gids, full ZIP codes, landing pages carrying
click ids. It exists only because DuckDB's reader parses files, so it is kept on a short leash:

* it lives in ``<data dir>/scratch/shopify-bulk-*/`` (directories 0700, files 0600), never in a
  shared tmpfs such as ``/dev/shm``, where a killed process leaves it behind in RAM;
* the loader truncates each block as soon as it is parsed (the rows it needs are in Arrow then);
* a run holds an exclusive ``flock`` on its directory's lock file for as long as it works. The
  kernel drops the lock when the process ends, however it ends (``kill -9`` included), so the next
  run — or the next sync, which calls :func:`remove_stale` first — deletes every directory whose
  lock it can take, and never one still in use by another process or thread.

Creating a directory and sweeping stale ones both happen under one lock on the scratch root, so a
sweep never sees a directory that is being created but not locked yet.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tower.config import get_settings

PREFIX = "shopify-bulk-"
_LOCK = ".lock"
_DIR_MODE = 0o700
_FILE_MODE = 0o600


def _root_path(data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir is None:
        data_dir = get_settings().data_dir
    return Path(data_dir) / "scratch"


def scratch_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<data dir>/scratch``, created private to this user (None: the settings' data dir)."""
    root = _root_path(data_dir)
    root.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    # mkdir's mode is filtered by the umask and ignored for a directory that already existed.
    os.chmod(root, _DIR_MODE)
    return root


def private_file(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open path for reading and writing, truncated, mode 0600 (not the umask's default)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _FILE_MODE)
    os.fchmod(fd, _FILE_MODE)
    return os.fdopen(fd, "w+b")


@contextmanager
def _root_locked(root: Path) -> Iterator[None]:
    fd = os.open(root / _LOCK, os.O_RDWR | os.O_CREAT, _FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _sweep(root: Path) -> list[str]:
    """Delete the scratch entries no live run holds (the caller holds the root lock)."""
    removed = []
    for entry in root.iterdir():
        if not entry.name.startswith(PREFIX):
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
            continue
        try:
            fd = os.open(entry / _LOCK, os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:
            fd = None  # a run that died before it locked (it creates the lock under the root lock)
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live run's directory
        shutil.rmtree(entry, ignore_errors=True)
        if fd is not None:
            os.close(fd)
        removed.append(entry.name)
    return removed


def remove_stale(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Delete what crashed or killed runs left in the scratch root; return the names removed."""
    root = _root_path(data_dir)
    if not root.is_dir():
        return []
    with _root_locked(root):
        return _sweep(root)


@contextmanager
def scratch_dir(data_dir: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A private directory for one run's scratch files, removed on exit (and after a crash, by the
    next run). Stale directories of dead runs are swept first."""
    root = scratch_root(data_dir)
    with _root_locked(root):
        _sweep(root)
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))  # 0700
        lock = os.open(path / _LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, _FILE_MODE)
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock)
