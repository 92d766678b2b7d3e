"""App billing in the sandbox shop: ``appSubscriptionCreate``, the confirmation page, ``activeSubscriptions``.

What Shopify does and this keeps (Admin API 2026-04, ``AppSubscription``):

* ``appSubscriptionCreate(name, lineItems, trialDays, returnUrl, test, replacementBehavior)`` makes a
  ``PENDING`` subscription and answers its ``confirmationUrl``: a page on the shop's admin where the
  merchant approves or declines the charge. A line item needs a plan (recurring or usage); a recurring
  price must be above zero; ``returnUrl`` must be an absolute URL; the app may have one pricing plan per
  type. Problems are ``userErrors``, never GraphQL errors.
* Approving makes it ``ACTIVE`` (a ``STANDARD`` replacement cancels the app's other active one), sets
  ``currentPeriodEnd`` thirty days (the ``EVERY_30_DAYS`` interval) after the trial ends, and sends the
  browser to ``returnUrl`` with ``charge_id`` appended; declining makes it ``DECLINED`` and returns the
  same way. Each change is delivered as an ``app_subscriptions/update`` webhook when the shop has a
  webhook sender, with the documented body (``app_subscription`` with ``admin_graphql_api_id``, ``name``,
  ``status``, ``admin_graphql_api_shop_id``, ``created_at``, ``updated_at``, ``currency``).
* A charge left ``PENDING`` for two days after it was created becomes ``EXPIRED`` (Shopify's
  ``AppSubscriptionStatus``: "wasn't approved by the merchant within two days of being created. This is
  a terminal state"), with its ``app_subscriptions/update`` webhook; its confirmation page then says so.
  The sandbox applies the rule on the shop's clock whenever the shop's billing is looked at (a GraphQL
  request, the confirmation page), so a test moves the clock and sees it with no wait.
* ``currentAppInstallation { activeSubscriptions }`` lists the ``ACTIVE`` ones; ``node(id:)`` reads any
  one of the app's subscriptions (its ``status`` included); ``appSubscriptionCancel`` cancels one.

The confirmation URL has Shopify's shape (``/admin/charges/<app>/<id>/RecurringApplicationCharge/
confirm_recurring_application_charge?signature=…``); its signature is a per-charge random value, so
only the page the mutation handed out can approve the charge.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tower_dev.sandboxes.shopify_store.state import gid, gid_number

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.api import RequestContext
    from tower_dev.sandboxes.shopify_store.server import SandboxShop

CONFIRM_PATH = "/admin/charges/{app}/{id}/RecurringApplicationCharge/confirm_recurring_application_charge"
PERIOD = timedelta(days=30)
#: How long a merchant has to approve a charge before Shopify expires it.
APPROVAL_WINDOW = timedelta(days=2)


@dataclass
class Charge:
    """One app subscription."""

    id: int
    name: str
    price: Decimal
    currency: str
    interval: str
    trial_days: int
    return_url: str
    test: bool
    replacement: str
    created_at: datetime
    signature: str
    status: str = "PENDING"
    updated_at: datetime | None = None
    current_period_end: datetime | None = None


@dataclass
class Billing:
    """The app's subscriptions on one shop, and where their confirmation pages are served."""

    charges: dict[int, Charge] = field(default_factory=dict)
    #: The confirmation page's absolute URL for a charge (set by the server, which knows its origin).
    url_for: Callable[[Charge], str] = lambda c: CONFIRM_PATH.format(app="app", id=c.id)

    def active(self) -> list[Charge]:
        return [c for c in sorted(self.charges.values(), key=lambda c: c.id) if c.status == "ACTIVE"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def node(c: Charge) -> dict[str, Any]:
    """The ``AppSubscription`` object."""
    plan = {"__typename": "AppRecurringPricing", "interval": c.interval,
            "price": {"amount": str(c.price), "currencyCode": c.currency}, "discount": None,
            "planHandle": None}
    return {"__typename": "AppSubscription", "id": gid("AppSubscription", c.id), "name": c.name,
            "status": c.status, "test": c.test, "trialDays": c.trial_days, "returnUrl": c.return_url,
            "createdAt": _iso(c.created_at), "currentPeriodEnd": _iso(c.current_period_end),
            "lineItems": [{"__typename": "AppSubscriptionLineItem",
                           "id": gid("AppSubscriptionLineItem", c.id * 10 + 1),
                           "plan": {"__typename": "AppPlanV2", "pricingDetails": plan}, "usageRecords": None}]}


def _problem(name: str, line_items: list[dict[str, Any]], return_url: str, trial_days: int | None
             ) -> tuple[list[str], str] | None:
    if not name.strip():
        return ["name"], "Name can't be blank"
    parts = urlsplit(return_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ["returnUrl"], "Return url is invalid"
    if trial_days is not None and trial_days < 0:
        return ["trialDays"], "Trial days must be greater than or equal to 0"
    if not line_items:
        return ["lineItems"], "Line items can't be blank"
    kinds = [k for item in line_items for k, v in (item.get("plan") or {}).items() if v is not None]
    if len(kinds) != len(set(kinds)):
        return ["lineItems"], "Only one pricing plan of each type is allowed"
    if not kinds:
        return ["lineItems", "0", "plan"], "Plan must have a pricing details"
    return None


def expire_overdue(shop: SandboxShop) -> None:
    """Expire every charge still pending :data:`APPROVAL_WINDOW` after it was created (terminal)."""
    now = shop.state.now()
    for c in sorted(shop.billing.charges.values(), key=lambda c: c.id):
        if c.status == "PENDING" and now >= c.created_at + APPROVAL_WINDOW:
            change(shop, c, "EXPIRED")


def subscription(shop: SandboxShop, number: int) -> dict[str, Any] | None:
    """``node(id:)`` of an ``AppSubscription`` gid's number (None: not this app's on this shop)."""
    c = shop.billing.charges.get(number)
    return node(c) if c is not None else None


def fields(ctx: RequestContext) -> dict[str, Any]:
    """The root resolvers for app billing over one shop (overdue charges expired first)."""
    shop = ctx.shop
    expire_overdue(shop)
    billing: Billing = shop.billing
    state = ctx.state

    def create(info: Any, name: str, lineItems: list[dict[str, Any]], returnUrl: str, test: bool = False,
               trialDays: int | None = None, replacementBehavior: str = "STANDARD") -> dict[str, Any]:
        problem = _problem(name, lineItems, returnUrl, trialDays)
        recurring = next((i["plan"]["appRecurringPricingDetails"] for i in lineItems
                          if (i.get("plan") or {}).get("appRecurringPricingDetails")), None)
        price = Decimal(0)
        if problem is None and recurring is None:
            problem = ["lineItems"], "The sandbox bills recurring plans only"
        if problem is None and recurring is not None:
            try:
                price = Decimal(str(recurring["price"]["amount"]))
            except (InvalidOperation, KeyError, TypeError):
                price = Decimal(0)
            if price <= 0:
                problem = ["lineItems", "0", "plan", "appRecurringPricingDetails", "price"], \
                    "Price must be greater than 0"
        if problem is not None:
            return {"appSubscription": None, "confirmationUrl": None,
                    "userErrors": [{"field": problem[0], "message": problem[1]}]}
        assert recurring is not None
        c = Charge(id=state.new_id(), name=name, price=price, currency=str(recurring["price"]["currencyCode"]),
                   interval=str(recurring.get("interval") or "EVERY_30_DAYS"), trial_days=int(trialDays or 0),
                   return_url=returnUrl, test=bool(test), replacement=replacementBehavior,
                   created_at=state.now(), signature=secrets.token_urlsafe(24))
        c.updated_at = c.created_at
        billing.charges[c.id] = c
        return {"appSubscription": node(c), "confirmationUrl": billing.url_for(c), "userErrors": []}

    def cancel(info: Any, id: str, prorate: bool = False) -> dict[str, Any]:
        c = billing.charges.get(gid_number(id)) if id.startswith("gid://shopify/AppSubscription/") else None
        if c is None or c.status not in ("ACTIVE", "PENDING", "FROZEN"):
            return {"appSubscription": None,
                    "userErrors": [{"field": ["id"], "message": "Couldn't find the app subscription"}]}
        change(shop, c, "CANCELLED")
        return {"appSubscription": node(c), "userErrors": []}

    return {"appSubscriptionCreate": create, "appSubscriptionCancel": cancel}


def active_subscriptions(shop: SandboxShop) -> list[dict[str, Any]]:
    """``currentAppInstallation.activeSubscriptions``."""
    return [node(c) for c in shop.billing.active()]


def change(shop: SandboxShop, c: Charge, status: str) -> None:
    """Move a charge to a status, and tell the app (``app_subscriptions/update``)."""
    now = shop.state.now()
    c.status, c.updated_at = status, now
    if status == "ACTIVE":
        c.current_period_end = now + timedelta(days=c.trial_days) + PERIOD
    elif status != "FROZEN":
        c.current_period_end = None
    if shop.webhooks is not None:
        shop.webhooks.send("app_subscriptions/update", {"app_subscription": {
            "admin_graphql_api_id": gid("AppSubscription", c.id), "name": c.name, "status": c.status,
            "admin_graphql_api_shop_id": gid("Shop", shop.state.shop_id), "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at), "currency": c.currency, "capped_amount": None}})


def _find(shops: list[SandboxShop], charge_id: int, signature: str) -> tuple[SandboxShop, Charge] | None:
    for shop in shops:
        c = shop.billing.charges.get(charge_id)
        if c is not None and secrets.compare_digest(c.signature, signature):
            expire_overdue(shop)
            return shop, c
    return None


def _page(status: int, body: str) -> tuple[int, dict[str, str], bytes]:
    doc = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Approve subscription</title></head>"
           f"<body><main>{body}</main></body></html>")
    return status, {"Content-Type": "text/html; charset=utf-8"}, doc.encode()


def confirmation_page(shops: list[SandboxShop], charge_id: int, query: str) -> tuple[int, dict[str, str], bytes]:
    """``GET`` of a confirmation URL: the charge and two buttons (a form posting back to the same URL)."""
    signature = dict(parse_qsl(query)).get("signature", "")
    found = _find(shops, charge_id, signature)
    if found is None:
        return _page(404, "<h1>This charge does not exist</h1>")
    shop, c = found
    if c.status != "PENDING":
        return _page(409, f"<h1>This charge is already {html.escape(c.status.lower())}</h1>")
    trial = f"<p>Free trial: {c.trial_days} days</p>" if c.trial_days else ""
    test = "<p>Test charge: the store is not billed.</p>" if c.test else ""
    action = "?" + urlencode({"signature": signature})
    return _page(200, (
        f"<h1>Approve subscription</h1><p>{html.escape(shop.state.name)} · {html.escape(c.name)}</p>"
        f"<p>{c.price} {html.escape(c.currency)} every 30 days</p>{trial}{test}"
        f"<form method=post action='{html.escape(action)}'>"
        "<button name=decision value=approve>Approve</button> "
        "<button name=decision value=decline>Decline</button></form>"))


def decide(shops: list[SandboxShop], charge_id: int, query: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """``POST`` of a confirmation URL: approve or decline, then back to the app's return URL."""
    signature = dict(parse_qsl(query)).get("signature", "")
    found = _find(shops, charge_id, signature)
    if found is None:
        return _page(404, "<h1>This charge does not exist</h1>")
    shop, c = found
    decision = dict(parse_qsl(raw.decode("utf-8", "replace"))).get("decision")
    if decision not in ("approve", "decline"):
        return _page(400, "<h1>Choose approve or decline</h1>")
    if c.status != "PENDING":
        return _page(409, f"<h1>This charge is already {html.escape(c.status.lower())}</h1>")
    if decision == "approve":
        if c.replacement != "APPLY_ON_NEXT_BILLING_CYCLE":
            for other in shop.billing.active():
                change(shop, other, "CANCELLED")
        change(shop, c, "ACTIVE")
    else:
        change(shop, c, "DECLINED")
    sep = "&" if "?" in c.return_url else "?"
    return 302, {"Location": f"{c.return_url}{sep}{urlencode({'charge_id': str(c.id)})}"}, b""
