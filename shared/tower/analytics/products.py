"""The product list of the page's alignment chart and product table (``GET …/products``, issue 16).

Read from the ``inventory_alignment`` model of one as-of day: every product with stock or spend, with
its title (``products``), units available, days of cover, spend, attributed revenue, ROAS and status
(the model's ``mismatch_type``: ``spending_on_stockout``, ``overspending_low_stock``,
``underspending_overstock`` or ``aligned``). Without a channel a product's figures are the model's
product level; with one, its regions on that channel summed, and the status the worst of them.
``days_of_cover`` None means the stock does not sell. The warehouse holds no product image, so
``image_url`` is None until the catalogue sync brings one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from tower import sql as sqlfiles
from tower.analytics.snapshots import ALIGNMENT_SQL, SEVERITY

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import Warehouse


def _money(x: Any) -> float:
    return round(float(x or 0), 2)


def _cover(x: Any) -> float | None:
    return None if x is None else round(float(x), 1)


def _row(product: Mapping[str, Any], title: str | None, spend: float, revenue: float, status: str) -> dict[str, Any]:
    return {"product_id": product["product_id"], "title": title, "image_url": None,
            "available_units": int(product["inventory_units"] or 0), "days_of_cover": _cover(product["days_of_cover"]),
            "spend": _money(spend), "revenue": _money(revenue),
            "roas": round(revenue / spend, 2) if spend else None, "status": status}


def product_list(rows: Sequence[Mapping[str, Any]], titles: Mapping[str, str], channel: str = "") -> list[dict[str, Any]]:
    """The products of one day's alignment rows (see the module's docstring), worst status first, then
    the biggest spend."""
    out = []
    for p in (r for r in rows if r["level"] == "product"):
        if channel:
            mine = [r for r in rows if r["level"] != "product" and r["product_id"] == p["product_id"]
                    and r["channel"] == channel]
            spend = sum(float(r["spend_amount"] or 0) for r in mine)
            revenue = sum(float(r["attributed_revenue_amount"] or 0) for r in mine)
            status = min((str(r["mismatch_type"]) for r in mine), key=lambda m: SEVERITY.get(m, 9), default="aligned")
        else:
            spend, revenue = float(p["spend_amount"] or 0), float(p["attributed_revenue_amount"] or 0)
            status = str(p["mismatch_type"])
        if spend > 0 or (p["inventory_units"] or 0) > 0:
            out.append(_row(p, titles.get(str(p["product_id"])), spend, revenue, status))
    return sorted(out, key=lambda r: (SEVERITY.get(r["status"], 9), -r["spend"], str(r["title"] or ""),
                                      r["product_id"]))


def products(warehouse: Warehouse, brand_id: str, as_of: date | None, channel: str = "") -> dict[str, Any]:
    """``{"as_of_date", "channel", "products"}`` of the alignment built for ``as_of`` (None: never built)."""
    if as_of is None:
        return {"as_of_date": None, "channel": channel or None, "products": []}
    rows = warehouse.rows(ALIGNMENT_SQL, {"brand_id": brand_id, "as_of_date": as_of})
    titles = {str(r["product_id"]): str(r["title"]) for r in
              warehouse.rows(sqlfiles.load("queries/api/product_titles.sql"), {"brand_id": brand_id}) if r["title"]}
    return {"as_of_date": as_of.isoformat(), "channel": channel or None,
            "products": product_list(rows, titles, channel)}
