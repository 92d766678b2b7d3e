"""The security headers on every response of the API, and the local server's handler without a banner.

* ``X-Content-Type-Options: nosniff``: a browser takes a JSON body as JSON, never as a script or a page.
* ``Cache-Control: no-store`` on the API's data (a shared computer or a proxy keeps no copy of a
  brand's figures); a view that sets its own Cache-Control keeps it.
* ``Content-Security-Policy``: the page loads only its own scripts, styles and data, and images
  from itself and from where product pictures live (Shopify's CDN, and the configured Shopify API
  origin when one is set: the sandbox store serves the development pictures), and may be framed by nobody (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for older
  browsers); a JSON response may load nothing at all.
* ``Referrer-Policy: no-referrer``: the page's URLs (brand ids) do not leak to other sites.
* ``Strict-Transport-Security`` only when the request came over https (directly, or as the
  ``X-Forwarded-Proto`` of the front end): browsers ignore it over http, and the local server
  is plain http.

Nothing says which server or version answers: the local server's handler sends no ``Server``
banner (werkzeug's is ``Werkzeug/x.y Python/z``, a list of what to try).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Request, Response

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.serving import WSGIRequestHandler

SHOPIFY_CDN = "https://cdn.shopify.com"
"""Where Shopify serves product media (``featuredMedia``'s preview image URLs)."""


def image_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, None for anything else (a CSP source must be exact)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or "*" in parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def page_csp(image_origins: Iterable[str] = (), connect_origins: Iterable[str] = (), *,
             script_origins: Iterable[str] = (), frame_ancestors: str = "'none'") -> str:
    """The page's policy; images also from Shopify's CDN and from each of ``image_origins`` that is an
    exact http(s) origin (nothing wider: no scheme or host wildcard); calls also to each of
    ``connect_origins`` (Firebase Auth's, where the page signs people in by e-mail); scripts also from
    ``script_origins`` and framed by ``frame_ancestors`` (the embedded app's, :mod:`tower.api.embedded`)."""
    extra = [o for o in (image_origin(u) for u in image_origins) if o and o != SHOPIFY_CDN]
    img = " ".join(["'self'", "data:", SHOPIFY_CDN, *dict.fromkeys(extra)])
    connect = " ".join(["'self'", *dict.fromkeys(connect_origins)])
    script = " ".join(["'self'", *dict.fromkeys(script_origins)])
    return (
        f"default-src 'self'; script-src {script}; style-src 'self'; img-src {img}; connect-src {connect}; "
        f"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )


PAGE_CSP = page_csp()
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def is_https(request: Request) -> bool:
    """Whether the caller reached us over https: this socket's scheme, or the front end's X-Forwarded-Proto."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or forwarded == "https"


def add_security_headers(response: Response, request: Request, page_policy: str = PAGE_CSP) -> Response:
    """Set the security headers a response lacks (see the module docstring); ``page_policy`` is an HTML
    page's Content-Security-Policy (:func:`page_csp`)."""
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "no-referrer")
    if "frame-ancestors 'none'" in h.get("Content-Security-Policy", "frame-ancestors 'none'"):
        # an embedded page's own frame-ancestors lets the shop's admin frame it: DENY would not
        h.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        h.setdefault("Content-Security-Policy", page_policy)
    else:
        h.setdefault("Content-Security-Policy", API_CSP)
        h.setdefault("Cache-Control", "no-store")
    if is_https(request):
        h.setdefault("Strict-Transport-Security", HSTS)
    return response


def quiet_request_handler() -> type[WSGIRequestHandler]:
    """werkzeug's request handler without the ``Server: Werkzeug/x.y Python/z`` banner.

    Built on call: only the local server needs werkzeug's server module, and a function's cold
    start should not import it.
    """
    from werkzeug.serving import WSGIRequestHandler

    class QuietRequestHandler(WSGIRequestHandler):
        def send_response(self, code: int, message: str | None = None) -> None:
            # http.server's send_response adds Server and Date: send the status line and Date only.
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

    return QuietRequestHandler
