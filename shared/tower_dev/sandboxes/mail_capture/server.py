"""An SMTP server on 127.0.0.1 that keeps every message it accepts, for tests, the demo and ``tower serve``.

It speaks SMTP through aiosmtpd (EHLO, AUTH PLAIN / LOGIN when a user is set, MAIL, RCPT, DATA) and
delivers nothing: each accepted message is parsed (:mod:`email`, the default policy) and appended to
:attr:`MailCapture.messages` with its envelope and the user that authenticated. It offers no TLS, so
the product reaches it with ``TOWER_NOTIFY_SMTP_STARTTLS=false``; a wrong password is refused with 535
as a real server would.
"""

from __future__ import annotations

import logging
import socket
import threading
import warnings
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command line at INFO ("MAIL FROM:<…>", "RCPT TO:<…>"): recipients' addresses
# would reach the logs, which carry no personal data. Its warnings and errors still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class CapturedMail:
    """One accepted message: envelope sender and recipients, the parsed message, who authenticated."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    login: str

    def part(self, subtype: str) -> str:
        """The ``text/<subtype>`` body (``plain`` or ``html``), decoded."""
        body = self.message.get_body(preferencelist=(subtype,))
        return "" if body is None else str(body.get_content())


def free_port(host: str) -> int:
    """A port nothing listens on now (aiosmtpd's controller needs one before it starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class MailCapture:
    """The capture: ``host``, ``port``, ``messages``; ``stop()``.

    Args:
        username: When set, AUTH is required and only this user with ``password`` is accepted.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, username: str = "", password: str = "") -> None:
        self.host = host
        self.port = port or free_port(host)
        self.messages: list[CapturedMail] = []
        self._lock = threading.Lock()
        self._username, self._password = username, password
        auth: dict[str, Any] = {}
        if username:
            auth = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = _QuietController(_Handler(self), hostname=host, port=self.port, **auth)
        self._controller.start()

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(data, LoginPassword) and data.login.decode() == self._username and \
            data.password.decode() == self._password
        return AuthResult(success=ok, handled=False, auth_data=data)

    def _keep(self, mail: CapturedMail) -> None:
        with self._lock:
            self.messages.append(mail)

    def to(self, address: str) -> list[CapturedMail]:
        """The messages whose envelope names ``address``."""
        with self._lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def stop(self) -> None:
        """Stop serving."""
        self._controller.stop()


class _QuietController(Controller):
    """aiosmtpd warns on every connection that AUTH goes without TLS: what a loopback-only capture offers
    by design (the product's client then sends no STARTTLS), so the warning says nothing here."""

    def factory(self) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning)
            return super().factory()


class _Handler:
    def __init__(self, capture: MailCapture) -> None:
        self._capture = capture

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default)
        auth = getattr(session, "auth_data", None)
        login = auth.login.decode() if auth is not None and hasattr(auth, "login") else ""
        self._capture._keep(CapturedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos),
                                         parsed, login))
        return "250 Message accepted for delivery"
