"""The merchant page: the static files ``web/`` builds (``web/dist``), served by the API on its own origin.

The page is a single-page app: ``/``, ``/brands/<id>``, ``/help/…`` and ``/signin`` are all
``index.html``, which routes in the browser; its scripts, styles and icons are files beside it. Same
origin means no CORS and one Content-Security-Policy (``'self'``, :mod:`tower.api.headers`).

The page's paths are deliberately not routes of the app. Every route is an API operation, listed in
the OpenAPI document and checked against it (a route it does not describe fails the tests); the page
is not an API operation and should not be one. So the blueprint answers, before any view runs, the
GET and HEAD requests the API does not route and that are not under ``/api/`` (an unknown API path
stays a JSON 404). Those requests need no key: the authentication hook lets unrouted paths through,
and the page asks for the key itself.

Caching: the files under ``assets/`` carry a content hash in their names, so browsers and a CDN may
keep them for a year; ``index.html`` and the other files are revalidated on every load (ETag), so a
new build is seen at once.

A folder of the build with its own ``index.html`` answers with it: ``/docs`` is the API's interactive
documentation (Swagger UI, copied into ``web/dist/docs`` by the web build from the swagger-ui-dist
package, so no CDN), which reads ``/api/openapi.json``.

The folder is ``app.config["TOWER_PAGE_DIR"]``, which :func:`tower.api.app.create_app` sets from the
``TOWER_PAGE_DIR`` setting (Terraform sets it for the deployed api function). Left empty, it is the
``web/dist`` beside the code: in a checkout ``shared/tower/api/page.py`` is three folders below the
repository root, in the functions' source zip (infra/package_source.py) ``tower/api/page.py`` is two
below the zip's root, which holds ``web/dist``. When the page is not built, ``/`` answers a JSON 404
saying how to build it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

from tower.api.embedded import embedded_page, embedded_shop
from tower.api.errors import ApiError
from tower.api.request import current_runtime
from tower.api.session import identity_toolkit

PAGE_DIR_CONFIG = "TOWER_PAGE_DIR"
INDEX = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

bp = Blueprint("page", __name__)


def default_page_dir() -> Path:
    """``web/dist`` beside the code: of the checkout, else of the source zip's root; the checkout's if neither is built.

    The checkout's root is three folders above this file (``shared/tower/api/page.py``), the zip's two
    (``tower/api/page.py``, infra/package_source.py).
    """
    here = Path(__file__).resolve()
    candidates = [here.parents[3] / "web" / "dist", here.parents[2] / "web" / "dist"]
    return next((c for c in candidates if (c / INDEX).is_file()), candidates[0])


def page_dir() -> Path:
    """The folder of the built page for the current app."""
    configured = current_app.config.get(PAGE_DIR_CONFIG)
    return Path(configured) if configured else default_page_dir()


def _file(folder: Path, relative: str, cache_control: str) -> Response:
    response = send_from_directory(folder, relative, conditional=True, max_age=None)
    response.headers["Cache-Control"] = cache_control
    return response


def page_response(path: str) -> Response:
    """The file for a page path: a built file when one matches, else ``index.html`` for an app path.

    Raises:
        ApiError: 404 ``page_not_built`` when the folder holds no ``index.html``; 404 ``not_found``
            for a file path (one with an extension) that is not there, so a missing script is not
            answered with HTML.
    """
    folder = page_dir()
    if not (folder / INDEX).is_file():
        raise ApiError(404, "page_not_built",
                       f"the page is not built ({folder} has no {INDEX}): run `make web` "
                       "(cd web && npm ci && npm run build)")
    relative = path.lstrip("/")
    if relative and relative != INDEX:
        joined = safe_join(str(folder), relative)
        if joined is not None and Path(joined).is_file():
            return _file(folder, relative, IMMUTABLE if relative.startswith("assets/") else REVALIDATE)
        if joined is not None and (Path(joined) / INDEX).is_file():
            # a built folder with its own page, e.g. the API docs at /docs (web/scripts/copy-docs.mjs)
            return _file(folder, f"{relative.rstrip('/')}/{INDEX}", REVALIDATE)
        if "." in relative.rsplit("/", 1)[-1]:
            raise ApiError(404, "not_found", f"no file {path}")
    settings = current_runtime().settings
    shop = embedded_shop(request.args)
    if shop is not None and settings.shopify_client_id.strip():
        # opened in the Shopify admin's frame: framed by it, with App Bridge (tower.api.embedded)
        return embedded_page(folder / INDEX, settings, shop, identity_toolkit(settings)[1])
    return _file(folder, INDEX, REVALIDATE)


@bp.before_app_request
def _serve_page() -> Response | None:
    """Answer an unrouted GET or HEAD outside ``/api/`` with the page; anything else goes on as before."""
    if not isinstance(request.routing_exception, NotFound) or request.method not in ("GET", "HEAD"):
        return None
    if request.path == "/api" or request.path.startswith("/api/"):
        return None
    return page_response(request.path)
