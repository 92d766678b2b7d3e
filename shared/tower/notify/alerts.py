"""The ``notify`` function: each alert published on ``tower-alerts-raised`` to the brand's agency's recipients.

For every recipient of the agency, :func:`tower.notify.control.decide` says send, hold (for the next
digest) or skip; the outcome is a document of the delivery log whose id is the recipient, the alert and
the day it was raised, so a redelivered message finds it and sends nothing twice. A send that keeps
failing is dead-lettered in the log (and the message acknowledged: the log, not Pub/Sub's dead-letter
topic, is where a person sees it). A brand no agency runs has nobody to tell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tower.notify import deliveries
from tower.notify.control import decide, local_day
from tower.notify.links import brand_url
from tower.notify.recipients import branding, list_recipients
from tower.notify.render import alert_blocks, render_email
from tower.notify.send import Rendered, deliver, unsubscribe_link

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Message
    from tower.runtime import Runtime

log = logging.getLogger(__name__)

REQUIRED = ("brand_id", "alert_id", "type", "severity", "title", "raised_on")


def brand_agency(runtime: Runtime, brand_id: str) -> tuple[str | None, str]:
    """The brand's agency (None: none) and display name, from its document, else the ``brands`` table."""
    doc = runtime.store.get(f"brands/{brand_id}") or {}
    if doc.get("agency_id"):
        return str(doc["agency_id"]), str(doc.get("name") or brand_id)
    rows = runtime.warehouse.rows("SELECT agency_id, brand_name FROM brands WHERE brand_id = @b", {"b": brand_id})
    if not rows:
        return None, brand_id
    return (str(rows[0]["agency_id"]) if rows[0]["agency_id"] else None), str(rows[0]["brand_name"])


def render_alert(runtime: Runtime, alert: Mapping[str, Any], brand_name: str, agency_id: str,
                 unsubscribe: str) -> Rendered:
    """One alert as an e-mail and a Slack message."""
    url = brand_url(runtime.settings, str(alert["brand_id"]))
    brand = branding(runtime.store, agency_id)
    html, text = render_email("alert", {"alert": alert, "brand_name": brand_name, "url": url, "branding": brand,
                                        "unsubscribe_url": unsubscribe})
    slack_text, blocks = alert_blocks(alert, brand_name=brand_name, url=url)
    subject = f"[{str(alert['severity']).upper()}] {brand_name}: {alert['title']} (raised {alert['raised_on']})"
    return Rendered(subject, html, text, slack_text, blocks)


def notify_alert(runtime: Runtime, alert: Mapping[str, Any], *, now: datetime | None = None,
                 clock: Callable[[], datetime] | None = None,
                 sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Send, hold or skip one raised alert for every recipient of its brand's agency.

    Returns:
        ``{agency_id, sent, held, skipped, dead}``: recipient ids by outcome.
    """
    now = now or datetime.now(UTC)
    clock = clock or (lambda: now)
    brand_id = str(alert["brand_id"])
    agency_id, brand_name = brand_agency(runtime, brand_id)
    out: dict[str, Any] = {"agency_id": agency_id, "sent": [], "held": [], "skipped": [], "dead": []}
    if agency_id is None:
        return out
    for recipient in list_recipients(runtime.store, agency_id):
        rid = str(recipient["recipient_id"])
        doc_id = deliveries.delivery_id("alert", rid, brand_id, str(alert["alert_id"]), str(alert["raised_on"]))
        existing = deliveries.get(runtime.store, doc_id)
        if existing is not None and existing.get("status") != "retrying":
            out[_bucket(str(existing["status"]))].append(rid)  # a redelivery: decided already
            continue
        if existing is None:
            history = deliveries.of_recipient(runtime.store, rid)
            day = local_day(recipient, now).isoformat()
            decision = decide(recipient, alert, now, sent_today=deliveries.sent_on(history, day),
                              last_sent=deliveries.last_sent(history, brand_id, str(alert["alert_id"])),
                              dedup_days=runtime.settings.notify_dedup_days)
            status = {"send": "retrying", "hold": "held", "skip": "skipped"}[decision.action]
            deliveries.record(runtime.store, doc_id, {
                "kind": "alert", "agency_id": agency_id, "recipient_id": rid, "channel": recipient["channel"],
                "status": status, "reason": decision.reason, "brand_id": brand_id, "brand_name": brand_name,
                "alert_id": alert["alert_id"], "alert_type": alert["type"], "severity": alert["severity"],
                "title": alert["title"], "raised_on": alert["raised_on"], "local_date": day, "attempts": 0,
            }, now)
            if decision.action != "send":
                out[_bucket(status)].append(rid)
                continue
        unsubscribe = unsubscribe_link(runtime, rid, "alerts")
        rendered = render_alert(runtime, alert, brand_name, agency_id, unsubscribe.page)
        done = deliver(runtime, doc_id, recipient, rendered, unsubscribe=unsubscribe, clock=clock, sleep=sleep)
        out[_bucket(str(done.get("status")))].append(rid)
    log.info("alert notified", extra={"brand_id": brand_id, "alert_id": alert["alert_id"],
                                      **{k: len(v) for k, v in out.items() if isinstance(v, list)}})
    return out


def _bucket(status: str) -> str:
    return {"sent": "sent", "held": "held", "rolled": "held", "dead": "dead"}.get(status, "skipped")


def handle_alert_raised(runtime: Runtime, message: Message) -> dict[str, Any] | None:
    """Tell the brand's agency's recipients of a raised alert (by e-mail or Slack, or held for the digest)."""
    data = message.data or {}
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        # Redelivering a malformed message would fail the same way: log it and acknowledge.
        log.error("alert message refused", extra={"missing": missing, "message_id": message.message_id})
        return None
    return notify_alert(runtime, data)
