"""The product list of the page's alignment chart and product table (``GET …/products``, issue 16).

Read from the ``inventory_alignment`` model of one as-of day: every product with stock or spend, with
its title (``products``), units available, days of cover, spend, attributed revenue, ROAS and status
(the model's ``mismatch_type``: ``spending_on_stockout``, ``overspending_low_stock``,
``underspending_overstock`` or ``aligned``). Without a channel a product's figures are the model's
product level; with one, its regions on that channel summed, and the status the worst of them.
``days_of_cover`` None means the stock does not sell. ``image_url`` and ``image_alt`` are the
product's featured image as the Shopify sync stored it (None for a product without one).

:func:`catalogue` and :func:`with_pictures` give every other product a response names (drilldown
mismatches, alerts, recommendation cards) its title and picture too: the page never shows a gid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tower import sql as sqlfiles
from tower.analytics.snapshots import ALIGNMENT_SQL, SEVERITY

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Warehouse


def _money(x: Any) -> float:
    return round(float(x or 0), 2)


def _cover(x: Any) -> float | None:
    return None if x is None else round(float(x), 1)


PRODUCT_GID = "gid://shopify/Product/"


def _exact_sum(values: Iterable[Any]) -> float:
    """The sum of NUMERIC amounts, exact before it becomes a float: summed as floats, its last bits would
    depend on the order the warehouse returned the rows in (and a half cent could round either way)."""
    return float(sum((v if isinstance(v, Decimal) else Decimal(str(v)) for v in values if v is not None),
                     Decimal(0)))


def catalogue(warehouse: Warehouse, brand_id: str) -> dict[str, dict[str, str | None]]:
    """Product id → ``{"title", "image_url", "image_alt"}`` of every product of the brand."""
    return {str(r["product_id"]): {"title": r["title"], "image_url": r["image_url"], "image_alt": r["image_alt"]}
            for r in warehouse.rows(sqlfiles.load("queries/api/product_titles.sql"), {"brand_id": brand_id})}


def with_pictures(body: Any, known: Mapping[str, Mapping[str, Any]]) -> Any:
    """``body`` with each object that names a product (``product_id``, or a drilldown mismatch's
    ``product`` gid) given the product's ``image_url`` and ``image_alt`` (None when unknown or without
    one) and, when it carries no title, its ``product_title``. A copy: the input is not changed."""
    if isinstance(body, list):
        return [with_pictures(x, known) for x in body]
    if not isinstance(body, dict):
        return body
    out = {k: with_pictures(v, known) for k, v in body.items()}
    pid = out.get("product_id")
    if not isinstance(pid, str):
        named = out.get("product")
        pid = named if isinstance(named, str) and named.startswith(PRODUCT_GID) else None
    if pid is not None:
        found = known.get(pid) or {}
        out.setdefault("image_url", found.get("image_url"))
        out.setdefault("image_alt", found.get("image_alt"))
        if not any(out.get(k) for k in ("title", "product_title")) and found.get("title"):
            out["product_title"] = found["title"]
    return out


def _row(product: Mapping[str, Any], known: Mapping[str, Any], spend: float, revenue: float,
         status: str) -> dict[str, Any]:
    return {"product_id": product["product_id"], "title": known.get("title"), "image_url": known.get("image_url"),
            "image_alt": known.get("image_alt"),
            "available_units": int(product["inventory_units"] or 0), "days_of_cover": _cover(product["days_of_cover"]),
            "spend": _money(spend), "revenue": _money(revenue),
            "roas": round(revenue / spend, 2) if spend else None, "status": status}


def product_list(rows: Sequence[Mapping[str, Any]], known: Mapping[str, Mapping[str, Any]],
                 channel: str = "") -> list[dict[str, Any]]:
    """The products of one day's alignment rows (see the module's docstring), worst status first, then
    the biggest spend."""
    out = []
    for p in (r for r in rows if r["level"] == "product"):
        if channel:
            mine = [r for r in rows if r["level"] != "product" and r["product_id"] == p["product_id"]
                    and r["channel"] == channel]
            spend, revenue = _exact_sum(r["spend_amount"] for r in mine), _exact_sum(
                r["attributed_revenue_amount"] for r in mine)
            status = min((str(r["mismatch_type"]) for r in mine), key=lambda m: SEVERITY.get(m, 9), default="aligned")
        else:
            spend, revenue = float(p["spend_amount"] or 0), float(p["attributed_revenue_amount"] or 0)
            status = str(p["mismatch_type"])
        if spend > 0 or (p["inventory_units"] or 0) > 0:
            out.append(_row(p, known.get(str(p["product_id"])) or {}, spend, revenue, status))
    return sorted(out, key=lambda r: (SEVERITY.get(r["status"], 9), -r["spend"], str(r["title"] or ""),
                                      r["product_id"]))


def products(warehouse: Warehouse, brand_id: str, as_of: date | None, channel: str = "",
             known: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """``{"as_of_date", "channel", "products"}`` of the alignment built for ``as_of`` (None: never built).

    ``known`` is the brand's :func:`catalogue` when the caller has read it already.
    """
    if as_of is None:
        return {"as_of_date": None, "channel": channel or None, "products": []}
    rows = warehouse.rows(ALIGNMENT_SQL, {"brand_id": brand_id, "as_of_date": as_of})
    known = catalogue(warehouse, brand_id) if known is None else known
    return {"as_of_date": as_of.isoformat(), "channel": channel or None,
            "products": product_list(rows, known, channel)}
