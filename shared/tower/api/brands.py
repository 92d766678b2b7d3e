"""``/api/brands/<brand_id>/…``: dashboard, alerts, recommendations and their actions, Q&A, channel drilldown.

Every route here first checks that the caller's key covers the brand (403) and that the brand
exists (404), in the blueprint's ``before_request``. Page loads (every GET) only read: the cached
summary, recommendations and alerts from the document store (``tower.decisions.store``) and the
models' figures from the warehouse (``tower.analytics.snapshots``); none calls Claude. Only
``POST …/ask`` may (and falls back to the deterministic Q&A without a key).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue

from tower import billing
from tower.analytics import dashboard_cache
from tower.analytics.dashboard_cache import CacheKey
from tower.analytics.products import with_pictures
from tower.api import ready
from tower.api.auth import check_scope
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.ranges import (
    METRICS,
    RANGE_PARAMS,
    RANGE_QUERY,
    Range,
    daily_series,
    default_range,
    parse_range,
    range_dashboard,
    range_drilldown,
    refuse_unknown,
)
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.api.schemas import AcceptBody, AskBody, DismissBody, UndoBody
from tower.brands import brand_row, local_date
from tower.connectors.retry import RetriesExhausted
from tower.decisions import budget_actions
from tower.decisions.budget_actions import ConflictError
from tower.decisions.store import find_recommendation, latest_summary, list_alerts, list_recommendations
from tower.names import AD_PLATFORMS

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore
    from tower.runtime import Runtime

bp = Blueprint("brands", __name__, url_prefix="/api/brands/<brand_id>")

HIDDEN = ("dismissed", "superseded")
_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_ALERT_STATUSES = ("open", "resolved", "all")


# --- reads (plain functions of the runtime, so the agency overview and tests share them) ----------------


def brand_info(runtime: Runtime, brand_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The brand's name, currency, timezone and store-local today.

    The brand document (``brands/{id}``, written when a brand joins an agency) answers without a
    warehouse query; a brand without one is looked up in the ``brands`` table.

    Raises:
        tower.brands.UnknownBrand: In neither (→ 404).
    """
    doc = runtime.store.get(f"brands/{brand_id}") or {}
    if doc.get("timezone") and doc.get("currency"):
        info = {"brand_id": brand_id, "brand_name": str(doc.get("name") or doc.get("brand_name") or brand_id),
                "currency": str(doc["currency"]), "timezone": str(doc["timezone"])}
    else:
        row = brand_row(runtime.warehouse, brand_id)
        info = {"brand_id": brand_id, "brand_name": row["brand_name"], "currency": row["currency"],
                "timezone": row["timezone"]}
    today = local_date(info["timezone"], now)
    return {**info, "today": today.isoformat()}


def current_recommendations(store: DocumentStore, brand_id: str, *, week: str | None = None,
                            include_hidden: bool = False) -> tuple[str | None, list[dict[str, Any]]]:
    """The recommendations of one week (default: the newest the recommend step wrote), best first.

    The newest week is found among every card, dismissed ones included, so dismissing all of this
    week's cards shows an empty week rather than last week's stale ones.
    """
    docs = list_recommendations(store, brand_id, include_hidden=True)
    if week is None:
        week = max((str(d.get("week") or "") for d in docs), default="") or None
    chosen = [d for d in docs if d.get("week") == week and (include_hidden or d.get("status") not in HIDDEN)]
    chosen.sort(key=lambda d: (-(d.get("score") or 0), d.get("rank") or 99, str(d.get("id"))))
    return week, chosen


def summary_card(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The cached weekly summary as the dashboard shows it (None before the first summarize run)."""
    if not doc:
        return None
    body = dict(doc.get("summary") or {})
    body.pop("recommendations", None)  # the dashboard lists the live cards (with their status) itself
    return {**body, "week": doc.get("week"), "author": doc.get("author"), "grounding": doc.get("grounding"),
            "generated_at": doc.get("generated_at")}


def dashboard_view(runtime: Runtime, brand: Mapping[str, Any], chosen: Range | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """The dashboard's body for a brand (:func:`brand_info`), for the latest week or a chosen range.

    One function for every surface that shows the dashboard's figures (the route, the digests), so a
    figure in an e-mail is the figure on the page. The default view's figures come from the document
    the last model build wrote (:func:`default_views`); a chosen range is read from the warehouse.
    """
    brand_id = str(brand["brand_id"])
    _, recs = current_recommendations(runtime.store, brand_id)
    if chosen is None:
        figures = default_views(runtime, brand, "dashboard", now)
    else:
        ranged = range_dashboard(runtime.warehouse, brand_id, chosen, attribution_model=runtime.settings.attribution_model,
                                 currency=str(brand["currency"]))
        figures = {**ranged, "range": chosen.to_dict()}
    return {
        "brand": dict(brand),
        "summary": summary_card(latest_summary(runtime.store, brand_id)),
        "recommendations": pictured(runtime, brand, recs[: runtime.settings.recommend_top_n], now),
        "performance_snapshot": figures["performance_snapshot"],
        "alerts": pictured(runtime, brand, list_alerts(runtime.store, brand_id), now),
        "tiles": figures["tiles"],
        "range": figures["range"],
    }


# --- the blueprint -----------------------------------------------------------------------------------


@bp.before_request
def _brand_in_scope() -> None:
    """403 when the key does not cover the brand, 404 when the brand does not exist, 402 when a brand
    billed through Shopify has no active plan."""
    if request.method == "OPTIONS":
        return  # Flask answers it with the allowed methods; there is no caller to check
    brand_id = str((request.view_args or {}).get("brand_id") or "")
    check_scope(current_caller(), brand_id)
    g.brand = brand_info(current_runtime(), brand_id, current_now())
    try:
        billing.require_plan(current_runtime().store, brand_id)  # what an unsubscribed brand may do: tower.billing
    except billing.BillingError as e:
        raise ApiError(e.status, e.code, e.message) from None


def _today() -> date:
    return date.fromisoformat(g.brand["today"])


_MISSES: dict[str, threading.Lock] = {}
_MISSES_LOCK = threading.Lock()


def default_views(runtime: Runtime, brand: Mapping[str, Any], view: str, now: datetime | None = None) -> Any:
    """One default view's warehouse figures (``dashboard``, ``drilldowns``, ``series``, ``products``)
    for the brand's today.

    The document the models' stage wrote at the last build (:mod:`tower.analytics.dashboard_cache`)
    when it was computed for this day and these settings; otherwise (a new store-local day before
    the next build) computed from the warehouse once per process and stored, unless a build replaced
    the documents meanwhile. Requests missing together wait for the first one's figures.
    """
    settings = runtime.settings
    brand_id = str(brand["brand_id"])
    key = CacheKey.of(date.fromisoformat(str(brand["today"])), attribution_model=settings.attribution_model,
                      snapshot_period_days=settings.snapshot_period_days)
    found, _ = dashboard_cache.read(runtime.store, brand_id, key, view)
    if found is not None:
        return found
    with _MISSES_LOCK:
        lock = _MISSES.setdefault(brand_id, threading.Lock())
    with lock:
        found, seen = dashboard_cache.read(runtime.store, brand_id, key, view)
        if found is None:
            views = dashboard_cache.compute(runtime.warehouse, brand_id, key, currency=str(brand["currency"]))
            dashboard_cache.write_if_unchanged(runtime.store, brand_id, key, views, seen, view,
                                               now=now or datetime.now(UTC))
            found = views[view]
    return found


def _offer_default() -> None:
    """The default form of a view (no query string) answers every caller of the brand alike until the
    store changes: offer it to be kept ready (:mod:`tower.api.ready`)."""
    if not request.query_string:
        ready.offer(request.environ, g.brand)


def pictured(runtime: Runtime, brand: Mapping[str, Any], docs: list[dict[str, Any]],
             now: datetime | None = None) -> list[dict[str, Any]]:
    """Live documents (alerts, cards) with each named product's title and picture, from the cached catalogue."""
    if not docs:
        return docs
    known = {str(r["product_id"]): r for r in default_views(runtime, brand, "catalogue", now)}
    out: list[dict[str, Any]] = with_pictures(docs, known)
    return out


def _chosen_range(extra: tuple[str, ...] = ()) -> Range | None:
    """The request's range (None: the default), after refusing parameters the route does not take."""
    refuse_unknown(request.args.keys(), RANGE_PARAMS + extra)
    return parse_range(request.args, _today())


@bp.get("/dashboard")
@operation("Everything the brand's dashboard shows, for the latest week or a chosen range.", response="Dashboard",
           errors=(400, 402, 404, 503), query=RANGE_QUERY)
def dashboard(brand_id: str) -> ResponseReturnValue:
    """The cached weekly summary, this week's open recommendations (best first), the performance
    snapshot (this period against the one before), the tiles and the open alerts (most severe first).

    Without a range the snapshot is the one the models built for the latest week; with ``start`` and
    ``end`` or ``period`` (and ``compare``) the snapshot and tiles are read for that range."""
    _offer_default()
    return dashboard_view(current_runtime(), g.brand, _chosen_range(), current_now())


@bp.get("/series")
@operation("Day-by-day figures for charts, per channel, over the latest week or a chosen range.", response="Series",
           errors=(400, 402, 404, 503),
           query={**RANGE_QUERY,
                  "metric": {"schema": {"enum": list(METRICS)}, "example": "spend",
                             "description": "The figure of each channel's points (default revenue)."},
                  "channel": {"schema": {"enum": list(AD_PLATFORMS)}, "example": "meta",
                              "description": "One channel only (default every channel)."}})
def series(brand_id: str) -> ResponseReturnValue:
    """One point per day of the range (zero-filled) for each channel, and every figure per day summed
    over the channels (``days``) and for the comparison period (``compare_days``)."""
    chosen = _chosen_range(("metric", "channel")) or default_range(_today())
    metric = request.args.get("metric", "revenue")
    if metric not in METRICS:
        raise ApiError(400, "bad_parameter", f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    channel = request.args.get("channel", "")
    if channel and channel not in AD_PLATFORMS:
        raise ApiError(400, "bad_parameter", f"channel must be one of {', '.join(AD_PLATFORMS)}, not {channel!r}")
    runtime = current_runtime()
    if not request.args:  # the default view: the cached figures
        _offer_default()
        body = default_views(runtime, g.brand, "series", current_now())
    else:
        body = daily_series(runtime.warehouse, brand_id, chosen, metric=metric, channel=channel,
                            attribution_model=runtime.settings.attribution_model)
    return {**body, "currency": g.brand["currency"], "channel": channel or None, "range": chosen.to_dict()}


@bp.get("/products")
@operation("Every product with stock or spend: title, units, days of cover, spend, revenue, ROAS, status.",
           response="Products", errors=(400, 402, 404),
           query={**RANGE_QUERY,
                  "channel": {"schema": {"enum": list(AD_PLATFORMS)}, "example": "meta",
                              "description": "One channel's spend and status (default every channel)."}})
def products(brand_id: str) -> ResponseReturnValue:
    """The alignment chart's and the product table's rows, worst status first, from the latest built
    inventory alignment (``as_of_date``), like the drilldown's: a range is checked and echoed, and the
    products stay the latest built ones. ``status`` is the model's mismatch type; ``days_of_cover``
    null means the stock does not sell."""
    chosen = _chosen_range(("channel",))
    channel = request.args.get("channel", "")
    if channel and channel not in AD_PLATFORMS:
        raise ApiError(400, "bad_parameter", f"channel must be one of {', '.join(AD_PLATFORMS)}, not {channel!r}")
    _offer_default()
    body = dict(default_views(current_runtime(), g.brand, "products", current_now())[channel or dashboard_cache.ALL_CHANNELS])
    if chosen is not None:
        body["range"] = chosen.to_dict()
    return body


@bp.get("/alerts")
@operation("The brand's alerts, most severe first.", response="Alerts", errors=(400, 402, 404),
           query={"status": {"schema": {"enum": list(_ALERT_STATUSES)},
                             "description": "open (default), resolved or all."}})
def alerts(brand_id: str) -> ResponseReturnValue:
    """Alerts raised by the recommend step; ``status=open`` (default) is what needs attention now."""
    refuse_unknown(request.args.keys(), ("status",))
    status = request.args.get("status", "open")
    if status not in _ALERT_STATUSES:
        raise ApiError(400, "bad_parameter", f"status must be one of {', '.join(_ALERT_STATUSES)}, not {status!r}")
    runtime = current_runtime()
    return {"alerts": pictured(runtime, g.brand, list_alerts(runtime.store, brand_id, None if status == "all" else status),
                               current_now())}


@bp.get("/recommendations")
@operation("The brand's recommendations of a week, best first.", response="Recommendations", errors=(400, 402, 404),
           query={"week": {"schema": {"type": "string", "pattern": _WEEK.pattern},
                           "description": "ISO week like 2026-W47 (default: the newest)."},
                  "include_hidden": {"schema": {"type": "boolean"},
                                     "description": "Also dismissed and superseded cards."}})
def recommendations(brand_id: str) -> ResponseReturnValue:
    """Cards with their status (open, accepting, applied, undone, failed…); dismissed ones only if asked."""
    refuse_unknown(request.args.keys(), ("week", "include_hidden"))
    week = request.args.get("week") or None
    if week is not None and not _WEEK.match(week):
        raise ApiError(400, "bad_parameter", f"week must be an ISO week like 2026-W47, not {week!r}")
    hidden = request.args.get("include_hidden", "false").lower()
    if hidden not in ("true", "false", "1", "0"):
        raise ApiError(400, "bad_parameter", f"include_hidden must be true or false, not {hidden!r}")
    runtime = current_runtime()
    week, cards = current_recommendations(runtime.store, brand_id, week=week, include_hidden=hidden in ("true", "1"))
    return {"week": week, "recommendations": pictured(runtime, g.brand, cards, current_now())}


def _own_recommendation(brand_id: str, rec_id: str) -> None:
    """404 unless the recommendation exists and belongs to this brand (a key for one brand cannot act on another's)."""
    owner, _ = find_recommendation(current_runtime().store, rec_id)
    if owner != brand_id:
        raise ApiError(404, "unknown_recommendation", f"brand {brand_id!r} has no recommendation {rec_id!r}")


def _platform_call(fn: Any, *args: Any, **kwargs: Any) -> ResponseReturnValue:
    """Run an action that asks the ad platforms.

    A platform that kept failing is a 503. A budget that is not the recorded one (or a later change
    still applied, for an Undo) is a 409 whose error also carries ``conflicts``: per campaign the
    ``recorded`` and ``current`` amounts (and the later change), so the caller sees both values.
    """
    try:
        out: dict[str, Any] = fn(*args, **kwargs)
    except RetriesExhausted as e:
        raise ApiError(503, "platform_unavailable", f"an ad platform kept failing: {e}") from e
    except ConflictError as e:
        return {"error": {"code": e.code, "message": str(e), "conflicts": e.conflicts}}, 409
    return out


@bp.post("/recommendations/<rec_id>/accept")
@operation("Accept a recommendation: queue its budget changes (or, with dry_run, only show them).",
           response="ActionResult", body=AcceptBody, body_required=False, errors=(400, 402, 404, 409, 503))
def accept(brand_id: str, rec_id: str) -> ResponseReturnValue:
    """Queues one budget task (each campaign's change within the bounds, audited, idempotent); a promotion
    card's task creates a time-boxed automatic Shopify discount on its product instead. A second
    Accept changes nothing, and of two at once only one queues (the other answers ``changed: false``).
    409 ``budget_changed`` when a campaign's budget on its platform is no longer the one the
    recommendation was made on. ``dry_run`` asks each platform for the current budget and whether the
    change is allowed, and changes nothing."""
    body = json_body(AcceptBody, optional=True)
    _own_recommendation(brand_id, rec_id)
    return _platform_call(budget_actions.accept, current_runtime(), rec_id, dry_run=body.dry_run,
                          requested_by=current_caller().actor)


@bp.post("/recommendations/<rec_id>/dismiss")
@operation("Dismiss a recommendation, with a reason.", response="ActionResult", body=DismissBody,
           errors=(400, 402, 404, 409))
def dismiss(brand_id: str, rec_id: str) -> ResponseReturnValue:
    """Hides the card for good (it stays dismissed through rebuilds of the week); applied changes must be
    undone first."""
    body = json_body(DismissBody)
    if not body.reason.strip():
        raise ApiError(400, "invalid_body", "invalid request body (reason: must not be blank)",
                       fields={"reason": "must not be blank"})
    _own_recommendation(brand_id, rec_id)
    return budget_actions.dismiss(current_runtime(), rec_id, body.reason, requested_by=current_caller().actor)


@bp.post("/recommendations/<rec_id>/undo")
@operation("Undo an accepted recommendation: restore each campaign's previous budget.", response="ActionResult",
           body=UndoBody, body_required=False, errors=(400, 402, 404, 409, 503))
def undo(brand_id: str, rec_id: str) -> ResponseReturnValue:
    """Queues the reverse changes through the same write path. 409 when nothing of it was applied,
    ``later_change_applied`` while a later change on one of its campaigns is still applied (undo in
    reverse order), ``budget_changed`` when a budget is no longer the one the Accept set."""
    json_body(UndoBody, optional=True)
    _own_recommendation(brand_id, rec_id)
    return _platform_call(budget_actions.undo, current_runtime(), rec_id, requested_by=current_caller().actor)


@bp.post("/ask")
@operation("Ask a question about the brand; the answer carries figures from the warehouse.", response="Answer",
           body=AskBody, errors=(400, 402, 404))
def ask(brand_id: str) -> ResponseReturnValue:
    """Claude answers with read-only queries when a key is configured (grounding-checked); otherwise
    the deterministic Q&A answers common questions, or says plainly that it cannot."""
    from tower.ai import qa  # lazy: the Q&A engine loads sqlglot, which no other route needs

    body = json_body(AskBody)
    answer = qa.ask(current_runtime(), brand_id, body.question, _today(), brand_name=g.brand["brand_name"],
                    currency=g.brand["currency"])
    return answer.to_dict()


@bp.get("/drilldown/channel/<channel>")
@operation("One channel in depth: performance by region, top campaigns, inventory alignment.",
           response="Drilldown", errors=(400, 402, 404, 503), query=RANGE_QUERY)
def drilldown_channel(brand_id: str, channel: str) -> ResponseReturnValue:
    """The plan's drilldown for ``meta``, ``tiktok`` or ``google_ads`` over the latest built period;
    ``recommendations`` are this week's open cards on the channel, as sentences. With a range,
    ``performance`` and ``top_campaigns`` cover it (``comparison_performance`` its comparison); the
    inventory alignment stays the latest built one."""
    if channel not in AD_PLATFORMS:
        raise ApiError(404, "unknown_channel", f"unknown channel {channel!r}: use {', '.join(AD_PLATFORMS)}")
    chosen = _chosen_range()
    _offer_default()
    runtime = current_runtime()
    model = runtime.settings.attribution_model
    # the latest built drilldown (the cache's); a range replaces its performance and campaigns
    body = dict(default_views(runtime, g.brand, "drilldowns", current_now())[channel])
    if chosen is not None:
        body.update(range_drilldown(runtime.warehouse, brand_id, channel, chosen.period, attribution_model=model))
        body["comparison_performance"] = None if chosen.comparison is None else range_drilldown(
            runtime.warehouse, brand_id, channel, chosen.comparison, attribution_model=model)["performance"]
        body["range"] = chosen.to_dict()
    _, cards = current_recommendations(runtime.store, brand_id)
    body["recommendations"] = [str(c.get("action")) for c in cards if c.get("channel") == channel]
    return body
