"""tower.fingerprints: the digests stored ids and cache versions are made of never change."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from tower.decisions.alerts import alert_id
from tower.decisions.scoring import recommendation_id
from tower.fingerprints import data_version, digest


def test_a_digest_is_the_sha256_hex_prefix() -> None:
    assert digest("acme|x") == hashlib.sha256(b"acme|x").hexdigest()[:16]
    assert digest("acme|x", 64) == hashlib.sha256(b"acme|x").hexdigest()
    assert digest("é") == hashlib.sha256("é".encode()).hexdigest()[:16]


def test_ids_already_stored_keep_their_values() -> None:
    # Recommendation and alert ids are document ids in every deployed store: frozen.
    assert recommendation_id("acme", "reduce", "p1", "meta", "TX", "2026-W47") == "rec_" + hashlib.sha256(
        b"acme|reduce|p1|meta|TX|2026-W47").hexdigest()[:16]
    assert alert_id("roas_drop", ("meta", "")) == "alert_" + hashlib.sha256(b"roas_drop|meta|").hexdigest()[:16]


def test_the_data_version_is_the_digest_of_each_parts_compact_json() -> None:
    parts = ({"spend": Decimal("18500.5"), "day": date(2026, 11, 22), "name": "Café"}, [1, 2])
    expected = hashlib.sha256('{"spend":"18500.5","day":"2026-11-22","name":"Café"}\n[1,2]'.encode()).hexdigest()[:16]
    assert data_version(*parts) == expected
    assert data_version({"a": 1, "b": 2}) != data_version({"b": 2, "a": 1})  # the order given is the content
