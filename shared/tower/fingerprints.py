"""Fingerprints: short SHA-256 digests that name a thing by what it is.

* :func:`digest`: the hex prefix of a text's SHA-256. Stable ids are built from it (a recommendation's,
  an alert's, a local task's name, an API key's hash), so the same situation gets the same id on
  every run and a second run overwrites rather than duplicates.
* :func:`data_version`: the digest of some figures' compact JSON. Cached documents (recommendations,
  alerts, summaries, explanations) carry it; the same figures give the same version, so a cache is
  reused until what it was made from changes.

16 hex digits are 64 bits: a collision among the ids one brand accumulates is not a practical concern.
Changing either function changes every id and version already stored, so both are frozen.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DEFAULT_LENGTH = 16


def digest(text: str, length: int = DEFAULT_LENGTH) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``text`` (UTF-8); 64 gives the whole digest."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _compact(value: Any) -> str:
    # Keys in the order given (callers build their dicts deterministically), no spaces, UTF-8 kept,
    # dates and decimals as their text.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def data_version(*parts: Any) -> str:
    """A short content hash of ``parts``: the same figures give the same version, so caches can be reused."""
    return digest("\n".join(_compact(p) for p in parts))
