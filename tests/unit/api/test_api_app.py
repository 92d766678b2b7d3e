"""The app's edges: JSON errors for every failure, the Cloud Function entry point, the local host."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_seed import BRAND, bearer
from flask.testing import FlaskClient

from tower.api.app import serve
from tower.runtime import Runtime, set_default_runtime

ROOT = Path(__file__).resolve().parents[3]


def test_unknown_route_is_404_json(client: FlaskClient) -> None:
    r = client.get("/api/brands")
    assert r.status_code == 404 and r.is_json
    assert r.json == {"error": {"code": "not_found", "message": "no route GET /api/brands"}}


def test_wrong_method_is_405_json_with_allow(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.delete(f"/api/brands/{BRAND}/dashboard", headers=bearer(keys["agency"]))
    assert r.status_code == 405
    assert r.json["error"] == {"code": "method_not_allowed",
                               "message": f"DELETE is not allowed on /api/brands/{BRAND}/dashboard; allowed: GET"}
    assert "GET" in r.headers["Allow"]


def test_an_unexpected_failure_is_500_json_without_its_details(client: FlaskClient, keys: dict[str, str],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from tower.api import brands

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("connection string with a password in it")

    monkeypatch.setattr(brands, "list_alerts", broken)
    r = client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(keys["agency"]))
    assert r.status_code == 500
    assert r.json == {"error": {"code": "internal", "message": "internal error; it was logged"}}
    assert "password" not in r.get_data(as_text=True)
    assert any("unhandled API error" in rec.getMessage() for rec in caplog.records)


def test_an_api_log_line_carries_the_requests_trace_and_its_fields(
    client: FlaskClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    from tower.api import brands
    from tower.logs import TRACE_FIELD, configure_logging

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the store fell over")

    monkeypatch.setattr(brands, "list_alerts", broken)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "tower-prod")
    root, level = logging.getLogger(), logging.getLogger().level
    handler = configure_logging(logging.INFO, force=True)
    try:
        r = client.get(f"/api/brands/{BRAND}/alerts", headers={
            **bearer(keys["agency"]), "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"})
    finally:
        root.removeHandler(handler)  # type: ignore[arg-type]
        root.setLevel(level)
    assert r.status_code == 500
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [line] = [x for x in lines if x["message"] == "unhandled API error"]
    assert line[TRACE_FIELD] == "projects/tower-prod/traces/105445aa7843bc8bf206b12000100000"
    assert (line["severity"], line["method"], line["error"]) == ("ERROR", "GET", "RuntimeError")
    assert line["path"] == f"/api/brands/{BRAND}/alerts" and "the store fell over" in line["stack_trace"]


def test_responses_are_json_with_iso_dates(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.get(f"/api/brands/{BRAND}/recommendations", headers=bearer(keys["agency"]))
    assert r.mimetype == "application/json"
    created = r.json["recommendations"][0]["created_at"]
    assert created.startswith("2026-11-23T15:00:00")


# --- the Cloud Function ------------------------------------------------------------------------------


@pytest.fixture
def default(runtime: Runtime) -> Iterator[Runtime]:
    set_default_runtime(runtime)
    yield runtime
    set_default_runtime(None)


def test_the_api_function_serves_the_app(default: Runtime, keys: dict[str, str]) -> None:
    import functions_framework

    fn = functions_framework.create_app(target="api", source=str(ROOT / "main.py"),
                                        signature_type="http").test_client()
    assert fn.get("/health").json == {"status": "ok"}
    r = fn.get(f"/api/brands/{BRAND}/alerts", headers=bearer(keys["agency"]))
    assert r.status_code == 200 and len(r.json["alerts"]) == 3
    r = fn.post(f"/api/brands/{BRAND}/ask", headers=bearer(keys["agency"]), data="nope",
                content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"
    assert fn.get(f"/api/brands/{BRAND}/alerts").status_code == 401


def test_importing_the_function_loads_no_vendor_sdk() -> None:
    code = "import sys, json\nimport functions.web\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = ("anthropic", "google.cloud.bigquery", "google.ads", "facebook_business", "shopify", "duckdb")
    assert [m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy)] == []


# --- the local host ----------------------------------------------------------------------------------


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_serve_hosts_the_api_until_stopped(runtime: Runtime, keys: dict[str, str]) -> None:
    server = serve(runtime, "127.0.0.1", 0, pump_seconds=None)
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert _get(f"{server.url}/health") == (200, {"status": "ok"})
        status, body = _get(f"{server.url}/api/agency/overview", bearer(keys["agency"]))
        assert status == 200 and len(body["brands"]) == 4
        assert _get(f"{server.url}/api/agency/overview")[0] == 401
    finally:
        server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{server.url}/health", timeout=2)


def test_an_oversized_body_is_413_json(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.post(f"/api/brands/{BRAND}/ask", headers=bearer(keys["agency"]),
                    json={"question": "x" * 100_000})
    assert r.status_code == 413 and r.json["error"]["code"] == "request_entity_too_large"


def test_options_answers_the_allowed_methods_without_a_key(client: FlaskClient) -> None:
    r = client.options(f"/api/brands/{BRAND}/ask")
    assert r.status_code == 200 and set(r.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
