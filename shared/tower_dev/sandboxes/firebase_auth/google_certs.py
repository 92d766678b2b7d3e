"""Google's Firebase token certificates, played on loopback: a locally generated RSA key, its
self-signed certificate, and the ``{kid: PEM}`` endpoint with a ``max-age`` as Google serves it.

The production path of :mod:`tower.identity.firebase` is tested (and probed by R3) against this: the
API fetches these certificates from ``TOWER_FIREBASE_CERTS_URL`` and verifies RS256 tokens signed by
:func:`signing_key`'s key, and refuses those signed by any other.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


def signing_key() -> tuple[Any, str]:
    """A new RSA key and its self-signed certificate (PEM), as Google's securetoken signer has."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")])
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


class CertServer:
    """Serves ``certs`` at ``url`` with ``Cache-Control: max-age=3600``; ``hits`` counts the fetches."""

    def __init__(self, certs: dict[str, str]) -> None:
        self.hits = 0
        body = json.dumps(certs).encode()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=3600, must-revalidate, no-transform")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/certs"
        threading.Thread(target=self._server.serve_forever, name="google-certs", daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
