"""Who is told what: an agency's recipients, their alert control, and the agency's branding.

A recipient is ``notify_recipients/{recipient_id}`` in the document store::

    {recipient_id, agency_id, channel: "email" | "slack", address, timezone,
     quiet_hours: {"start": "22:00", "end": "07:00"} | None, daily_budget, min_severity,
     alerts: bool, digest: bool, unsubscribed: ["alerts", "digest"],
     mutes: [{brand_id, alert_type, until}], created_at, updated_at}

``address`` is the e-mail address, or the Slack channel a bot token posts to (``#growth``). A Slack
recipient reached by incoming webhook has its webhook URL in the secret store (the URL is the
credential), under :func:`webhook_secret_id`; the document only says ``slack_via: "webhook"``.

A mute is ``until: None``; a snooze is a mute with an end. ``brand_id`` and ``alert_type`` may be
``"*"`` (every brand, every type). The agency's white-label branding is the ``branding`` map of its
``agencies/{id}`` document (:func:`set_branding`).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tower.agencies import BadAgency, agency_path, get_agency
from tower.decisions.alerts import SEVERITY_ORDER
from tower.names import integration_secret_id
from tower.ports import DocQuery, DocumentStore, Secrets, Where

COLLECTION = "notify_recipients"
CHANNELS = ("email", "slack")
SLACK_VIA = ("bot", "webhook")
SEVERITIES = tuple(sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__))  # critical .. low
KINDS = ("alerts", "digest")
ANY = "*"
DEFAULT_BRANDING = {"display_name": "", "logo_url": "", "primary_color": "#1f3a5f", "accent_color": "#e07a1f",
                    "from_address": ""}

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_SLACK_CHANNEL = re.compile(r"^[#@]?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class BadRecipient(ValueError):
    """A recipient, mute or branding request that cannot be carried out (the message names the problem)."""


def recipient_path(recipient_id: str) -> str:
    """``notify_recipients/{recipient_id}``."""
    return f"{COLLECTION}/{recipient_id}"


def webhook_secret_id(agency_id: str, recipient_id: str) -> str:
    """The secret holding a Slack recipient's incoming-webhook URL (an integration token of the agency)."""
    return integration_secret_id(agency_id, "slack", recipient_id)


def check_id(recipient_id: str) -> str:
    """The id, or BadRecipient naming what is wrong with it."""
    if not _ID.match(recipient_id or ""):
        raise BadRecipient(f"recipient id {recipient_id!r}: use 1-63 lower-case letters, digits, '-' or '_'")
    return recipient_id


def check_email(address: str) -> str:
    """The address, or BadRecipient (one address, no display name)."""
    if not _EMAIL.match(address or "") or len(address) > 254:
        raise BadRecipient(f"{address!r} is not an e-mail address")
    return address


def check_timezone(name: str) -> str:
    """An IANA time zone name, or BadRecipient."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRecipient(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin") from None
    return name


def parse_clock(text: str) -> time:
    """``HH:MM`` (24-hour), or BadRecipient."""
    m = _CLOCK.match(text or "")
    if not m:
        raise BadRecipient(f"{text!r} is not a time of day: use HH:MM, 24-hour (22:00)")
    return time(int(m.group(1)), int(m.group(2)))


def quiet_hours(text: str | None) -> dict[str, str] | None:
    """``"22:00-07:00"`` as ``{"start", "end"}`` (None or ``""``: no quiet hours), or BadRecipient."""
    if not text:
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise BadRecipient(f"quiet hours {text!r}: use START-END, such as 22:00-07:00")
    if parse_clock(start) == parse_clock(end):
        raise BadRecipient("quiet hours must not start and end at the same minute")
    return {"start": start, "end": end}


def add_recipient(store: DocumentStore, secrets: Secrets, *, agency_id: str, recipient_id: str, channel: str,
                  address: str, timezone: str, now: datetime, quiet: str | None = None, daily_budget: int = 10,
                  min_severity: str = "low", alerts: bool = True, digest: bool = True,
                  webhook_url: str = "") -> tuple[dict[str, Any], bool]:
    """Add a recipient to an agency, or change it (idempotent); the document and whether it was created.

    Fourteen parameters: the two stores, then one keyword per field of the recipient it writes.

    Its mutes and unsubscriptions are kept when it is changed (a person who unsubscribed stays so).

    Raises:
        BadRecipient: Unknown agency, bad id, channel, address, time zone, quiet hours, budget or severity.
    """
    check_id(recipient_id)
    try:
        get_agency(store, agency_id)
    except BadAgency as e:
        raise BadRecipient(str(e)) from None
    if channel not in CHANNELS:
        raise BadRecipient(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    via = ""
    if channel == "email":
        check_email(address)
        if webhook_url:
            raise BadRecipient("a webhook URL is for Slack recipients only")
    else:
        via = "webhook" if webhook_url else "bot"
        if via == "bot" and not _SLACK_CHANNEL.match(address or ""):
            raise BadRecipient(f"Slack channel {address!r}: name the channel the bot posts to (#growth)")
        if webhook_url and not webhook_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise BadRecipient("the Slack webhook URL must be an https:// URL")
    if min_severity not in SEVERITIES:
        raise BadRecipient(f"minimum severity must be one of {', '.join(SEVERITIES)}, not {min_severity!r}")
    if not 0 <= daily_budget <= 1000:
        raise BadRecipient(f"the daily alert budget must be 0 to 1000, not {daily_budget}")
    existing = store.get(recipient_path(recipient_id))
    if existing is not None and existing.get("agency_id") != agency_id:
        raise BadRecipient(f"recipient {recipient_id!r} belongs to agency {existing.get('agency_id')!r}")
    doc = {
        "recipient_id": recipient_id, "agency_id": agency_id, "channel": channel, "address": address,
        "slack_via": via, "timezone": check_timezone(timezone), "quiet_hours": quiet_hours(quiet),
        "daily_budget": int(daily_budget), "min_severity": min_severity, "alerts": bool(alerts),
        "digest": bool(digest), "unsubscribed": list((existing or {}).get("unsubscribed") or []),
        "mutes": list((existing or {}).get("mutes") or []),
        "created_at": (existing or {}).get("created_at") or now.isoformat(), "updated_at": now.isoformat(),
    }
    if webhook_url:
        secrets.put(webhook_secret_id(agency_id, recipient_id), webhook_url)
    store.set(recipient_path(recipient_id), doc)
    return doc, existing is None


def get_recipient(store: DocumentStore, recipient_id: str) -> dict[str, Any]:
    """The recipient's document.

    Raises:
        BadRecipient: No such recipient.
    """
    doc = store.get(recipient_path(check_id(recipient_id)))
    if doc is None:
        raise BadRecipient(f"unknown recipient {recipient_id!r}: add it first (tower notify add ...)")
    return doc


def list_recipients(store: DocumentStore, agency_id: str | None = None) -> list[dict[str, Any]]:
    """The recipients (of one agency), by id."""
    where = [Where("agency_id", "==", agency_id)] if agency_id else []
    return sorted((d for _, d in store.query(DocQuery(COLLECTION, where))), key=lambda d: str(d["recipient_id"]))


def remove_recipient(store: DocumentStore, secrets: Secrets, recipient_id: str) -> dict[str, Any]:
    """Remove a recipient (and its webhook URL); the document it had.

    Raises:
        BadRecipient: No such recipient.
    """
    doc = get_recipient(store, recipient_id)
    store.delete(recipient_path(recipient_id))
    secret = webhook_secret_id(str(doc["agency_id"]), recipient_id)
    if doc.get("slack_via") == "webhook" and secrets.exists(secret):
        secrets.delete(secret)
    return doc


def mute(store: DocumentStore, recipient_id: str, *, brand_id: str = ANY, alert_type: str = ANY,
         until: datetime | None = None, now: datetime) -> dict[str, Any]:
    """Mute (``until`` None) or snooze (until then) one brand's alerts of one type for a recipient.

    The same brand and type muted again replaces the earlier mute. Returns the recipient.

    Raises:
        BadRecipient: Unknown recipient, nothing named, or an end in the past.
    """
    doc = get_recipient(store, recipient_id)
    if until is not None and until <= now:
        raise BadRecipient("a snooze must end in the future")
    if not brand_id or not alert_type:
        raise BadRecipient("name a brand and an alert type (or * for every one)")
    mutes = [m for m in doc.get("mutes") or [] if (m["brand_id"], m["alert_type"]) != (brand_id, alert_type)]
    mutes.append({"brand_id": brand_id, "alert_type": alert_type, "until": until.isoformat() if until else None})
    store.merge(recipient_path(recipient_id), {"mutes": mutes, "updated_at": now.isoformat()})
    return {**doc, "mutes": mutes}


def unmute(store: DocumentStore, recipient_id: str, *, brand_id: str = ANY, alert_type: str = ANY,
           now: datetime) -> dict[str, Any]:
    """Lift the mute or snooze of this brand and type. Returns the recipient.

    Raises:
        BadRecipient: Unknown recipient, or no such mute.
    """
    doc = get_recipient(store, recipient_id)
    mutes = [m for m in doc.get("mutes") or [] if (m["brand_id"], m["alert_type"]) != (brand_id, alert_type)]
    if len(mutes) == len(doc.get("mutes") or []):
        raise BadRecipient(f"recipient {recipient_id!r} has no mute on brand {brand_id!r}, type {alert_type!r}")
    store.merge(recipient_path(recipient_id), {"mutes": mutes, "updated_at": now.isoformat()})
    return {**doc, "mutes": mutes}


def unsubscribe(store: DocumentStore, recipient_id: str, kind: str, now: datetime) -> dict[str, Any]:
    """Stop sending a recipient ``alerts``, the ``digest`` or ``all`` (idempotent). Returns the recipient.

    Raises:
        BadRecipient: Unknown recipient or kind.
    """
    if kind not in (*KINDS, "all"):
        raise BadRecipient(f"unsubscribe from {', '.join(KINDS)} or all, not {kind!r}")
    doc = get_recipient(store, recipient_id)
    gone = sorted(set(doc.get("unsubscribed") or []) | (set(KINDS) if kind == "all" else {kind}))
    store.merge(recipient_path(recipient_id), {"unsubscribed": gone, "updated_at": now.isoformat()})
    return {**doc, "unsubscribed": gone}


def wants(recipient: dict[str, Any], kind: str) -> bool:
    """Whether the recipient receives ``alerts`` or the ``digest`` (chosen, and not unsubscribed)."""
    return bool(recipient.get(kind)) and kind not in (recipient.get("unsubscribed") or [])


def branding(store: DocumentStore, agency_id: str) -> dict[str, str]:
    """The agency's white-label branding, defaults filled in (``display_name`` defaults to its name)."""
    doc = store.get(agency_path(agency_id)) or {}
    out = {**DEFAULT_BRANDING, **{k: v for k, v in (doc.get("branding") or {}).items() if v}}
    out["display_name"] = out["display_name"] or str(doc.get("name") or agency_id)
    return out


def set_branding(store: DocumentStore, agency_id: str, now: datetime, **fields: str | None) -> dict[str, str]:
    """Set some of the agency's ``display_name``, ``logo_url``, ``primary_color``, ``accent_color`` and
    ``from_address`` (None leaves one as it is, ``""`` resets it); the branding afterwards.

    Raises:
        BadRecipient: Unknown agency or field, a colour that is not ``#rrggbb``, a logo that is not an
            http(s) URL, a from address that is not an e-mail address.
    """
    try:
        doc = get_agency(store, agency_id)
    except BadAgency as e:
        raise BadRecipient(str(e)) from None
    unknown = set(fields) - set(DEFAULT_BRANDING)
    if unknown:
        raise BadRecipient(f"unknown branding field(s) {', '.join(sorted(unknown))}; known: "
                           f"{', '.join(DEFAULT_BRANDING)}")
    current = dict(doc.get("branding") or {})
    for name, value in fields.items():
        if value is None:
            continue
        if value and name.endswith("_color") and not _COLOR.match(value):
            raise BadRecipient(f"{name} {value!r}: use #rrggbb")
        if value and name == "logo_url" and not value.startswith(("https://", "http://")):
            raise BadRecipient(f"logo_url {value!r}: use an http(s) URL")
        if value and name == "from_address":
            check_email(value)
        if value and name == "display_name" and len(value) > 80:
            raise BadRecipient("display_name: at most 80 characters")
        current[name] = value
    store.merge(agency_path(agency_id), {"branding": current, "updated_at": now})
    return branding(store, agency_id)
