"""Notifications over the API: an agency's recipients and delivery log, unsubscribing, Slack's buttons.

With an agency key (the page's agency screens):

* ``GET /api/agency/notifications``: the recipients, the newest deliveries (sent, held for the
  digest, skipped and why, retried, dead letters) and how many of each;
* ``POST /api/agency/recipients``, ``DELETE /api/agency/recipients/<id>``;
* ``POST /api/agency/recipients/<id>/mutes`` (mute or snooze a brand's alert type),
  ``DELETE /api/agency/recipients/<id>/mutes?brand_id=…&alert_type=…``.

Without a key, because the people who use them have none:

* ``GET`` and ``POST /api/notify/unsubscribe?token=…``: GET says what the link would stop and changes
  nothing (mail scanners follow links); POST unsubscribes: the page's ``/unsubscribe`` button, and RFC
  8058's one-click, what a mail client's own button sends to the ``List-Unsubscribe`` URL. The token is
  signed (:mod:`tower.notify.links`), so it is its own authorisation.
* ``POST /api/notify/slack/actions``: Slack's interactivity requests (Accept / Dismiss on a digest's
  top action), authenticated by Slack's signature: a bad one is 401, as is one older than five minutes.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.api.schemas import MuteBody, RecipientBody
from tower.connectors.retry import RetriesExhausted
from tower.decisions import budget_actions
from tower.decisions.budget_actions import ConflictError
from tower.decisions.store import NotFoundError, find_recommendation
from tower.notify import deliveries, slack
from tower.notify.deliveries import SendError
from tower.notify.links import BadToken, link_key, read_token
from tower.notify.recipients import (
    BadRecipient,
    add_recipient,
    get_recipient,
    list_recipients,
    mute,
    remove_recipient,
    unmute,
    unsubscribe,
)
from tower.ports import NotFound

bp = Blueprint("notify", __name__, url_prefix="/api")


def _agency_id() -> str:
    caller = current_caller()
    if not caller.agency_id:
        raise ApiError(403, "forbidden", "notifications belong to an agency: use the agency's API key")
    return caller.agency_id


def _own_recipient(recipient_id: str) -> dict[str, Any]:
    """The recipient, 404 unless it is the caller's agency's."""
    try:
        doc = get_recipient(current_runtime().store, recipient_id)
    except BadRecipient:
        doc = None
    if doc is None or doc.get("agency_id") != _agency_id():
        raise ApiError(404, "unknown_recipient", f"this agency has no recipient {recipient_id!r}")
    return doc


@bp.get("/agency/notifications")
@operation("The agency's recipients and delivery log (sent, held, skipped, retried, dead letters).",
           response="Notifications", errors=(403,), tag="agency")
def notifications() -> ResponseReturnValue:
    """Newest deliveries first (at most 200); ``counts`` by status over those."""
    agency_id = _agency_id()
    store = current_runtime().store
    docs = deliveries.of_agency(store, agency_id)
    counts = {s: sum(1 for d in docs if d.get("status") == s) for s in deliveries.STATUSES}
    return {"agency_id": agency_id, "recipients": list_recipients(store, agency_id), "deliveries": docs,
            "counts": counts}


@bp.post("/agency/recipients")
@operation("Add a recipient to the agency, or change it (mutes and unsubscriptions are kept).",
           response="Recipient", body=RecipientBody, errors=(400, 403), tag="agency")
def recipients_add() -> ResponseReturnValue:
    """201 when created, 200 when changed. Slack recipients added here post with the bot token; a
    webhook URL is a secret and is set with ``tower notify add --slack-webhook``."""
    body = json_body(RecipientBody)
    runtime = current_runtime()
    try:
        doc, created = add_recipient(
            runtime.store, runtime.secrets, agency_id=_agency_id(), recipient_id=body.recipient_id,
            channel=body.channel, address=body.address, timezone=body.timezone, now=current_now(),
            quiet=body.quiet_hours, daily_budget=body.daily_budget, min_severity=body.min_severity,
            alerts=body.alerts, digest=body.digest)
    except BadRecipient as e:
        raise ApiError(400, "invalid_recipient", str(e)) from None
    return doc, 201 if created else 200


@bp.delete("/agency/recipients/<recipient_id>")
@operation("Remove a recipient of the agency.", response="Removed", errors=(403, 404), tag="agency")
def recipients_remove(recipient_id: str) -> ResponseReturnValue:
    """It receives nothing more; its delivery log stays."""
    _own_recipient(recipient_id)
    runtime = current_runtime()
    remove_recipient(runtime.store, runtime.secrets, recipient_id)
    return {"removed": True}


@bp.post("/agency/recipients/<recipient_id>/mutes")
@operation("Mute, or snooze for some hours, a brand's alerts of one type for a recipient.", response="Recipient",
           body=MuteBody, errors=(400, 403, 404), tag="agency")
def mutes_add(recipient_id: str) -> ResponseReturnValue:
    """``*`` stands for every brand or every type; the same brand and type again replaces the mute."""
    _own_recipient(recipient_id)
    body = json_body(MuteBody)
    now = current_now()
    until = now + timedelta(hours=body.snooze_hours) if body.snooze_hours else None
    try:
        return mute(current_runtime().store, recipient_id, brand_id=body.brand_id, alert_type=body.alert_type,
                    until=until, now=now)
    except BadRecipient as e:
        raise ApiError(400, "invalid_mute", str(e)) from None


@bp.delete("/agency/recipients/<recipient_id>/mutes")
@operation("Lift a mute or snooze.", response="Recipient", errors=(400, 403, 404), tag="agency",
           query={"brand_id": {"schema": {"type": "string"}, "description": "Brand id (default *)."},
                  "alert_type": {"schema": {"type": "string"}, "description": "Alert type (default *)."}})
def mutes_remove(recipient_id: str) -> ResponseReturnValue:
    """404 when there is no such mute."""
    _own_recipient(recipient_id)
    try:
        return unmute(current_runtime().store, recipient_id, brand_id=request.args.get("brand_id", "*"),
                      alert_type=request.args.get("alert_type", "*"), now=current_now())
    except BadRecipient as e:
        raise ApiError(404, "unknown_mute", str(e)) from None


def _token() -> tuple[str, str]:
    """The recipient and kind the request's signed token names (400 when it is not valid)."""
    try:
        return read_token(link_key(current_runtime().secrets), request.args.get("token", ""))
    except BadToken as e:
        raise ApiError(400, "invalid_token", str(e)) from None
    except NotFound:
        raise ApiError(503, "not_configured", "unsubscribe links are not configured on this deployment") from None


@bp.get("/notify/unsubscribe")
@operation("What an unsubscribe link would stop (changes nothing).", response="Unsubscribed", errors=(400,),
           public=True, tag="notify", query={"token": {"schema": {"type": "string"}, "required": True,
                                                       "description": "The token of the e-mail's link."}})
def unsubscribe_get() -> ResponseReturnValue:
    """Only reads: mail scanners follow links, and a GET must not unsubscribe anyone. The page's
    ``/unsubscribe`` screen shows this and asks for the click that POSTs."""
    recipient_id, kind = _token()
    try:
        gone = list(get_recipient(current_runtime().store, recipient_id).get("unsubscribed") or [])
    except BadRecipient:
        gone = ["alerts", "digest"]  # removed since the e-mail was sent: it receives nothing either way
    return {"recipient_id": recipient_id, "kind": kind, "unsubscribed": gone}


@bp.post("/notify/unsubscribe")
@operation("Unsubscribe: the page's button, and RFC 8058's one-click that a mail client's own button sends.",
           response="Unsubscribed", errors=(400,), public=True, tag="notify",
           query={"token": {"schema": {"type": "string"}, "required": True,
                            "description": "The token of the e-mail's link."}})
def unsubscribe_post() -> ResponseReturnValue:
    """Idempotent. The body (``List-Unsubscribe=One-Click``, or none) carries nothing more: the token decides."""
    recipient_id, kind = _token()
    try:
        doc = unsubscribe(current_runtime().store, recipient_id, kind, current_now())
    except BadRecipient:
        return {"recipient_id": recipient_id, "kind": kind, "unsubscribed": ["alerts", "digest"]}
    return {"recipient_id": recipient_id, "kind": kind, "unsubscribed": doc["unsubscribed"]}


@bp.post("/notify/slack/actions")
@operation("Slack's interactivity requests: Accept or Dismiss a digest's top action.", response="SlackActionResult",
           errors=(400, 401), public=True, tag="notify")
def slack_actions() -> ResponseReturnValue:
    """Authenticated by Slack's request signature (``X-Slack-Signature``, ``X-Slack-Request-Timestamp``):
    401 when it does not match or the request is older than five minutes. The outcome is also posted
    to the interaction's ``response_url``."""
    runtime = current_runtime()
    raw = request.get_data(cache=True)
    try:
        secret = slack.signing_secret(runtime.secrets)
    except NotFound:
        raise ApiError(401, "not_configured", "Slack interactivity is not configured (notify-slack-signing-secret)") \
            from None
    try:
        slack.verify_request(secret, raw, request.headers.get("X-Slack-Request-Timestamp"),
                             request.headers.get("X-Slack-Signature"), current_now())
    except slack.SignatureError as e:
        raise ApiError(401, "stale_request" if e.reason == "stale" else "bad_signature", str(e)) from None
    try:
        payload = json.loads(request.form.get("payload", ""))
        action = payload["actions"][0]
        action_id = str(action["action_id"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise ApiError(400, "bad_payload", "the body must be payload=<a block_actions JSON object>") from None
    if action_id not in ("accept", "dismiss"):
        return {"ok": True, "action": None, "message": None}  # a link button: Slack only wants the 200
    message = _act(action_id, action.get("value"), str((payload.get("user") or {}).get("id") or "unknown"))
    response_url = payload.get("response_url")
    if response_url:
        try:
            slack.respond(runtime.settings, str(response_url), message)
        except SendError as e:
            raise ApiError(400, "bad_response_url", str(e)) from None
    return {"ok": True, "action": action_id, "message": message}


def _act(action_id: str, value: Any, user: str) -> str:
    """Carry out Accept or Dismiss; the sentence Slack shows."""
    try:
        target = json.loads(str(value))
        brand_id, rec_id = str(target["brand_id"]), str(target["rec_id"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "bad_payload", "the action's value must name brand_id and rec_id") from None
    runtime = current_runtime()
    try:
        owner, rec = find_recommendation(runtime.store, rec_id)
    except NotFoundError:
        owner, rec = "", {}
    if owner != brand_id:
        raise ApiError(400, "unknown_recommendation", f"brand {brand_id!r} has no recommendation {rec_id!r}")
    who = f"slack:{user}"
    try:
        if action_id == "accept":
            out = budget_actions.accept(runtime, rec_id, requested_by=who)
        else:
            out = budget_actions.dismiss(runtime, rec_id, "dismissed from Slack", requested_by=who)
    except ConflictError as e:
        return f"Not done: {e}"
    except RetriesExhausted:
        return "Not done: an ad platform kept failing; try again from the page."
    verb = "Accepted" if action_id == "accept" else "Dismissed"
    changed = "" if out.get("changed", True) else " (it already was)"
    return f"{verb} by <@{user}>{changed}: {rec.get('action')}"
