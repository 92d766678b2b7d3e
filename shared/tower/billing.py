"""The brand's plan, billed through Shopify's Billing API: subscribe, confirm, keep the status current.

Shopify bills an App Store app's merchants itself. :func:`subscribe` calls ``appSubscriptionCreate`` with one
recurring line item (``TOWER_BILLING_PLAN_NAME``, ``TOWER_BILLING_PRICE_AMOUNT`` in
``TOWER_BILLING_CURRENCY`` every 30 days), ``TOWER_BILLING_TRIAL_DAYS`` and ``test`` from
``TOWER_BILLING_TEST``; the merchant approves the charge on the ``confirmationUrl`` Shopify answers, and
Shopify sends them back to ``<TOWER_SHOPIFY_APP_URL>/shopify/billing/return?brand_id=…`` (with ``charge_id``).
The status is then read back, never taken from the browser: :func:`refresh` asks
``currentAppInstallation { activeSubscriptions }`` and, for a subscription not active, its own status
(``node(id:)``), and :func:`apply_webhook` takes Shopify's ``app_subscriptions/update`` deliveries (a
cancellation, a freeze for non-payment, an expiry). Shopify expires a charge the merchant has not
approved within two days of its creation (``EXPIRED``, terminal): the merchant then subscribes again.

The record is ``billing/<brand_id>`` in the document store: ``status`` (``none`` | ``pending`` | ``active`` |
``declined`` | ``cancelled`` | ``expired`` | ``frozen``), ``subscription_id``, ``name``, ``trial_days``,
``current_period_end``, ``test``, ``pending_since`` (when the charge awaiting approval was created),
``updated_at``.

What a brand may do without an active plan — the one place this is decided
--------------------------------------------------------------------------
* **Billed brands** are the ones installed from Shopify (:func:`open_record` runs in the install): they
  need an active plan to see what the product makes of their data. Without one they may still sign in,
  go through the onboarding wizard (connect the store, see the ``subscribe`` step, subscribe), connect
  ad accounts, and watch the first sync's progress, so nothing they set up is lost while they decide;
  the brand's dashboard, alerts, recommendations, their actions and questions answer 402
  ``subscription_required`` naming the page where they subscribe (:func:`require_plan`, called by the
  brand routes' ``before_request``).
* **Brands connected by the operator** (``tower connect``, the demo) have no billing record: Shopify does not
  bill them through this app (they never installed it), so they are ``exempt`` and nothing is held back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from tower.config import Settings
from tower.ports import DocumentStore

log = logging.getLogger(__name__)

COLLECTION = "billing"
RETURN_PATH = "/shopify/billing/return"
#: Statuses under which the brand's data is served.
ENTITLED = frozenset({"active", "exempt"})
STATUSES = ("none", "pending", "active", "declined", "cancelled", "expired", "frozen")
_SHOPIFY_STATUS = {"PENDING": "pending", "ACCEPTED": "pending", "ACTIVE": "active", "DECLINED": "declined",
                   "CANCELLED": "cancelled", "EXPIRED": "expired", "FROZEN": "frozen"}
_CREATE = """mutation Subscribe($name: String!, $lineItems: [AppSubscriptionLineItemInput!]!, $returnUrl: URL!,
  $trialDays: Int, $test: Boolean) {
  appSubscriptionCreate(name: $name, lineItems: $lineItems, returnUrl: $returnUrl, trialDays: $trialDays,
                        test: $test) {
    appSubscription { id name status trialDays test }
    confirmationUrl
    userErrors { field message }
  }
}"""
#: Shopify expires a charge not approved within two days of being created (``AppSubscriptionStatus.EXPIRED``).
APPROVAL_WINDOW = timedelta(days=2)
_ONE = """query Subscription($id: ID!) { node(id: $id) { ... on AppSubscription { id status } } }"""
_ACTIVE = """query ActiveSubscriptions {
  currentAppInstallation { activeSubscriptions { id name status trialDays currentPeriodEnd test } }
}"""


class BillingError(Exception):
    """Subscribing could not go on: an HTTP status, a code and what to do."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AdminClient(Protocol):
    """What billing needs of the store's Admin API client (:class:`tower.connectors.shopify.client.ShopifyClient`)."""

    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Any: ...


def doc_path(brand_id: str) -> str:
    return f"{COLLECTION}/{brand_id}"


def plan(store: DocumentStore, brand_id: str) -> dict[str, Any]:
    """The brand's billing record; ``{"status": "exempt"}`` for a brand Shopify does not bill through this app."""
    doc = store.get(doc_path(brand_id))
    return dict(doc) if doc else {"status": "exempt"}


def is_entitled(store: DocumentStore, brand_id: str) -> bool:
    """Whether the brand's data may be served (an active plan, or not billed through Shopify)."""
    return str(plan(store, brand_id).get("status")) in ENTITLED


def subscribe_page(brand_id: str) -> str:
    """Where a merchant subscribes: the wizard's subscribe step."""
    return f"/onboarding/{brand_id}?step=subscribe"


def require_plan(store: DocumentStore, brand_id: str) -> None:
    """Raise unless the brand may be served its data.

    Raises:
        BillingError: 402 ``subscription_required`` naming the subscribe page.
    """
    record = plan(store, brand_id)
    status = str(record.get("status"))
    if status in ENTITLED:
        return
    raise BillingError(402, "subscription_required",
                       f"brand {brand_id!r} {what_to_do(record, brand_id)} to see its figures")


def approve_by(record: Mapping[str, Any]) -> datetime | None:
    """When a pending charge lapses unapproved (None: not pending, or created before this was recorded)."""
    since = record.get("pending_since")
    if record.get("status") != "pending" or not since:
        return None
    at = since if isinstance(since, datetime) else datetime.fromisoformat(str(since))
    return at + APPROVAL_WINDOW


#: What the merchant does about a plan that lapsed, as the wizard's step says it.
_FIX = {"expired": "Subscribe again: Shopify drops a charge that is not approved within two days, so approve the "
                   "new one in Shopify",
        "declined": "Subscribe again: Shopify asks you to approve the charge",
        "cancelled": "Subscribe again: Shopify asks you to approve the charge",
        "frozen": "Settle the store's bill in Shopify: the plan resumes once it is paid"}


def fix_for(status: str) -> str:
    """The wizard's "what to do" for a plan that is not active (declined, cancelled, expired, frozen)."""
    return _FIX.get(status, "Subscribe: Shopify asks you to approve the charge")


def what_to_do(record: Mapping[str, Any], brand_id: str) -> str:
    """The plan's state and what the merchant does about it, in words (the 402 and the wizard say it)."""
    status, page = str(record.get("status")), subscribe_page(brand_id)
    if status == "pending":
        by = approve_by(record)
        deadline = f" before {by.strftime('%Y-%m-%d %H:%M')} UTC" if by else ""
        return (f"has a subscription waiting for approval: approve the charge in Shopify{deadline} "
                f"(Shopify drops it after two days), or subscribe again at {page}")
    if status == "expired":
        return (f"has a subscription that expired unapproved (Shopify drops a charge not approved within two "
                f"days): subscribe again at {page} and approve the charge")
    if status == "declined":
        return f"declined the subscription in Shopify: subscribe again at {page} and approve the charge"
    if status == "frozen":
        return "has its subscription frozen by Shopify for non-payment: settle the store's bill in Shopify"
    if status == "cancelled":
        return f"has a cancelled plan: subscribe again at {page}"
    return f"has no plan yet: subscribe at {page}"


def open_record(store: DocumentStore, brand_id: str, now: datetime) -> None:
    """A brand installed from Shopify is billed: give it a ``none`` record (kept as is on a reinstall)."""
    store.create(doc_path(brand_id), {"brand_id": brand_id, "status": "none", "updated_at": now})


SHOPIFY_ADMIN = "https://admin.shopify.com"


def admin_app_url(settings: Settings, shop: str, path: str = "") -> str:
    """The embedded app's page ``path`` (with its query) inside ``shop``'s admin: what Shopify recommends
    as the way back into an embedded app from a top-level page (its charge approval, a platform's consent).

    ``https://admin.shopify.com/store/<store handle>/apps/<client id><path>``: the admin frames the app's
    URL plus ``path`` and the query, with its launch query added. With ``TOWER_SHOPIFY_API_ORIGIN`` set
    (the embedded default: the sandbox store plays Shopify) it is the sandbox's admin at that origin.
    """
    origin = settings.shopify_api_origin.strip().rstrip("/") or SHOPIFY_ADMIN
    handle = shop.removesuffix(".myshopify.com")
    return f"{origin}/store/{quote(handle)}/apps/{quote(settings.shopify_client_id.strip())}{path}"


def return_url(settings: Settings, brand_id: str, shop: str | None = None) -> str:
    """Where Shopify sends the merchant after the confirmation page: our return route; for a merchant
    subscribing from inside the admin (``shop``), that route inside the admin's frame (:func:`admin_app_url`),
    so the approval page comes back to the embedded app."""
    base = settings.shopify_app_url.strip().rstrip("/")
    if not base:
        raise BillingError(503, "app_not_configured", "the Shopify app is not configured: set TOWER_SHOPIFY_APP_URL")
    path = f"{RETURN_PATH}?{urlencode({'brand_id': brand_id})}"
    return admin_app_url(settings, shop, path) if shop else f"{base}{path}"


def subscribe(settings: Settings, store: DocumentStore, client: Callable[[], AdminClient], brand_id: str, *,
              now: datetime, shop: str | None = None) -> dict[str, Any]:
    """Create the plan's subscription; the merchant approves it at the answer's ``confirmation_url``.

    An active plan answers as it is (no second charge); a pending one is replaced by a new one, since
    Shopify's confirmation page for the old one may have expired.

    Args:
        client: Opens the store's Admin API client (its offline token), only when Shopify is called.
        shop: The merchant subscribes from inside this shop's admin (the embedded app): the approval
            page returns there (:func:`return_url`).

    Raises:
        BillingError: 409 for a brand not billed through Shopify, 422 when Shopify refuses (its message),
            503 when the app URL is not set.
    """
    record = plan(store, brand_id)
    if record.get("status") == "exempt":
        raise BillingError(409, "not_billed", f"brand {brand_id!r} was connected by the operator, not installed "
                           "from Shopify: Shopify does not bill it through this app")
    if record.get("status") == "active":
        return {"status": "active", "confirmation_url": None, "subscription_id": record.get("subscription_id")}
    variables = {
        "name": settings.billing_plan_name,
        "lineItems": [{"plan": {"appRecurringPricingDetails": {
            "price": {"amount": str(settings.billing_price_amount), "currencyCode": settings.billing_currency},
            "interval": "EVERY_30_DAYS"}}}],
        "returnUrl": return_url(settings, brand_id, shop),
        "trialDays": settings.billing_trial_days,
        "test": settings.billing_test,
    }
    out = client().execute(_CREATE, variables).data["appSubscriptionCreate"]
    if out["userErrors"]:
        raise BillingError(422, "billing_refused", f"Shopify refused the subscription: {out['userErrors'][0]['message']}")
    sub = out["appSubscription"]
    store.set(doc_path(brand_id), {
        **record, "brand_id": brand_id, "status": "pending", "subscription_id": sub["id"], "name": sub["name"],
        "trial_days": sub["trialDays"], "test": sub["test"], "current_period_end": None, "pending_since": now,
        "updated_at": now})
    log.info("billing subscription created", extra={"brand_id": brand_id, "status": "pending"})
    return {"status": "pending", "confirmation_url": out["confirmationUrl"], "subscription_id": sub["id"]}


def refresh(settings: Settings, store: DocumentStore, client: Callable[[], AdminClient], brand_id: str, *,
            now: datetime, returned: bool = False) -> dict[str, Any]:
    """Read the plan's status back from Shopify (``activeSubscriptions``) and record it.

    A subscription not among the active ones is read by id: Shopify says whether it is still pending,
    declined, expired (two days without approval), cancelled or frozen.

    Args:
        returned: The merchant just came back from the confirmation page: a pending subscription that is
            not active now was declined (Shopify's webhook says so too, maybe later).
    """
    record = plan(store, brand_id)
    if record.get("status") == "exempt":
        return record
    admin = client()
    active = admin.execute(_ACTIVE).data["currentAppInstallation"]["activeSubscriptions"]
    mine = next((s for s in active if s["id"] == record.get("subscription_id")), None) or next(
        (s for s in active if s["name"] == settings.billing_plan_name), None)
    if mine is not None:
        record.update({"status": "active", "subscription_id": mine["id"], "name": mine["name"],
                       "trial_days": mine["trialDays"], "test": mine["test"],
                       "current_period_end": mine["currentPeriodEnd"]})
    else:
        said = _status_of(admin, record.get("subscription_id")) if record.get("status") in ("pending", "active") \
            else None
        if said not in (None, "pending", "active"):
            record.update({"status": said, "current_period_end": None})
        elif record.get("status") == "active" or (returned and record.get("status") == "pending"):
            record.update({"status": "declined" if record.get("status") == "pending" else "cancelled",
                           "current_period_end": None})
    if record.get("status") != "pending":
        record.pop("pending_since", None)
    record.update({"brand_id": brand_id, "updated_at": now})
    store.set(doc_path(brand_id), record)
    return record


def _status_of(admin: AdminClient, subscription_id: Any) -> str | None:
    """One subscription's status as Shopify reports it (None: no id, or Shopify does not know it)."""
    if not subscription_id:
        return None
    found = admin.execute(_ONE, {"id": str(subscription_id)}).data.get("node")
    return _SHOPIFY_STATUS.get(str((found or {}).get("status") or "").upper())


def apply_webhook(store: DocumentStore, brand_id: str, payload: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """An ``app_subscriptions/update`` delivery: record the subscription's new status.

    A delivery for another subscription than the brand's current one (an old declined charge) changes
    nothing; neither does one older than the last change recorded (deliveries can arrive out of order).

    Raises:
        ValueError: The body lacks ``app_subscription.admin_graphql_api_id`` or a known ``status``.
    """
    sub = payload.get("app_subscription")
    if not isinstance(sub, Mapping) or not sub.get("admin_graphql_api_id") or \
            str(sub.get("status") or "").upper() not in _SHOPIFY_STATUS:
        raise ValueError("app_subscription with admin_graphql_api_id and a known status is required")
    record = plan(store, brand_id)
    current = record.get("subscription_id")
    status = _SHOPIFY_STATUS[str(sub["status"]).upper()]
    if current and current != sub["admin_graphql_api_id"] and status != "active":
        return {"status": "ignored", "reason": "not the brand's current subscription"}
    changed_at = str(sub.get("updated_at") or "")
    if changed_at and str(record.get("shopify_updated_at") or "") > changed_at:
        return {"status": "ignored", "reason": "an older change than the one recorded"}
    record.update({"brand_id": brand_id, "status": status, "subscription_id": sub["admin_graphql_api_id"],
                   "name": sub.get("name") or record.get("name"), "shopify_updated_at": changed_at or None,
                   "updated_at": now})
    if status != "active":
        record["current_period_end"] = None
    if status != "pending":
        record.pop("pending_since", None)
    store.set(doc_path(brand_id), record)
    return {"status": "processed", "plan_status": status}
