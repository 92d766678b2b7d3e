"""Automatic discounts in the sandbox shop: ``discountAutomaticBasicCreate``, ``discountAutomaticDeactivate``
and ``automaticDiscountNode``, as the 2026-04 Admin schema declares them.

What Shopify does and this keeps: the mutations need ``write_discounts`` (the read needs
``read_discounts``); a bad input is a ``userErrors`` entry (``field``, ``code``, ``message``) beside a
null node, never a top-level error; the status follows the dates (``SCHEDULED`` before ``startsAt``,
``ACTIVE`` until ``endsAt``, then ``EXPIRED``); deactivating sets ``endsAt`` to now (and a scheduled
discount's ``startsAt`` too), so it reads ``EXPIRED`` from then on; deactivating an expired one changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tower_dev.sandboxes.shopify_store.state import gid, gid_number

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.api import RequestContext

MAX_TITLE = 255


def _ts(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@dataclass
class Discount:
    """One automatic basic discount: a percentage off some products between two times."""

    id: int
    title: str
    percentage: float
    product_ids: tuple[int, ...]
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime = field(default_factory=lambda: datetime.min)

    def status(self, now: datetime) -> str:
        if now < self.starts_at:
            return "SCHEDULED"
        if self.ends_at is not None and now >= self.ends_at:
            return "EXPIRED"
        return "ACTIVE"


@dataclass
class Discounts:
    """The shop's automatic discounts, by number."""

    items: dict[int, Discount] = field(default_factory=dict)


def _error(field_path: list[str], code: str, message: str) -> dict[str, Any]:
    return {"field": field_path, "code": code, "message": message, "extraInfo": None}


def _node(d: Discount, now: datetime) -> dict[str, Any]:
    pct = d.percentage
    return {
        "__typename": "DiscountAutomaticNode",
        "id": gid("DiscountAutomaticNode", d.id),
        "automaticDiscount": {
            "__typename": "DiscountAutomaticBasic",
            "title": d.title,
            "status": d.status(now),
            "startsAt": _iso(d.starts_at),
            "endsAt": _iso(d.ends_at),
            "createdAt": _iso(d.created_at),
            "updatedAt": _iso(d.updated_at),
            "summary": f"{pct * 100:g}% off {len(d.product_ids)} product{'s' if len(d.product_ids) != 1 else ''}",
            "shortSummary": f"{pct * 100:g}% off",
            "asyncUsageCount": 0,
            "usageCount": 0,
            "recurringCycleLimit": 1,
            "tags": [],
            "discountClass": "PRODUCT",
            "discountClasses": ["PRODUCT"],
        },
    }


def _check(ctx: RequestContext, given: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The input's user errors, and its parsed values."""
    errors: list[dict[str, Any]] = []
    title = str(given.get("title") or "").strip()
    if not title:
        errors.append(_error(["automaticBasicDiscount", "title"], "BLANK", "Title can't be blank"))
    elif len(title) > MAX_TITLE:
        errors.append(_error(["automaticBasicDiscount", "title"], "TOO_LONG", "Title is too long"))
    starts, ends = _ts(given.get("startsAt")), _ts(given.get("endsAt"))
    if starts is None:
        errors.append(_error(["automaticBasicDiscount", "startsAt"], "BLANK", "Starts at can't be blank"))
    if starts is not None and ends is not None and ends <= starts:
        errors.append(_error(["automaticBasicDiscount", "endsAt"], "INVALID",
                             "Ends at needs to be after starts_at"))
    gets = given.get("customerGets") or {}
    pct = (gets.get("value") or {}).get("percentage")
    if pct is None or not 0 < float(pct) <= 1:
        errors.append(_error(["automaticBasicDiscount", "customerGets", "value", "percentage"], "VALUE_OUTSIDE_RANGE",
                             "Value must be between 0.0 and 1.0"))
    wanted = ((gets.get("items") or {}).get("products") or {}).get("productsToAdd") or []
    products = []
    for pid in wanted:
        n = gid_number(pid)
        p = ctx.state.products.get(n)
        if p is None or p.deleted_at is not None:
            errors.append(_error(["automaticBasicDiscount", "customerGets", "items", "products", "productsToAdd"],
                                 "INVALID", f"Product {pid} does not exist"))
        else:
            products.append(n)
    if not wanted:
        errors.append(_error(["automaticBasicDiscount", "customerGets", "items"], "BLANK",
                             "Items must have at least one product"))
    return errors, {"title": title, "starts": starts, "ends": ends, "pct": float(pct or 0), "products": products}


def fields(ctx: RequestContext) -> dict[str, Any]:
    """The root resolvers for automatic discounts over one shop."""
    book: Discounts = ctx.shop.discounts
    state = ctx.state

    def create(info: Any, automaticBasicDiscount: dict[str, Any]) -> dict[str, Any]:
        ctx.require("write_discounts", "discountAutomaticBasicCreate")
        errors, v = _check(ctx, automaticBasicDiscount)
        if errors:
            return {"automaticDiscountNode": None, "userErrors": errors}
        now = state.now()
        d = Discount(state.new_id(), v["title"], v["pct"], tuple(v["products"]), v["starts"], v["ends"], now, now)
        book.items[d.id] = d
        return {"automaticDiscountNode": _node(d, now), "userErrors": []}

    def deactivate(info: Any, id: str) -> dict[str, Any]:
        ctx.require("write_discounts", "discountAutomaticDeactivate")
        d = book.items.get(gid_number(id)) if id.startswith("gid://shopify/DiscountAutomaticNode/") else None
        if d is None:
            return {"automaticDiscountNode": None,
                    "userErrors": [_error(["id"], "INVALID", "Discount does not exist")]}
        now = state.now()
        if d.status(now) != "EXPIRED":
            # a scheduled one ends before it began: it never runs
            d.starts_at, d.ends_at, d.updated_at = min(d.starts_at, now), now, now
        return {"automaticDiscountNode": _node(d, now), "userErrors": []}

    def read(info: Any, id: str) -> dict[str, Any] | None:
        ctx.require("read_discounts", "automaticDiscountNode")
        d = book.items.get(gid_number(id)) if id.startswith("gid://shopify/DiscountAutomaticNode/") else None
        return None if d is None else _node(d, state.now())

    return {"discountAutomaticBasicCreate": create, "discountAutomaticDeactivate": deactivate,
            "automaticDiscountNode": read}
