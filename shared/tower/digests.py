"""The weekly agency digest: every brand of the agency, most urgent first, by e-mail and Slack.

Per brand, in the agency overview's order (:func:`tower.api.agency.overview`: status, then the health
score, lowest first): the weekly summary, the key figures with their change against the week before,
the top actions, the open alerts, and a link to its page. The figures are the dashboard's own: each
brand's section is built from :func:`tower.api.brands.dashboard_view`, the function the dashboard route
answers with, for the same brand and day, so the digest cannot disagree with the page.

"Last week" is the shared vocabulary's (:mod:`tower.periods`), in each brand's time zone, and every
section states its dates. Each recipient's copy adds the alerts held back for it since the last
digest (quiet hours, the daily budget; :mod:`tower.notify.control`), which are then marked ``rolled``.

The ``send_digests`` function runs on :data:`tower.wiring.DIGEST_SCHEDULE`; one digest per recipient
and week (its delivery log id), so a re-run sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tower import periods
from tower.agencies import get_agency, list_agencies
from tower.api.agency import overview
from tower.api.brands import brand_info, dashboard_view
from tower.notify import deliveries
from tower.notify.links import brand_url, overview_url
from tower.notify.recipients import branding, list_recipients, wants
from tower.notify.render import digest_blocks, render_email
from tower.notify.send import Rendered, deliver, unsubscribe_link
from tower.sync.health import integration_health, reconnect_reason

if TYPE_CHECKING:  # pragma: no cover
    from tower.runtime import Runtime

log = logging.getLogger(__name__)

TOP_ACTIONS = 3


def digest_figures(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The key figures of a dashboard body, each ``{key, label, value, previous, change_pct, unit}``.

    Spend, revenue and blended ROAS are the performance snapshot's (with its changes); MER, new-customer
    revenue and profit are the tiles'. Values are taken as the dashboard gives them, never recomputed.
    ``good`` says whether a rise is good news (spend's is neither: the renderings colour it neutral).
    """
    perf = view.get("performance_snapshot") or {}
    prev = perf.get("previous_week") or {}
    changes = perf.get("changes") or {}
    tiles = view.get("tiles") or {}
    out = [
        {"key": "spend", "label": "Ad spend", "value": perf.get("total_spend"), "previous": prev.get("total_spend"),
         "change_pct": changes.get("spend_pct"), "unit": "money", "good": None},
        {"key": "revenue", "label": "Revenue", "value": perf.get("total_revenue"),
         "previous": prev.get("total_revenue"), "change_pct": changes.get("revenue_pct"), "unit": "money",
         "good": "up"},
        {"key": "roas", "label": "Blended ROAS", "value": perf.get("blended_roas"),
         "previous": prev.get("blended_roas"), "change_pct": changes.get("roas_pct"), "unit": "ratio",
         "good": "up"},
    ]
    labels = {"mer": "MER", "new_customer_revenue": "New-customer revenue", "profit": "Profit"}
    for key, label in labels.items():
        tile = tiles.get(key)
        if tile is not None:
            out.append({"key": key, "label": label, "value": tile.get("value"), "previous": tile.get("previous"),
                        "change_pct": tile.get("change_pct"), "unit": tile.get("unit"), "good": "up"})
    return out


def _period_label(view: Mapping[str, Any]) -> str:
    """The range's label, plus the snapshot's own days when the models were built for another week."""
    label = str(view["range"]["label"])
    perf = view.get("performance_snapshot") or {}
    as_of = perf.get("as_of_date")
    if as_of and as_of != view["range"]["last_day"]:
        label += f"; spend, revenue and ROAS: the {perf.get('period_days')} days to {periods.day_words(str(as_of))}"
    return label


def brand_section(runtime: Runtime, row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """One brand's part of the digest, from its overview row and its dashboard."""
    brand_id = str(row["brand_id"])
    view = dashboard_view(runtime, brand_info(runtime, brand_id, now))
    summary = view.get("summary") or {}
    return {
        "brand_id": brand_id, "brand_name": row["brand_name"], "currency": view["brand"]["currency"],
        "status": row["status"], "health_score": row["health_score"], "url": brand_url(runtime.settings, brand_id),
        "period": view["range"]["period"], "period_label": _period_label(view),
        "summary": summary.get("summary") if isinstance(summary.get("summary"), str) else None,
        "figures": digest_figures(view),
        "actions": [{"id": r.get("id"), "action": r.get("action"), "reason": r.get("reason"),
                     "priority": r.get("priority")} for r in view["recommendations"][:TOP_ACTIONS]],
        "alerts": [{"id": a.get("id"), "severity": a.get("severity"), "type": a.get("type"), "title": a.get("title")}
                   for a in view["alerts"]],
        "reconnect": reconnects(runtime, brand_id, now),
    }


def reconnects(runtime: Runtime, brand_id: str, now: datetime) -> list[dict[str, str]]:
    """The brand's connections whose syncs stopped until someone connects them again, each with why."""
    return [{"platform": h.platform, "account_id": h.account_id, "reason": reconnect_reason(h.status, h.last_error)}
            for h in integration_health(runtime.warehouse, runtime.store, brand_ids=[brand_id], now=now)
            if h.needs_reconnect]


def build_digest(runtime: Runtime, agency_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The agency's digest (no recipient's held alerts yet): branding, period and brands in urgency order.

    Raises:
        tower.agencies.BadAgency: No such agency.
    """
    now = now or datetime.now(UTC)
    agency = get_agency(runtime.store, agency_id)
    brands = [brand_section(runtime, row, now) for row in overview(runtime, agency.get("brand_ids") or [])]
    labels = {str(b["period"]["label"]) for b in brands}
    return {
        "agency": {"agency_id": agency_id, "name": agency.get("name") or agency_id},
        "branding": branding(runtime.store, agency_id),
        "period_label": labels.pop() if len(labels) == 1 else "last week (each brand's dates below)",
        "week_start": min((str(b["period"]["start_date"]) for b in brands), default=now.date().isoformat()),
        "brands": brands,
        "held": [],
    }


def render_digest(runtime: Runtime, digest: Mapping[str, Any], unsubscribe: str) -> Rendered:
    """The digest as an e-mail (HTML and text) and a Slack message."""
    overview_link = overview_url(runtime.settings)
    context = {"digest": digest, "branding": digest["branding"], "unsubscribe_url": unsubscribe,
               "overview_url": overview_link}
    html, text = render_email("digest", context)
    slack_text, blocks = digest_blocks(digest, overview_url=overview_link)
    subject = f"{digest['branding']['display_name']}: weekly digest, {digest['period_label']}"
    return Rendered(subject, html, text, slack_text, blocks)


def send_digest(runtime: Runtime, agency_id: str, *, now: datetime | None = None,
                clock: Callable[[], datetime] | None = None,
                sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Send the agency's digest to each of its recipients who takes it (once per recipient and week).

    Returns:
        ``{agency_id, week_start, brands, sent, dead, skipped}`` (recipient ids).
    """
    now = now or datetime.now(UTC)
    digest = build_digest(runtime, agency_id, now)
    out: dict[str, Any] = {"agency_id": agency_id, "week_start": digest["week_start"],
                           "brands": [b["brand_id"] for b in digest["brands"]], "sent": [], "dead": [], "skipped": []}
    for recipient in list_recipients(runtime.store, agency_id):
        rid = str(recipient["recipient_id"])
        if not wants(recipient, "digest"):
            out["skipped"].append(rid)
            continue
        doc_id = deliveries.delivery_id("digest", rid, digest["week_start"])
        existing = deliveries.get(runtime.store, doc_id)
        if existing is not None and existing.get("status") in ("sent", "dead"):
            out["sent" if existing["status"] == "sent" else "dead"].append(rid)
            continue
        held = deliveries.held(deliveries.of_recipient(runtime.store, rid))
        mine = {**digest, "held": [{"brand_name": h.get("brand_name") or h.get("brand_id"), "title": h.get("title"),
                                    "severity": h.get("severity"), "raised_on": h.get("raised_on"),
                                    "reason": h.get("reason")} for h in held]}
        unsubscribe = unsubscribe_link(runtime, rid, "digest")
        rendered = render_digest(runtime, mine, unsubscribe.page)
        deliveries.record(runtime.store, doc_id, {
            "kind": "digest", "agency_id": agency_id, "recipient_id": rid, "channel": recipient["channel"],
            "status": "retrying", "reason": "weekly", "title": rendered.subject, "period": digest["period_label"],
            "brand_ids": out["brands"], "held": len(held)}, now)
        done = deliver(runtime, doc_id, recipient, rendered, unsubscribe=unsubscribe, clock=clock or (lambda: now),
                       sleep=sleep)
        if done.get("status") == "sent":
            for h in held:
                deliveries.record(runtime.store, str(h["delivery_id"]), {"status": "rolled", "digest_id": doc_id}, now)
            out["sent"].append(rid)
        else:
            out["dead"].append(rid)
    log.info("digest sent", extra={"agency_id": agency_id, "brands": len(out["brands"]),
                                   "sent": len(out["sent"]), "dead": len(out["dead"])})
    return out


def handle_digest_schedule(runtime: Runtime, *, now: datetime | None = None) -> dict[str, Any]:
    """The weekly digest of every agency that has a recipient taking it."""
    results = []
    for agency in list_agencies(runtime.store):
        recipients = list_recipients(runtime.store, agency["agency_id"])
        if any(wants(r, "digest") for r in recipients):
            results.append(send_digest(runtime, agency["agency_id"], now=now))
    return {"agencies": results}
