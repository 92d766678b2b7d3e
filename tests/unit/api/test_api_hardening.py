"""The API's hardening: deep JSON is bad input, bodies are capped before they are read (in the app,
the Cloud Function entry point and the local server), failed authentication is rate-limited per
client address, and every response carries the security headers and no server banner."""

from __future__ import annotations

import http.client
import io
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_seed import BRAND, NOW, bearer
from flask import Flask
from flask.testing import FlaskClient

from tower.api.app import create_app, serve
from tower.api.headers import API_CSP, PAGE_CSP, page_csp
from tower.api.limits import AuthFailureLimiter
from tower.api.openapi import operation
from tower.runtime import Runtime, set_default_runtime

ROOT = Path(__file__).resolve().parents[3]
ASK = f"/api/brands/{BRAND}/ask"
LIMIT = 65536  # TOWER_API_MAX_BODY_BYTES' default
DEEP = '{"question": ' + "[" * 30_000 + "]" * 30_000 + "}"  # 60 kB: under the body limit


class Flood(io.RawIOBase):
    """A 100 MB client body made up as it is read, counting what the server reads of it."""

    def __init__(self, size: int = 100 * 1024 * 1024) -> None:
        self.size = size
        self.pos = 0
        self.taken = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body's length by seeking to its end
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"x" * n
        self.pos += n
        self.taken += n
        return n


@pytest.fixture
def function_client(runtime: Runtime) -> Iterator[FlaskClient]:
    """The ``api`` Cloud Function, as functions-framework serves it, on the test's runtime."""
    import functions_framework

    set_default_runtime(runtime)
    try:
        yield functions_framework.create_app(target="api", source=str(ROOT / "main.py"),
                                             signature_type="http").test_client()
    finally:
        set_default_runtime(None)


# --- deeply nested JSON ----------------------------------------------------------------------------


def test_json_nested_30000_deep_is_400_naming_the_problem(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.post(ASK, headers=bearer(keys["agency"]), data=DEEP, content_type="application/json")
    assert r.status_code == 400
    assert r.json["error"]["code"] == "invalid_json"
    assert "too deeply" in r.json["error"]["message"]


def test_the_function_answers_deep_json_with_400_too(function_client: FlaskClient, keys: dict[str, str]) -> None:
    r = function_client.post(ASK, headers=bearer(keys["agency"]), data=DEEP, content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"


# --- the body limit --------------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_413_before_a_byte_is_read(client: FlaskClient) -> None:
    flood = Flood()
    # no key: the body is refused on its length before authentication is even asked for
    r = client.post(ASK, input_stream=flood, content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["code"] == "request_entity_too_large"
    assert str(LIMIT) in r.json["error"]["message"]
    assert flood.taken == 0


def test_a_chunked_body_is_read_only_until_it_passes_the_limit(client: FlaskClient) -> None:
    flood = Flood()
    r = client.post(ASK, input_stream=flood, headers={"Transfer-Encoding": "chunked"},
                    environ_overrides={"wsgi.input_terminated": True}, content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["code"] == "request_entity_too_large"
    assert LIMIT < flood.taken <= LIMIT + 64 * 1024


def test_the_function_reads_no_100_mb_body_before_answering(function_client: FlaskClient) -> None:
    flood = Flood()
    r = function_client.post(ASK, input_stream=flood, content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["code"] == "request_entity_too_large"
    # neither the entry point nor functions-framework's drain after the response read the body
    assert flood.taken == 0


def test_the_function_stops_reading_a_chunked_body_at_the_limit(function_client: FlaskClient) -> None:
    flood = Flood()
    r = function_client.post(ASK, input_stream=flood, headers={"Transfer-Encoding": "chunked"},
                             environ_overrides={"wsgi.input_terminated": True}, content_type="application/json")
    assert r.status_code == 413
    assert flood.taken <= LIMIT + 64 * 1024


def test_the_function_still_reads_a_body_under_the_limit(function_client: FlaskClient, keys: dict[str, str]) -> None:
    r = function_client.post(ASK, headers=bearer(keys["agency"]), json={"question": "x" * (LIMIT // 2)})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_body"  # read, then judged too long


def test_the_limit_is_a_setting(runtime: Runtime, keys: dict[str, str]) -> None:
    small = create_app(Runtime(runtime.settings.model_copy(update={"api_max_body_bytes": 2048})),
                       clock=lambda: NOW).test_client()
    r = small.post(ASK, headers=bearer(keys["agency"]), json={"question": "x" * 3000})
    assert r.status_code == 413 and "2048" in r.json["error"]["message"]


def test_the_local_server_refuses_a_large_body_without_reading_it(runtime: Runtime) -> None:
    server = serve(runtime, "127.0.0.1", 0, pump_seconds=None)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        # the headers promise 100 MB and no byte of it is sent: the answer cannot wait for the body
        conn.putrequest("POST", ASK)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(100 * 1024 * 1024))
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 413
        assert json.loads(resp.read())["error"]["code"] == "request_entity_too_large"
        conn.close()
    finally:
        server.stop()


# --- failed authentication -------------------------------------------------------------------------


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(runtime: Runtime, clock: Clock) -> FlaskClient:
    return create_app(runtime, clock=lambda: NOW, auth_failures=AuthFailureLimiter(10, clock=clock)).test_client()


def _from(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_ten_failures_a_minute_then_429_with_retry_after(limited: FlaskClient, keys: dict[str, str]) -> None:
    url = f"/api/brands/{BRAND}/alerts"
    for _ in range(10):
        assert limited.get(url, headers=bearer("tower_guess"), **_from("203.0.113.9")).status_code == 401
    r = limited.get(url, headers=bearer("tower_guess"), **_from("203.0.113.9"))
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "6"  # one more try every 60/10 seconds
    assert r.json["error"]["code"] == "too_many_failed_authentications"
    assert "try again in 6 s" in r.json["error"]["message"]
    # a right key from that address waits too: otherwise a guesser would learn which guess was right
    assert limited.get(url, headers=bearer(keys["agency"]), **_from("203.0.113.9")).status_code == 429
    # another address, and routes that need no key, are untouched
    assert limited.get(url, headers=bearer(keys["agency"]), **_from("198.51.100.7")).status_code == 200
    assert limited.get("/health", **_from("203.0.113.9")).status_code == 200


def test_the_bucket_refills_with_time(limited: FlaskClient, clock: Clock) -> None:
    url = f"/api/brands/{BRAND}/alerts"
    for _ in range(10):
        limited.get(url, **_from("203.0.113.9"))  # no Authorization header: a failure too
    assert limited.get(url, **_from("203.0.113.9")).status_code == 429
    clock.now += 6
    assert limited.get(url, **_from("203.0.113.9")).status_code == 401  # one try came back
    r = limited.get(url, **_from("203.0.113.9"))
    assert r.status_code == 429 and r.headers["Retry-After"] == "6"


def test_successful_requests_spend_nothing(limited: FlaskClient, keys: dict[str, str]) -> None:
    url = f"/api/brands/{BRAND}/alerts"
    for _ in range(30):
        assert limited.get(url, headers=bearer(keys["agency"]), **_from("203.0.113.9")).status_code == 200
    for _ in range(10):
        assert limited.get(url, headers=bearer("tower_guess"), **_from("203.0.113.9")).status_code == 401


def test_behind_a_proxy_the_caller_is_the_address_it_appended(runtime: Runtime, clock: Clock) -> None:
    settings = runtime.settings.model_copy(update={"api_trusted_proxies": 1})
    app = create_app(Runtime(settings), clock=lambda: NOW, auth_failures=AuthFailureLimiter(10, clock=clock))
    c = app.test_client()
    url = f"/api/brands/{BRAND}/alerts"
    for i in range(10):
        # what the caller writes into X-Forwarded-For itself changes nothing: the proxy's entry is last
        c.get(url, headers={"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.9"}, **_from("169.254.1.1"))
    assert c.get(url, headers={"X-Forwarded-For": "203.0.113.9"}, **_from("169.254.1.1")).status_code == 429
    assert c.get(url, headers={"X-Forwarded-For": "198.51.100.7"}, **_from("169.254.1.1")).status_code == 401


def test_the_default_limit_is_ten_a_minute(client: FlaskClient) -> None:
    url = f"/api/brands/{BRAND}/alerts"
    codes = [client.get(url, headers=bearer("tower_guess")).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]


# --- security headers and the banner ---------------------------------------------------------------


def test_api_responses_carry_the_security_headers(client: FlaskClient, keys: dict[str, str]) -> None:
    for r in (client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(keys["agency"])),
              client.get(f"/api/brands/{BRAND}/alerts"),  # an error response too
              client.get("/health")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Content-Security-Policy"] == API_CSP
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in r.headers  # plain http: HSTS would be ignored


def test_hsts_only_when_the_request_came_over_https(client: FlaskClient) -> None:
    assert "max-age=" in client.get("/health", headers={"X-Forwarded-Proto": "https"}).headers[
        "Strict-Transport-Security"]
    assert "max-age=" in client.get("/health", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/health", headers={"X-Forwarded-Proto": "http"}).headers


def test_a_page_gets_a_content_security_policy_with_frame_ancestors(runtime: Runtime) -> None:
    app: Flask = create_app(runtime, clock=lambda: NOW)

    @operation("A page.", response="Health", public=True, tag="meta")
    def page() -> tuple[str, int, dict[str, str]]:
        return "<!doctype html><title>Control Tower</title>", 200, {"Content-Type": "text/html; charset=utf-8"}

    app.add_url_rule("/page", "page", page)
    r = app.test_client().get("/page")
    assert r.headers["Content-Security-Policy"] == PAGE_CSP
    assert "frame-ancestors 'none'" in PAGE_CSP and "script-src 'self'" in PAGE_CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def _img_src(policy: str) -> list[str]:
    (directive,) = [d.strip() for d in policy.split(";") if d.strip().startswith("img-src ")]
    return directive.split()[1:]


def test_page_images_come_from_shopifys_cdn_and_the_configured_store_origin_only(runtime: Runtime) -> None:
    """Product pictures load from Shopify's CDN; in development from the sandbox store's origin
    (``shopify_api_origin``), exactly that origin, never a wildcard."""
    assert _img_src(PAGE_CSP) == ["'self'", "data:", "https://cdn.shopify.com"]
    sandboxed = runtime.settings.model_copy(update={"shopify_api_origin": "http://127.0.0.1:8765"})
    app: Flask = create_app(Runtime(sandboxed), clock=lambda: NOW)

    @operation("A page.", response="Health", public=True, tag="meta")
    def page() -> tuple[str, int, dict[str, str]]:
        return "<!doctype html><title>Control Tower</title>", 200, {"Content-Type": "text/html; charset=utf-8"}

    app.add_url_rule("/page", "page", page)
    policy = app.test_client().get("/page").headers["Content-Security-Policy"]
    assert _img_src(policy) == ["'self'", "data:", "https://cdn.shopify.com", "http://127.0.0.1:8765"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    # a path, a wildcard or another scheme is never widened into a source
    assert _img_src(page_csp(["http://127.0.0.1:8765/admin/api", "https://*.example.com", "ftp://x", "data:"])) == [
        "'self'", "data:", "https://cdn.shopify.com", "http://127.0.0.1:8765"]


def test_the_function_responses_carry_the_headers(function_client: FlaskClient) -> None:
    r = function_client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "Strict-Transport-Security" in r.headers


def test_the_local_server_sends_no_version_banner(runtime: Runtime) -> None:
    server = serve(runtime, "127.0.0.1", 0, pump_seconds=None)
    try:
        with urllib.request.urlopen(f"{server.url}/health", timeout=10) as resp:
            headers = resp.headers
        assert headers.get("Server") is None
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-store"
    finally:
        server.stop()
