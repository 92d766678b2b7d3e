"""Fixtures of the browser tests: the demo served with the built page, and Debian's Chromium driven by Playwright.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it), never from Playwright's own
download; the page from ``web/dist`` (``make web``). Either missing is a failure that says how to get
it, not a skip. Screenshots go to ``test-artifacts/browser/`` at the repository root (gitignored).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_kit import ARTIFACTS, AXE, CHROMIUM, CHROMIUM_ARGS, CSP_WATCH, PAGE_DIR
from demo_site import DemoSite, start_demo_site
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright


def _require_setup() -> None:
    if not (PAGE_DIR / "index.html").is_file():
        pytest.fail(f"the page is not built ({PAGE_DIR}/index.html missing): run `make web`", pytrace=False)
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `make web` (npm ci installs it)", pytrace=False)
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` (as .ci/run does), "
                    "or set TOWER_CHROMIUM", pytrace=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo world, pipeline and API (serving the built page), with its sandboxes up."""
    _require_setup()
    s = start_demo_site(tmp_path_factory.mktemp("browser-demo"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    _require_setup()
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context (no cookies, no memory of a key) at a viewport width."""
    contexts: list[BrowserContext] = []

    def make(width: int = 1280, height: int = 900, axe: bool = True) -> Page:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="en-US",
                                  timezone_id="UTC", reduced_motion="reduce")
        ctx.add_init_script(CSP_WATCH)
        if axe:
            # an init script runs outside the page's CSP (an inline <script> would be refused)
            ctx.add_init_script(path=str(AXE))
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
        return page

    yield make
    for c in contexts:
        c.close()


@pytest.fixture(scope="session")
def shot() -> Callable[..., Path]:
    """Save a screenshot under test-artifacts/browser/<name>.png (the whole page unless told otherwise)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, Any]]:
    """Render times the tests measure (ms); written to test-artifacts/browser/timings.json and printed at the end."""
    measured: dict[str, Any] = {}
    yield measured
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(measured, indent=1))
    print("\nbrowser timings (ms):", json.dumps(measured))
