"""E-mail: one multipart message (plain text and HTML), sent by SMTP.

Each message carries ``List-Unsubscribe`` (the signed link, RFC 2369) and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058), so a mail client's own unsubscribe button works, and
``List-Id`` naming the agency. The SMTP password is the secret ``notify-smtp-password``, read when a
user name is set; the server, port and STARTTLS are settings.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tower import names
from tower.config import Settings
from tower.notify.deliveries import SendError
from tower.ports import Secrets

TIMEOUT_S = 30


def build_message(*, sender: str, sender_name: str, to: str, subject: str, html: str, text: str,
                  unsubscribe_url: str, list_id: str, now: datetime) -> EmailMessage:
    """The message: text and HTML alternatives, the unsubscribe headers, a Message-ID and Date.

    Nine parameters: one keyword per part of the message it builds.
    """
    msg = EmailMessage()
    local, _, domain = sender.partition("@")
    msg["From"] = str(Address(display_name=sender_name, username=local, domain=domain))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=domain or "localhost")
    msg["List-Id"] = f"<{list_id}>"
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send(settings: Settings, secrets: Secrets, msg: EmailMessage) -> None:
    """Send by SMTP.

    Raises:
        SendError: No server configured or the message refused (permanent), or the server could not
            be reached or answered a temporary failure (worth another attempt).
    """
    if not settings.notify_smtp_host:
        raise SendError("no SMTP server is configured (TOWER_NOTIFY_SMTP_HOST)", permanent=True)
    try:
        with smtplib.SMTP(settings.notify_smtp_host, settings.notify_smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.notify_smtp_starttls:
                smtp.starttls()
            if settings.notify_smtp_username:
                smtp.login(settings.notify_smtp_username, secrets.get(names.SECRET_SMTP_PASSWORD))
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as e:
        raise SendError(f"the SMTP server refused the credentials ({e.smtp_code})", permanent=True) from None
    except smtplib.SMTPRecipientsRefused:
        raise SendError("the SMTP server refused the recipient", permanent=True) from None
    except smtplib.SMTPResponseException as e:
        raise SendError(f"the SMTP server answered {e.smtp_code}", permanent=500 <= e.smtp_code < 600) from None
    except (TimeoutError, smtplib.SMTPException, OSError) as e:
        raise SendError(f"the SMTP server could not be reached ({type(e).__name__})") from None
