"""The API serves the built page: app paths get index.html, files get themselves, the API keeps its JSON 404s."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tower.api.app import create_app
from tower.api.page import PAGE_DIR_CONFIG
from tower.config import Settings

INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script></head></html>'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A built page: index.html, one hashed script, an icon; a secret beside the folder."""
    d = tmp_path / "dist"
    (d / "assets").mkdir(parents=True)
    (d / "index.html").write_text(INDEX)
    (d / "assets" / "app-1a2b.js").write_text("console.log('page')")
    (d / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("not for the web")
    return d


def client_for(tmp_path: Path, page_dir: Path) -> FlaskClient:
    app = create_app(Settings(warehouse="duckdb:///:memory:", store=f"local:///{tmp_path}/store.sqlite"))
    app.config[PAGE_DIR_CONFIG] = str(page_dir)
    return app.test_client()


@pytest.fixture
def client(tmp_path: Path, dist: Path) -> FlaskClient:
    return client_for(tmp_path, dist)


@pytest.mark.parametrize("path", ["/", "/brands/acme-candles", "/help/figures", "/signin", "/index.html"])
def test_app_paths_are_the_page_without_a_key(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert r.get_data(as_text=True) == INDEX
    assert r.headers["Cache-Control"] == "no-cache"  # a new build is seen on the next load
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_hashed_assets_are_cached_for_a_year_and_other_files_revalidated(client: FlaskClient) -> None:
    r = client.get("/assets/app-1a2b.js")
    assert r.status_code == 200 and r.get_data(as_text=True) == "console.log('page')"
    assert r.mimetype in ("text/javascript", "application/javascript")
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    icon = client.get("/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.headers["Cache-Control"] == "no-cache"


def test_a_revalidated_file_is_304_when_unchanged(client: FlaskClient) -> None:
    first = client.get("/")
    etag = first.headers["ETag"]
    again = client.get("/brands/acme-candles", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_head_answers_without_a_body(client: FlaskClient) -> None:
    r = client.head("/brands/acme-candles")
    assert r.status_code == 200 and r.get_data() == b""
    assert int(r.headers["Content-Length"]) == len(INDEX)


@pytest.mark.parametrize("path", ["/assets/missing.js", "/robots.txt", "/assets/app-1a2b.js.map"])
def test_a_missing_file_is_a_json_404_not_the_page(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and r.is_json
    assert r.json["error"] == {"code": "not_found", "message": f"no file {path}"}


@pytest.mark.parametrize("path", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"])
def test_nothing_outside_the_folder_is_served(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert "not for the web" not in r.get_data(as_text=True)


def test_api_paths_keep_their_json_answers(client: FlaskClient) -> None:
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = client.get("/api")
    assert r.status_code == 404 and r.is_json
    r = client.get("/api/agency/overview")  # a real route still wants its key
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    assert client.get("/health").json == {"status": "ok"}


def test_only_get_and_head_reach_the_page(client: FlaskClient) -> None:
    r = client.post("/brands/acme-candles", json={})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_an_unbuilt_page_says_how_to_build_it(tmp_path: Path) -> None:
    r = client_for(tmp_path, tmp_path / "nowhere").get("/")
    assert r.status_code == 404
    assert r.json["error"]["code"] == "page_not_built"
    assert "make web" in r.json["error"]["message"]


def test_the_page_is_not_an_api_operation(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").json
    assert "/" not in doc["paths"]
    # the Shopify install routes are where Shopify sends merchants (shopify.app.toml), and the ad platforms'
    # OAuth callbacks where Meta, TikTok and Google send them back: not the page's
    assert all(p.startswith(("/api/", "/shopify/", "/oauth/")) or p == "/health" for p in doc["paths"])


def test_the_page_folder_is_the_tower_page_dir_setting(tmp_path: Path, dist: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # As the deployed api function gets it: an environment variable (main.tf's function_env).
    monkeypatch.setenv("TOWER_PAGE_DIR", str(dist))
    settings = Settings(warehouse="duckdb:///:memory:", store=f"local:///{tmp_path}/store.sqlite")
    assert settings.page_dir == str(dist)
    r = create_app(settings).test_client().get("/brands/acme-candles")
    assert r.status_code == 200 and r.get_data(as_text=True) == INDEX
