"""The onboarding wizard's API: its steps and their state, the first sync's progress, the plan (billing).

``GET /api/brands/<id>/onboarding`` answers the wizard's steps in order — install or sign in, connect
Shopify, subscribe, connect ad accounts, first sync, first dashboard — each ``done``, ``current``, ``todo``
or ``error`` (with what to do), worked out from what the system holds, so the wizard resumes wherever
the merchant left it. ``GET …/sync-progress`` is the live view of the first sync
(:mod:`tower.sync.progress`). ``GET …/billing`` and ``POST …/billing/subscribe`` are the plan
(:mod:`tower.billing`); ``GET /shopify/billing/return`` is where Shopify sends the merchant after its
confirmation page: the status is read back from Shopify, never taken from the query.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from tower import billing, names
from tower.api.auth import check_scope
from tower.api.brands import brand_info
from tower.api.embedded import embedded_shop, is_session_token
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime
from tower.connectors.retry import ConnectorError
from tower.ports import NotFound
from tower.runtime import Runtime
from tower.sync import progress
from tower.sync.connect import NotConnected, shopify_integration
from tower.sync.outcomes import document, first_syncs_pending

log = logging.getLogger(__name__)

bp = Blueprint("onboarding", __name__)
BRAND = "/api/brands/<brand_id>"
STEPS = (
    ("install", "Install or sign in"),
    ("shopify", "Connect Shopify"),
    ("subscribe", "Subscribe"),
    ("ads", "Connect ad accounts"),
    ("sync", "First sync"),
    ("dashboard", "First dashboard"),
)
RECONNECT = ("needs_reauth", "needs_reconnect")
_RETURN_QUERY = {
    "brand_id": {"schema": {"type": "string"}, "description": "The brand the subscription is for."},
    "charge_id": {"schema": {"type": "string"}, "description": "The charge Shopify's confirmation page handled "
                  "(informational: the status is read from Shopify)."},
    "embedded": {"schema": {"type": "string"}, "description": "1 inside the Shopify admin's frame (its launch "
                 "query): the wizard it redirects to stays embedded, with shop and host."},
    "shop": {"schema": {"type": "string"}, "description": "The shop whose admin frames the return."},
    "host": {"schema": {"type": "string"}, "description": "The admin's host parameter, passed on to App Bridge."},
}


def _error(e: billing.BillingError) -> ApiError:
    return ApiError(e.status, e.code, e.message)


def _brand(brand_id: str) -> dict[str, Any]:
    """403 unless the caller covers the brand, 404 when it does not exist."""
    check_scope(current_caller(), brand_id)
    return brand_info(current_runtime(), brand_id, current_now())


def _shop_client(runtime: Runtime, brand_id: str) -> Any:
    """The store's Admin API client on its offline token.

    Raises:
        ApiError: 409 when the store is not connected (or its token is gone).
    """
    from tower.connectors.shopify.client import ShopifyClient  # lazy: the connector loads ShopifyAPI
    from tower.sync.shopify_tokens import TokenRefreshFailed, fresh_token  # lazy: with the connector

    try:
        integration = shopify_integration(runtime.warehouse, brand_id)
        token = fresh_token(runtime.settings, runtime.secrets, brand_id, integration["secret_ref"])
    except (NotConnected, TokenRefreshFailed) as e:
        raise ApiError(409, "shopify_not_connected", f"{e}; install the app from Shopify first") from None
    except NotFound:
        raise ApiError(409, "shopify_not_connected",
                       "the store's token is missing; install the app from Shopify again") from None
    s = runtime.settings
    return ShopifyClient(integration["account_id"], token, api_version=s.shopify_api_version,
                         origin=s.shopify_api_origin, timeout=s.shopify_timeout_seconds)


def _integrations(runtime: Runtime, brand_id: str) -> list[dict[str, Any]]:
    return runtime.warehouse.rows(
        "SELECT platform, account_id, status, last_synced_at FROM integrations "
        "WHERE brand_id = @brand_id ORDER BY platform, account_id", {"brand_id": brand_id})


def _step(step_id: str, title: str, state: str, detail: str, error: dict[str, str] | None = None,
          **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "title": title, "state": state, "detail": detail, "error": error, **extra}


def onboarding_state(runtime: Runtime, brand_id: str, now: datetime) -> dict[str, Any]:
    """The wizard's steps for a brand, each ``done`` | ``todo`` | ``error``; the first not done is ``current``."""
    rows = _integrations(runtime, brand_id)
    titles = dict(STEPS)
    synced, sync_step = _sync_step(runtime, brand_id, rows, titles["sync"])
    steps = [_step("install", titles["install"], "done", "Signed in"),
             _shopify_step(rows, titles["shopify"]),
             _subscribe_step(runtime, brand_id, titles["subscribe"]),
             _ads_step(rows, titles["ads"]),
             sync_step,
             _step("dashboard", titles["dashboard"], "done" if synced else "todo",
                   "Your figures are ready" if synced else "After the first sync")]
    current = next((s for s in steps if s["state"] != "done"), None)
    if current is not None:
        current["state"] = "current" if current["state"] == "todo" else current["state"]
    return {"brand_id": brand_id, "current": current["id"] if current else None, "steps": steps,
            "complete": current is None}


def _shopify_step(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    shop = next((r for r in rows if r["platform"] == "shopify"), None)
    if shop is None:
        return _step("shopify", title, "todo", "Install the app from your Shopify admin")
    if shop["status"] != "active":
        return _step("shopify", title, "error", f"{shop['account_id']} is {shop['status']}",
                     {"code": str(shop["status"]), "message": "The store is not connected",
                      "fix": f"Install the app again: /shopify/install?shop={shop['account_id']}"})
    return _step("shopify", title, "done", str(shop["account_id"]))


def _subscribe_step(runtime: Runtime, brand_id: str, title: str) -> dict[str, Any]:
    plan = billing.plan(runtime.store, brand_id)
    status = str(plan.get("status"))
    plan_view = {k: plan.get(k) for k in ("status", "name", "trial_days", "current_period_end", "test")}
    if status in billing.ENTITLED:
        detail = "Not billed through Shopify" if status == "exempt" else f"{plan.get('name')}: active"
        return _step("subscribe", title, "done", detail, plan=plan_view)
    if status in ("declined", "cancelled", "expired", "frozen"):
        return _step("subscribe", title, "error", f"The plan is {status}",
                     {"code": f"plan_{status}", "message": f"The subscription is {status}",
                      "fix": billing.fix_for(status)}, plan=plan_view)
    settings = runtime.settings
    by = billing.approve_by(plan)
    detail = (f"Waiting for your approval in Shopify (before {by.strftime('%Y-%m-%d %H:%M')} UTC)" if by else
              "Waiting for your approval in Shopify") if status == "pending" else \
        f"{settings.billing_plan_name}: {settings.billing_price_amount} " \
        f"{settings.billing_currency} every 30 days, {settings.billing_trial_days} days free"
    return _step("subscribe", title, "todo", detail, plan=plan_view)


def _ads_step(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    ads = [r for r in rows if r["platform"] in names.AD_PLATFORMS]
    platforms = {p: [r for r in ads if r["platform"] == p] for p in names.AD_PLATFORMS}
    broken = [r for r in ads if r["status"] in RECONNECT]
    ad_view = {p: [{"account_id": r["account_id"], "status": r["status"]} for r in accounts]
               for p, accounts in platforms.items()}
    if broken:
        return _step("ads", title, "error", f"{len(broken)} account(s) need reconnecting",
                     {"code": "needs_reconnect", "message": "A platform no longer accepts the access you gave",
                      "fix": f"Connect {broken[0]['platform']} again"}, platforms=ad_view)
    if any(r["status"] == "active" for r in ads):
        connected = sorted({r["platform"] for r in ads if r["status"] == "active"})
        return _step("ads", title, "done", ", ".join(connected), platforms=ad_view)
    return _step("ads", title, "todo", "Connect Meta, TikTok or Google Ads", platforms=ad_view)


def _sync_step(runtime: Runtime, brand_id: str, rows: list[dict[str, Any]],
               title: str) -> tuple[bool, dict[str, Any]]:
    """(whether the first syncs are done, the sync step)."""
    active = [r for r in rows if r["status"] == "active" and r["platform"] in names.PLATFORMS]
    pending = first_syncs_pending(runtime.warehouse, runtime.store, brand_id)
    failed = [f"{r['platform']}/{r['account_id']}" for r in active if r["last_synced_at"] is None and
              (document(runtime.store, brand_id, r["platform"], r["account_id"]).get("last_sync") or {}).get("status")
              in ("failed", "needs_reauth")]
    synced = bool(active) and not pending and any(r["last_synced_at"] is not None for r in active)
    if failed:
        return synced, _step("sync", title, "error", ", ".join(failed),
                             {"code": "sync_failed", "message": f"The first sync of {failed[0]} failed",
                              "fix": "See the progress below for the reason; it is retried at the next hourly round"})
    if synced:
        return synced, _step("sync", title, "done", "Every connected account has synced")
    return synced, _step("sync", title, "todo",
                         f"{len(pending)} account(s) syncing" if pending else "Starts once the accounts are connected")


def start_first_shopify_sync(runtime: Runtime, brand_id: str) -> str | None:
    """Queue the store's first sync once the plan is active (the task id dedups a second return)."""
    rows = [r for r in _integrations(runtime, brand_id) if r["platform"] == "shopify" and r["status"] == "active"]
    if not rows or rows[0]["last_synced_at"] is not None:
        return None
    return runtime.tasks.enqueue(names.QUEUE_SYNC, names.SYNC_TASKS["shopify"],
                                 {"brand_id": brand_id, "platform": "shopify"},
                                 task_id=f"first-sync-{brand_id}-shopify")


@bp.get(f"{BRAND}/onboarding")
@operation("The onboarding wizard's steps and their state (resumable).", response="Onboarding", errors=(404,),
           tag="onboarding")
def get_onboarding(brand_id: str) -> ResponseReturnValue:
    """Steps in order; ``current`` is the first not done; a step in ``error`` says what to do (``fix``)."""
    _brand(brand_id)
    return onboarding_state(current_runtime(), brand_id, current_now())


@bp.get(f"{BRAND}/sync-progress")
@operation("The first sync's progress per platform: stage, rows, time left.", response="SyncProgress",
           errors=(404,), tag="onboarding")
def get_sync_progress(brand_id: str) -> ResponseReturnValue:
    """One entry per platform the brand has connected (Shopify first), written as the syncs go."""
    _brand(brand_id)
    runtime = current_runtime()
    connected = {r["platform"] for r in _integrations(runtime, brand_id)}
    platforms = [p for p in names.PLATFORMS if p in connected]
    return {"brand_id": brand_id, "platforms": progress.report(runtime.store, brand_id, platforms, current_now())}


@bp.get(f"{BRAND}/billing")
@operation("The brand's plan: status, trial, current period end.", response="BillingPlan", errors=(404,),
           tag="onboarding")
def get_billing(brand_id: str) -> ResponseReturnValue:
    """``exempt`` for a brand Shopify does not bill through this app (connected by the operator)."""
    _brand(brand_id)
    runtime = current_runtime()
    plan = billing.plan(runtime.store, brand_id)
    if plan.get("status") == "pending":
        # a charge awaiting approval may have been approved, declined or expired (two days) since
        try:
            plan = billing.refresh(runtime.settings, runtime.store, lambda: _shop_client(runtime, brand_id),
                                   brand_id, now=current_now())
        except (billing.BillingError, ApiError, ConnectorError) as e:
            log.warning("billing status not refreshed", extra={"brand_id": brand_id, "error": type(e).__name__})
    s = runtime.settings
    return {"brand_id": brand_id, "status": plan.get("status"), "name": plan.get("name") or s.billing_plan_name,
            "price": {"amount": str(s.billing_price_amount), "currency": s.billing_currency, "interval": "EVERY_30_DAYS"},
            "trial_days": plan.get("trial_days", s.billing_trial_days), "test": plan.get("test", s.billing_test),
            "current_period_end": plan.get("current_period_end"), "subscription_id": plan.get("subscription_id")}


@bp.post(f"{BRAND}/billing/subscribe")
@operation("Subscribe to the plan through Shopify's Billing API: answers the confirmation URL.",
           response="BillingSubscribe", body_required=False, errors=(404, 409, 422, 502, 503), tag="onboarding")
def post_subscribe(brand_id: str) -> ResponseReturnValue:
    """Open the ``confirmation_url`` in the browser: Shopify asks the merchant to approve the charge."""
    _brand(brand_id)
    runtime = current_runtime()
    # from inside the admin (a session token), Shopify's approval page returns into the admin's frame
    shop = current_caller().subject if is_session_token(request.headers.get("Authorization")) else None
    try:
        return billing.subscribe(runtime.settings, runtime.store, lambda: _shop_client(runtime, brand_id), brand_id,
                                 now=current_now(), shop=shop)
    except billing.BillingError as e:
        raise _error(e) from None
    except ConnectorError as e:
        raise ApiError(502, "shopify_unavailable", f"Shopify did not create the subscription; try again ({e})") from None


@bp.get(billing.RETURN_PATH)
@operation("Shopify's return after its confirmation page: read the plan's status, continue the wizard.",
           response="Redirect to /onboarding/{brand_id} (the ad accounts step once the plan is active).",
           errors=(400, 404), query=_RETURN_QUERY, public=True, tag="onboarding", redirect=True)
def billing_return() -> ResponseReturnValue:
    """Public: Shopify sends the browser here. The query is trusted for nothing but the brand to look
    at: the status is read from Shopify with the store's own token."""
    brand_id = request.args.get("brand_id", "")
    runtime = current_runtime()
    if not brand_id:
        raise ApiError(400, "missing_brand_id", "brand_id is required")
    if billing.plan(runtime.store, brand_id).get("status") == "exempt":
        raise ApiError(404, "not_found", f"brand {brand_id!r} is not billed through Shopify")
    shop = embedded_shop(request.args)
    # inside the admin's frame (the embedded return): the wizard stays embedded, with App Bridge
    frame = {"embedded": "1", "shop": shop, "host": request.args.get("host", "")} if shop else {}
    page = f"/onboarding/{brand_id}"
    try:
        record = billing.refresh(runtime.settings, runtime.store, lambda: _shop_client(runtime, brand_id), brand_id,
                                 now=current_now(), returned=True)
    except (billing.BillingError, ApiError) as e:
        return redirect(f"{page}?{urlencode({'step': 'subscribe', 'error': e.code, **frame})}", code=302)
    except ConnectorError:
        return redirect(f"{page}?{urlencode({'step': 'subscribe', 'error': 'shopify_unavailable', **frame})}",
                        code=302)
    if record.get("status") != "active":
        problem = "plan_" + str(record.get("status"))
        return redirect(f"{page}?{urlencode({'step': 'subscribe', 'error': problem, **frame})}", code=302)
    start_first_shopify_sync(runtime, brand_id)
    return redirect(f"{page}?{urlencode({'step': 'ads', **frame})}", code=302)
