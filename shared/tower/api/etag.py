"""Weak ETags on the API's GET answers, and ``304 Not Modified`` when the caller already has the body.

The page refreshes by polling (no socket server in a serverless shape): it sends the ETag it last
got as ``If-None-Match`` and receives a bodyless 304 while nothing changed. The tag is a hash of the
JSON body, so it changes exactly when what the caller would read changes; it is weak because the
same figures could be serialized differently by another server version. Answers that already carry
an ETag (the page's built files) keep theirs.
"""

from __future__ import annotations

import hashlib

from flask import Request, Response


def add_etag(response: Response, request: Request) -> Response:
    """Tag a 200 JSON answer to a GET or HEAD; answer 304 with no body when ``If-None-Match`` matches it."""
    if (request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough
            or "ETag" in response.headers or response.mimetype != "application/json"):
        return response
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32], weak=True)
    # werkzeug compares If-None-Match weakly and turns the answer into a bodyless 304 on a match
    response.make_conditional(request)
    return response
