"""The shopify_webhooks function refuses an oversized body before reading it (an attack issue 12 did not list).

Its signature covers the whole body, so nothing about a delivery can be checked before the body is in:
without a cap, anyone could make the function buffer 100 MB before it answers 401.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tower.config import Settings
from tower.runtime import Runtime, set_default_runtime

ROOT = Path(__file__).resolve().parents[3]
HEADERS = {"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": "AAAA",
           "X-Shopify-Shop-Domain": "a.myshopify.com", "X-Shopify-Webhook-Id": "w-1"}


class Counting(io.BytesIO):
    """A client body that counts what the server reads of it."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = super().readinto(buffer)
        self.taken += n
        return n


@pytest.fixture
def webhooks(tmp_path: Path) -> Iterator[FlaskClient]:
    import functions_framework

    runtime = Runtime(Settings(warehouse="duckdb:///:memory:", data_dir=tmp_path, webhook_max_body_bytes=65536))
    runtime.warehouse.init_schema()
    set_default_runtime(runtime)
    try:
        yield functions_framework.create_app(target="shopify_webhooks", source=str(ROOT / "main.py"),
                                             signature_type="http").test_client()
    finally:
        set_default_runtime(None)
        runtime.close()


def test_a_declared_length_over_the_cap_is_413_before_a_byte_is_read(webhooks: FlaskClient) -> None:
    body = Counting(b"x" * 200_000)
    r = webhooks.post("/", input_stream=body, content_type="application/json", headers=HEADERS)
    assert r.status_code == 413 and r.json["error"] == "request_entity_too_large"
    assert "TOWER_WEBHOOK_MAX_BODY_BYTES" in r.json["message"]
    assert body.taken == 0  # neither the handler nor functions-framework's drain read it


def test_a_chunked_body_is_read_only_until_it_passes_the_cap(webhooks: FlaskClient) -> None:
    body = Counting(b"x" * 1_000_000)
    r = webhooks.post("/", input_stream=body, content_type="application/json",
                      headers={**HEADERS, "Transfer-Encoding": "chunked"},
                      environ_overrides={"wsgi.input_terminated": True})
    # werkzeug's limit ends the stream at the cap: what was read is not the signed body, so it is refused
    # (401 when the cut body is taken for the whole one), and nothing past the cap is read
    assert r.status_code in (401, 413)
    assert body.taken <= 65536 + 64 * 1024


def test_a_body_under_the_cap_still_reaches_the_signature_check(webhooks: FlaskClient) -> None:
    r = webhooks.post("/", data=b'{"id": 1}', content_type="application/json", headers=HEADERS)
    assert r.status_code == 401 and r.json["error"] == "invalid_hmac"
