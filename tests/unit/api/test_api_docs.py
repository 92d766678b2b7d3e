"""The API's interactive docs at /docs: Swagger UI from the web build (no CDN), served like the page's files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tower.api.app import create_app
from tower.api.page import PAGE_DIR_CONFIG
from tower.config import Settings

WEB = Path(__file__).resolve().parents[3] / "web"
DOCS_INDEX = '<!doctype html><html><body><main id="swagger-ui"></main><script src="/docs/docs.js"></script></body></html>'


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    """A built page with its docs folder, as `npm run build` leaves web/dist."""
    dist = tmp_path / "dist"
    (dist / "docs").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><html><body>the page</body></html>")
    (dist / "docs" / "index.html").write_text(DOCS_INDEX)
    (dist / "docs" / "docs.js").write_text('window.ui = SwaggerUIBundle({url: "/api/openapi.json"});')
    app = create_app(Settings(warehouse="duckdb:///:memory:", store=f"local:///{tmp_path}/store.sqlite"))
    app.config[PAGE_DIR_CONFIG] = str(dist)
    return app.test_client()


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/docs/index.html"])
def test_docs_are_their_own_page_without_a_key(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.data.decode() == DOCS_INDEX
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]  # the initializer is a file, not inline


def test_docs_read_the_generated_document(client: FlaskClient) -> None:
    assert b"/api/openapi.json" in client.get("/docs/docs.js").data
    document: Any = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"


def test_the_web_build_brings_swagger_ui_from_its_lock() -> None:
    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())
    assert package["devDependencies"]["swagger-ui-dist"] == lock["packages"]["node_modules/swagger-ui-dist"]["version"]
    assert "node scripts/copy-docs.mjs" in package["scripts"]["build"]
    assert package["scarfSettings"] == {"enabled": False}  # its dependency's install-time analytics stay off
