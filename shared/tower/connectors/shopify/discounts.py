"""Automatic product discounts on the Admin GraphQL API: what an accepted promotion card launches.

A promotion card says a product's stock covers far more days than it should; accepting it creates an
*automatic* discount (no code to hand out: it applies in the cart and at checkout) of a percentage off
that product, time-boxed by ``startsAt`` / ``endsAt`` — ``discountAutomaticBasicCreate`` with the
``write_discounts`` scope. Undo is ``discountAutomaticDeactivate`` (Shopify sets ``endsAt`` to now:
the discount stays in the admin's history, EXPIRED). ``automaticDiscountNode`` reads one back, so an
Undo can check the discount is still the one we created and still running before touching it.

The product plan sketched a "limited-time discount or bundle"; Shopify's bundle APIs need a bundle
app and components, so the card launches the discount, the part the Admin API does by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tower.connectors.retry import FatalError

_NODE = "id automaticDiscount { ... on DiscountAutomaticBasic { title status startsAt endsAt } }"

CREATE = f"""mutation PromotionDiscountCreate($discount: DiscountAutomaticBasicInput!) {{
  discountAutomaticBasicCreate(automaticBasicDiscount: $discount) {{
    automaticDiscountNode {{ {_NODE} }}
    userErrors {{ field code message }}
  }}
}}"""

DEACTIVATE = f"""mutation PromotionDiscountDeactivate($id: ID!) {{
  discountAutomaticDeactivate(id: $id) {{
    automaticDiscountNode {{ {_NODE} }}
    userErrors {{ field code message }}
  }}
}}"""

READ = f"""query PromotionDiscount($id: ID!) {{
  automaticDiscountNode(id: $id) {{ {_NODE} }}
}}"""


class _Executes(Protocol):
    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Any: ...


class DiscountRejected(FatalError):
    """Shopify refused the discount (its ``userErrors``): a bad input, never retried."""


@dataclass(frozen=True)
class Discount:
    """An automatic discount as Shopify reports it."""

    id: str
    title: str
    status: str  # ACTIVE | SCHEDULED | EXPIRED
    starts_at: str
    ends_at: str | None

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> Discount:
        d = node.get("automaticDiscount") or {}
        return cls(str(node["id"]), str(d.get("title") or ""), str(d.get("status") or ""),
                   str(d.get("startsAt") or ""), d.get("endsAt"))


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _payload(result: Any, field: str) -> Mapping[str, Any]:
    data = getattr(result, "data", result) or {}
    payload = data.get(field) or {}
    errors = payload.get("userErrors") or []
    if errors:
        said = "; ".join(f"{'.'.join(e.get('field') or [])}: {e.get('message')}" for e in errors)
        raise DiscountRejected(f"Shopify refused the discount ({said})", platform="shopify",
                               code=errors[0].get("code"))
    return payload


def create(client: _Executes, *, product_id: str, title: str, percentage: float, starts_at: datetime,
           ends_at: datetime) -> Discount:
    """Create a time-boxed automatic discount of ``percentage`` (0.15 = 15% off) on one product.

    Raises:
        DiscountRejected: Shopify's userErrors (bad dates, percentage, unknown product).
        tower.connectors.retry.NeedsReauth: The token lacks ``write_discounts``.
    """
    variables = {"discount": {
        "title": title,
        "startsAt": _iso(starts_at),
        "endsAt": _iso(ends_at),
        "combinesWith": {"productDiscounts": False, "orderDiscounts": False, "shippingDiscounts": True},
        "context": {"all": "ALL"},
        "customerGets": {"value": {"percentage": round(float(percentage), 4)},
                         "items": {"products": {"productsToAdd": [product_id]}}},
    }}
    payload = _payload(client.execute(CREATE, variables), "discountAutomaticBasicCreate")
    return Discount.from_node(payload["automaticDiscountNode"])


def deactivate(client: _Executes, discount_id: str) -> Discount:
    """End a discount now (it reads EXPIRED from then on; deactivating an expired one changes nothing)."""
    payload = _payload(client.execute(DEACTIVATE, {"id": discount_id}), "discountAutomaticDeactivate")
    return Discount.from_node(payload["automaticDiscountNode"])


def read(client: _Executes, discount_id: str) -> Discount | None:
    """The discount as it is now (None when it no longer exists: deleted in the admin)."""
    result = client.execute(READ, {"id": discount_id})
    node = (getattr(result, "data", result) or {}).get("automaticDiscountNode")
    return None if node is None else Discount.from_node(node)
